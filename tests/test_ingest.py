"""Ingest: bad rows are quarantined with file, row, field and reason; nothing is lost twice."""

import json
from pathlib import Path

import pytest

from dagster_project.lib.demo_data import SHOPIFY_COLUMNS
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, ensure_raw_schema, ingest_file
from dagster_project.lib.landing import land_file, landing_fingerprint
from dagster_project.lib.warehouse import connect


def _shopify_row(**values: str) -> list[str]:
    row = [""] * len(SHOPIFY_COLUMNS)
    for header, value in values.items():
        row[SHOPIFY_COLUMNS.index(header.replace("_", " "))] = value
    return row


def _write_csv(path: Path, rows: list[list[str]], extra_lines: list[str] = ()) -> Path:
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHOPIFY_COLUMNS)
        writer.writerows(rows)
        for line in extra_lines:
            handle.write(line + "\n")
    return path


def _order(name: str, total: str = "10.00", currency: str = "EUR") -> list[str]:
    return _shopify_row(
        Name=name, Financial_Status="paid", Currency=currency, Total=total,
        Created_at="2026-11-01 10:00:00 +0100", Lineitem_quantity="1",
    )  # fmt: skip


def test_bad_rows_are_quarantined_and_the_rest_loads(home: ReconHome, tmp_path: Path) -> None:
    malformed = ",".join(["#1004"] + [""] * (len(SHOPIFY_COLUMNS) + 1))
    path = _write_csv(
        tmp_path / "orders.csv",
        [
            _order("#1001"),
            _shopify_row(Name="#1001", Lineitem_quantity="2", Lineitem_name="Second item"),
            _order("#1002", total="12,x0"),
            _order("#1003", currency="XYZ"),
            _order("", total="5.00"),
        ],
        [malformed],
    )
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "shopify_orders", "acme_eu")
        loaded = connection.sql(
            "select name, total, created_at from raw.shopify_orders order by _source_row"
        ).fetchall()
        quarantined = connection.sql(
            "select source_row, field, reason from raw.quarantine order by source_row"
        ).fetchall()
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 2, 4)
    assert [row[0] for row in loaded] == ["#1001", "#1001"]
    assert str(loaded[0][1]) == "10.0000"
    assert loaded[0][2].isoformat() == "2026-11-01T09:00:00"  # converted to UTC
    assert quarantined == [
        (4, "Total", "field 'Total': '12,x0' is not a decimal number"),
        (5, "Currency", "field 'Currency': unknown currency 'XYZ' (not an ISO 4217 code)"),
        (6, "Name", "field 'Name' is required"),
        (7, None, f"malformed row: expected {len(SHOPIFY_COLUMNS)} fields, found {len(SHOPIFY_COLUMNS) + 2}"),
    ]


def test_a_file_landed_twice_is_ingested_once(home: ReconHome, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orders.csv", [_order("#1001")])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        first = ingest_file(connection, path, "shopify_orders", "acme_eu")
        copy = tmp_path / "copy-with-another-name.csv"
        copy.write_bytes(path.read_bytes())
        second = ingest_file(connection, copy, "shopify_orders", "acme_eu")
        count = connection.sql("select count(*) from raw.shopify_orders").fetchall()[0][0]
    assert not first.skipped and second.skipped
    assert count == 1


def test_a_file_without_required_columns_is_rejected_whole(home: ReconHome, tmp_path: Path) -> None:
    path = tmp_path / "not_orders.csv"
    path.write_text("Order,Amount\n#1001,10.00\n")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=r"not_orders.csv: line 1 \(header\) lacks required column\(s\) Name"):
            ingest_file(connection, path, "shopify_orders", "acme_eu")
        assert connection.sql("select count(*) from raw.ingested_files").fetchall()[0][0] == 0


def test_stripe_list_records_are_typed_and_checked(home: ReconHome, tmp_path: Path) -> None:
    good = {
        "id": "txn_1", "type": "charge", "amount": 1050, "fee": 60, "net": 990, "currency": "eur",
        "created": 1793527200, "source": {"id": "ch_1", "object": "charge", "metadata": {"order_id": "#1001"}},
    }  # fmt: skip
    bad_amount = {**good, "id": "txn_2", "amount": "ten"}
    no_id = {key: value for key, value in good.items() if key != "id"}
    path = tmp_path / "bt.json"
    path.write_text(json.dumps({"object": "list", "data": [good, bad_amount, no_id]}))
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "stripe_balance_transactions", "acme_eu")
        row = connection.sql(
            "select id, amount, currency, created, order_id from raw.stripe_balance_transactions"
        ).fetchall()
        reasons = connection.sql("select source_row, reason from raw.quarantine order by 1").fetchall()
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    assert row[0][:3] == ("txn_1", 1050, "EUR") and row[0][4] == "#1001"
    assert reasons == [
        (2, "field 'amount': 'ten' is not a whole number"),
        (3, "field 'id' is required"),
    ]


def test_invalid_json_is_rejected_with_the_file_named(home: ReconHome, tmp_path: Path) -> None:
    path = tmp_path / "truncated.json"
    path.write_text('{"object": "list", "data": [{"id": "txn_1", ')
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match="truncated.json"):
            ingest_file(connection, path, "stripe_balance_transactions", "acme_eu")


