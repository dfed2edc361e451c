"""Card numbers are masked at the door: in the landing zone, the raw tables and the quarantine."""

from pathlib import Path

import polars as pl

from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import ensure_raw_schema, ingest_file
from dagster_project.lib.landing import land_file
from dagster_project.lib.pan import luhn_valid, mask_card_numbers, mask_frame
from dagster_project.lib.warehouse import connect
from tests.test_ingest import _order, _write_csv

VISA = "4111111111111111"
AMEX = "378282246310005"


def test_luhn() -> None:
    assert luhn_valid(VISA) and luhn_valid(AMEX) and luhn_valid("5555555555554444")
    assert not luhn_valid("4111111111111112")


def test_card_numbers_are_masked_keeping_first_six_last_four_and_the_length() -> None:
    assert mask_card_numbers(f"card {VISA} paid") == "card 411111******1111 paid"
    assert mask_card_numbers("4111 1111 1111 1111") == "4111 11** **** 1111"
    assert mask_card_numbers(f"amex:{AMEX};") == "amex:378282*****0005;"
    assert mask_card_numbers("5555-5555-5555-4444") == "5555-55**-****-4444"


def test_other_numbers_are_left_alone() -> None:
    untouched = [
        "4111111111111112",  # fails the Luhn check
        "1762000000000000",  # a Unix time in microseconds: no card network starts with 1
        "po_1234567890123456",
        "41111111111",  # too short
        "41111111111111111111111",  # too long: part of a longer number
        "order #1001 of 12.50 EUR",
    ]
    for text in untouched:
        assert mask_card_numbers(text) == text


def test_frames_are_masked_in_every_text_column() -> None:
    frame = pl.DataFrame({"a": [f"x {VISA}", "plain", None], "b": ["1", "2", "3"], "n": [1, 2, 3]})
    masked = mask_frame(frame)
    assert masked["a"].to_list() == ["x 411111******1111", "plain", None]
    assert masked["b"].to_list() == ["1", "2", "3"]
    assert masked["n"].to_list() == [1, 2, 3]


def test_a_card_number_never_reaches_the_landing_zone_or_the_warehouse(home: ReconHome, tmp_path: Path) -> None:
    good = _order("#1001")
    good[1] = f"ada {VISA}@example.com"  # a card number typed into the email field
    bad = _order("#1002", currency="XYZ")  # quarantined, with its raw record
    bad[1] = f"card {AMEX}"
    path = _write_csv(tmp_path / "orders.csv", [good, bad])
    landed = land_file(home.landing, path, "shopify_orders", "acme_eu")
    assert VISA not in landed.read_text() and AMEX not in landed.read_text()
    assert "411111******1111" in landed.read_text()
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, landed, "shopify_orders", "acme_eu")
        assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
        # straight from the original file too: ingest masks whatever it reads
        ingest_file(connection, path, "shopify_orders", "globex_us")
        stored = connection.sql(
            """
            select string_agg(email, '|') from raw.shopify_orders
            union all
            select string_agg(raw_record, '|') from raw.quarantine
            """
        ).fetchall()
    text = " ".join(row[0] or "" for row in stored)
    assert "411111******1111" in text and "378282*****0005" in text
    assert VISA not in text and AMEX not in text