def test_landing_keeps_both_files_of_one_name(home: ReconHome, tmp_path: Path) -> None:
    first = _write_csv(tmp_path / "orders.csv", [_order("#1001")])
    landed = land_file(home.landing, first, "shopify_orders", "acme_eu")
    before = landing_fingerprint(home.landing)
    assert land_file(home.landing, first, "shopify_orders", "acme_eu") == landed
    second = _write_csv(tmp_path / "orders.csv", [_order("#1002")])
    other = land_file(home.landing, second, "shopify_orders", "acme_eu")
    assert other != landed and other.exists() and landed.exists()
    assert landing_fingerprint(home.landing) != before
    with pytest.raises(ValueError, match="Unknown profile 'nope'"):
        land_file(home.landing, first, "shopify_orders", "nope")
    with pytest.raises(ValueError, match="Unknown source"):
        land_file(home.landing, first, "shopify_order", "acme_eu")


def test_a_failure_mid_write_leaves_nothing_behind(
    home: ReconHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster_project.lib.ingest as ingest

    path = _write_csv(tmp_path / "orders.csv", [_order("#1001"), _order("#1002", currency="XYZ")])

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ingest, "_register_file", crash)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(OSError, match="disk full"):
            ingest_file(connection, path, "shopify_orders", "acme_eu")
        counts = connection.sql(
            """
            select
                (select count(*) from raw.shopify_orders),
                (select count(*) from raw.quarantine),
                (select count(*) from raw.ingested_files)
            """
        ).fetchall()
    assert counts == [(0, 0, 0)]
    monkeypatch.undo()
    with connect(home.warehouse) as connection:
        result = ingest_file(connection, path, "shopify_orders", "acme_eu")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)


def test_a_rejected_file_is_kept_with_its_reason_and_not_retried(home: ReconHome, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Name,Total\n#1001,caf\xe9\n".encode("latin-1"))
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match="latin1.csv"):
            ingest_file(connection, path, "shopify_orders", "acme_eu")
        again = ingest_file(connection, path, "shopify_orders", "acme_eu")
        reasons = connection.sql("select path, reason from raw.rejected_files").fetchall()
    assert again.skipped
    assert len(reasons) == 1 and reasons[0][0].endswith("latin1.csv")


def test_a_row_that_is_not_text_rejects_its_file_naming_the_line(home: ReconHome, tmp_path: Path) -> None:
    # a malformed row (an extra field) whose bytes are not UTF-8 either, after more good rows
    # than one read buffer holds: the file is rejected with the line, not loaded without the row
    path = tmp_path / "binary_row.csv"
    good = _write_csv(tmp_path / "good.csv", [_order(f"#{n}") for n in range(1000, 1300)]).read_bytes()
    path.write_bytes(good + b"#1300,\xff\xfe,extra,fields\n" + good.split(b"\n", 1)[1])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=r"binary_row.csv: line 302 is not UTF-8 text \(invalid start byte"):
            ingest_file(connection, path, "shopify_orders", "acme_eu")
        loaded = connection.sql("select count(*) from raw.shopify_orders").fetchall()
        reasons = connection.sql("select reason from raw.rejected_files").fetchall()
    assert loaded == [(0,)]
    assert len(reasons) == 1 and "line 302" in reasons[0][0]


def test_one_file_for_two_profiles_loads_for_each(home: ReconHome, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orders.csv", [_order("#1001")])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        first = ingest_file(connection, path, "shopify_orders", "acme_eu")
        second = ingest_file(connection, path, "shopify_orders", "globex_us")
        profiles = connection.sql("select _profile_id from raw.shopify_orders order by 1").fetchall()
    assert not first.skipped and not second.skipped
    assert profiles == [("acme_eu",), ("globex_us",)]


def test_amounts_are_never_truncated(home: ReconHome, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orders.csv", [_order("#1001", total="10.123456")])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "shopify_orders", "acme_eu")
        reasons = connection.sql("select reason from raw.quarantine").fetchall()
    assert result.rows_quarantined == 1
    assert reasons == [("field 'Total': '10.123456' has more than 4 decimal places",)]


def test_a_json_document_without_a_data_list_is_rejected(home: ReconHome, tmp_path: Path) -> None:
    path = tmp_path / "error.json"
    path.write_text('{"error": {"type": "invalid_request_error", "message": "No such object"}}')
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match="error.json: not one JSON list object with a 'data' array"):
            ingest_file(connection, path, "stripe_balance_transactions", "acme_eu")


def test_recon_sources_lists_every_source_with_its_format_and_default_account(tmp_path: Path) -> None:
    import csv as csv_module

    from dagster_project.lib.home import DBT_PROJECT_DIR
    from dagster_project.lib.sources import SOURCES
    from tests.conftest import recon

    listed = json.loads(recon(tmp_path / "home", "sources", "--format", "json").stdout)
    assert {row["source"] for row in listed} == set(SOURCES)
    with open(DBT_PROJECT_DIR / "seeds" / "account_defaults.csv", newline="") as handle:
        chart = {row["account_name"] for row in csv_module.DictReader(handle)}
    for row in listed:
        assert row["format"] and row["raw_table"].startswith("raw.")
        # reference rates belong to no account; every other source's entries land in the default chart
        assert row["default_account"] in chart or row["source"] == "ecb_reference_rates", row
