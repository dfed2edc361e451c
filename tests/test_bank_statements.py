"""Bank statements that check themselves: SWIFT MT940 (plain, German ?NN and Dutch /CODE/
dialects), MT942 interim reports and BAI2 read into raw rows, malformed lines quarantined with
line and field, and every statement (camt.053 too) checked on its own against the lines that
were loaded: one that does not add up is kept and flagged, its siblings load, and finance sees
it as a `statement_out_of_balance` exception; the staged entries in the shape the bank rules
read."""

import json
import re
import tempfile
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.alerts import exception_alerts
from dagster_project.lib.formats import write_camt053, write_camt054
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, IngestResult, ensure_raw_schema, ingest_file, parse_file
from dagster_project.lib.sources import SOURCES
from dagster_project.lib.warehouse import connect
from tests.conftest import dbt, recon

FIXTURES = Path(__file__).parent / "fixtures" / "bank"
PLAIN = (FIXTURES / "mt940_plain.sta").read_text()
GERMAN = (FIXTURES / "mt940_deutsche_bank.sta").read_bytes().decode("latin-1")
DUTCH = (FIXTURES / "mt940_ing.sta").read_text()
BAI2 = (FIXTURES / "bai2_sample.bai").read_text()


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def _replace(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced (a fixture edit that must hit)."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _rows(connection: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    relation = connection.sql(query)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _ingest(home: ReconHome, path: Path, source: str, profile: str = "acme_eu") -> tuple[IngestResult, list, list]:
    """Ingest one file: (result, raw rows by line, quarantined (row, field, reason, raw record))."""
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, source, profile)
        rows = _rows(connection, f"select * from raw.{source} order by _source_row")
        quarantined = connection.sql(
            "select source_row, field, reason, raw_record from raw.quarantine order by source_row"
        ).fetchall()
    return result, rows, quarantined


def _statements(home: ReconHome) -> list[dict]:
    """The statement checks of raw.bank_statements, in file order."""
    with connect(home.warehouse) as connection:
        return _rows(connection, "select * from raw.bank_statements order by file_id, statement_position")


def _checks(home: ReconHome) -> list[tuple]:
    """(statement id, status, difference, rows read, loaded, quarantined) of every statement."""
    return [
        (s["statement_id"], s["check_status"], s["difference"], s["rows_read"], s["rows_loaded"], s["rows_quarantined"])
        for s in _statements(home)
    ]


def _rejected(home: ReconHome, path: Path, source: str, match: str) -> str:
    """Ingest a file that must be rejected whole: its reason, once nothing else was written."""
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=match) as rejection:
            ingest_file(connection, path, source, "acme_eu")
        rejected = connection.sql("select path, reason from raw.rejected_files").fetchall()
        counts = connection.sql(
            f"""
            select
                (select count(*) from raw.{source}),
                (select count(*) from raw.quarantine),
                (select count(*) from raw.ingested_files),
                (select count(*) from raw.bank_statements)
            """
        ).fetchall()[0]
    assert counts == (0, 0, 0, 0)
    assert rejected == [(str(path), str(rejection.value))]
    assert str(rejection.value).startswith(f"{path}: ")
    return str(rejection.value)


def _transaction_lines(text: str, source: str) -> int:
    """How many transactions a file lists: its :61: tags, or its 16 records."""
    marker = ":61:" if source == "mt940" else "16,"
    return sum(line.startswith(marker) for line in text.splitlines())


# --- MT940 -----------------------------------------------------------------------------------


def test_plain_mt940_lines_land_with_their_statement(home: ReconHome, tmp_path: Path) -> None:
    result, rows, quarantined = _ingest(home, _write(tmp_path / "plain.sta", PLAIN), "mt940")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 5, 0) and quarantined == []
    # a row is the line its :61: tag is on
    assert [row["_source_row"] for row in rows] == [6, 10, 12, 23, 25]
    payout, fees, reversed_credit, invoice, reversed_debit = rows
    assert (payout["statement_id"], payout["statement_number"]) == ("STMT261103", "307/1")
    assert (payout["account_id"], payout["currency"]) == ("GB29NWBK60161331926819", "GBP")
    assert (payout["opening_balance"], payout["closing_balance"]) == (Decimal("1000.00"), Decimal("3339.50"))
    assert (payout["opening_balance_date"], payout["closing_balance_date"]) == (date(2026, 11, 2), date(2026, 11, 3))
    assert (payout["amount"], payout["credit_debit"], payout["is_reversal"]) == (Decimal("2500.00"), "CRDT", "false")
    assert (payout["value_date"], payout["booking_date"]) == (date(2026, 11, 3), date(2026, 11, 3))
    assert (payout["transaction_type"], payout["customer_reference"]) == ("NTRF", "PAYOUT-77")
    assert (payout["bank_reference"], payout["supplementary_details"]) == ("BR26110301", "STRIPE PAYMENTS UK")
    # free text: the :86: lines joined with a space
    assert payout["remittance_information"] == "STRIPE PAYOUT po_1GbpAbCdEf2026 STRIPE PAYMENTS UK LTD"
    assert payout["information"] == "STRIPE PAYOUT po_1GbpAbCdEf2026\nSTRIPE PAYMENTS UK LTD"
    assert payout["counterparty_name"] is None and payout["end_to_end_id"] is None
    # NONREF is the spec's "no reference"
    assert (fees["amount"], fees["credit_debit"], fees["customer_reference"]) == (Decimal("120.50"), "DBIT", None)
    # RC reverses a credit: money out; RD reverses a debit: money in
    assert (reversed_credit["credit_debit"], reversed_credit["is_reversal"]) == ("DBIT", "true")
    # no entry date: the value date is the booking date
    assert reversed_credit["booking_date"] == reversed_credit["value_date"] == date(2026, 11, 3)
    assert (reversed_debit["credit_debit"], reversed_debit["is_reversal"], reversed_debit["amount"]) == (
        "CRDT", "true", Decimal("19.99")
    )  # fmt: skip
    # a funds code (D) between the mark and the amount; a SWIFT transfer's type (S103)
    assert (invoice["funds_code"], invoice["amount"], invoice["transaction_type"]) == ("D", Decimal("75.25"), "S103")
    assert (invoice["statement_id"], invoice["opening_balance"]) == ("STMT261104", Decimal("3339.50"))
    # the statement's own :86: (after its closing balance) belongs to no line
    assert all("END OF DAY" not in (row["information"] or "") for row in rows)


def test_german_mt940_reads_its_subfields(home: ReconHome, tmp_path: Path) -> None:
    path = tmp_path / "deutsche_bank.sta"
    path.write_bytes((FIXTURES / "mt940_deutsche_bank.sta").read_bytes())
    assert b"\r\n" in path.read_bytes()
    result, rows, _ = _ingest(home, path, "mt940")
    assert (result.rows_read, result.rows_loaded) == (3, 3)
    stripe, fees, paypal = rows
    assert (stripe["account_id"], stripe["statement_number"]) == ("10070000/0123456700", "00001/001")
    # C and D with the currency's third letter as funds code (EUR: R)
    assert (stripe["credit_debit"], stripe["funds_code"], stripe["amount"]) == ("CRDT", "R", Decimal("4123.45"))
    assert stripe["customer_reference"] is None and stripe["bank_reference"] is None
    # SVWZ+ is the remittance, run on across full ?21/?22 subfields and 65-character lines
    assert stripe["remittance_information"] == "STRIPE PAYOUT po_1QxYzAbCdEfGh2026 ANZAHL 12"
    assert stripe["end_to_end_id"] == "STRIPE-E2E-20261103"
    assert stripe["counterparty_name"] == "STRIPE PAYMENTS EUROPE LIMITED DUBLIN"  # ?32 and ?33
    assert stripe["counterparty_account"] == "IE64CITI99005112345678"  # ?31
    assert stripe["information"].startswith("166?00SEPA-GUTSCHRIFT?109310?20EREF+")
    assert (fees["credit_debit"], fees["remittance_information"], fees["counterparty_name"]) == (
        "DBIT", "Kontofuehrung 11/2026", "DEUTSCHE BANK AG"
    )  # fmt: skip
    # an intermediate statement (:60M:/:62M:); NOTPROVIDED is no reference
    assert (paypal["statement_number"], paypal["opening_balance"], paypal["closing_balance"]) == (
        "00002/001", Decimal("19099.66"), Decimal("20100.16")
    )  # fmt: skip
    assert paypal["remittance_information"] == "PAYPAL TRANSFER 5TY12345AB678901C"
    assert paypal["end_to_end_id"] is None
    assert paypal["counterparty_name"] == "PayPal Europe S.a.r.l. et Cie S.C.A"


def test_dutch_mt940_reads_its_code_pairs(home: ReconHome, tmp_path: Path) -> None:
    result, rows, _ = _ingest(home, _write(tmp_path / "ing.sta", DUTCH), "mt940")
    assert (result.rows_read, result.rows_loaded) == (3, 3)
    stripe, fee, rabobank = rows
    assert (stripe["account_id"], stripe["bank_reference"]) == ("NL69INGB0123456789EUR", "00000000001005")
    assert stripe["supplementary_details"] == "/TRCD/00100/"
    # /REMI/USTD// and /CNTP/account/BIC/name/, wrapped mid-word at 65 characters
    assert stripe["remittance_information"] == "STRIPE PAYOUT po_1NlIngPayout7781"
    assert (stripe["counterparty_name"], stripe["counterparty_account"]) == (
        "STRIPE PAYMENTS EUROPE LTD", "IE29AIBK93115212345678"
    )  # fmt: skip
    assert stripe["end_to_end_id"] == "STRIPE-E2E-7781"
    assert (fee["credit_debit"], fee["amount"], fee["end_to_end_id"]) == ("DBIT", Decimal("12.45"), None)
    assert (fee["remittance_information"], fee["counterparty_name"]) == (
        "Kosten betalingsverkeer oktober",
        "ING BANK NV",
    )
    # Rabobank's /NAME/ and a plain /REMI/
    assert (rabobank["counterparty_name"], rabobank["remittance_information"]) == ("J. Janssen", "Factuur 2026-0042")
    assert (rabobank["end_to_end_id"], rabobank["customer_reference"]) == ("RABO-2611-9", None)


def test_an_entry_date_in_the_next_year_is_booked_in_it(home: ReconHome, tmp_path: Path) -> None:
    text = _replace(PLAIN, ":61:2611041104CD75,25", ":61:2612310102CD75,25")
    _, rows, _ = _ingest(home, _write(tmp_path / "new_year.sta", text), "mt940")
    line = next(row for row in rows if row["_source_row"] == 23)
    assert (line["value_date"], line["booking_date"]) == (date(2026, 12, 31), date(2027, 1, 2))


def test_a_preamble_before_the_first_statement_is_skipped(home: ReconHome, tmp_path: Path) -> None:
    text = "ABNANL2A\n940\nABNANL2A\n" + PLAIN.partition("\n")[2]
    result, rows, _ = _ingest(home, _write(tmp_path / "abn_amro.sta", text), "mt940")
    assert (result.rows_loaded, [row["_source_row"] for row in rows]) == (5, [8, 12, 14, 25, 27])


def test_an_unbalanced_statement_is_kept_and_flagged_and_its_sibling_loads(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "unbalanced.sta", _replace(PLAIN, ":62F:C261104GBP3434,74", ":62F:C261104GBP3434,47"))
    result, rows, quarantined = _ingest(home, path, "mt940")
    # every line of both statements loads: the first balances, the second is kept with its lines
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 5, 0) and quarantined == []
    assert [row["_source_row"] for row in rows] == [6, 10, 12, 23, 25]
    assert _checks(home) == [
        ("STMT261103", "balanced", Decimal("0"), 3, 3, 0),
        ("STMT261104", "out_of_balance", Decimal("-0.27"), 2, 2, 0),
    ]
    flagged = _statements(home)[1]
    assert (flagged["account_id"], flagged["currency"], flagged["statement_date"]) == (
        "GB29NWBK60161331926819", "GBP", date(2026, 11, 4)
    )  # fmt: skip
    assert (flagged["opening_balance"], flagged["closing_balance"], flagged["loaded_total"]) == (
        Decimal("3339.50"), Decimal("3434.47"), Decimal("95.24")
    )  # fmt: skip
    assert flagged["loaded_rows"] == [23, 25] and flagged["statement_row"] == 19
    assert flagged["reason"] == (
        "statement 'STMT261104' of account 'GB29NWBK60161331926819' (line 19): does not balance: opening balance "
        "3339.50 GBP + its lines 95.24 = 3434.74 GBP, but its closing balance is 3434.47 GBP (a difference of -0.27)"
    )


def test_recon_statements_lists_each_statement_with_its_check(home: ReconHome, tmp_path: Path) -> None:
    """Known as soon as the file is ingested, before any run."""
    path = _write(tmp_path / "unbalanced.sta", _replace(PLAIN, ":62F:C261104GBP3434,74", ":62F:C261104GBP3434,47"))
    _ingest(home, path, "mt940")
    listed = json.loads(recon(home.root, "statements", "--status", "out_of_balance", "--format", "json").stdout)
    assert [
        (s["statement_id"], s["account_id"], s["line"], s["difference"], s["rows_loaded"], s["source_file"])
        for s in listed
    ] == [("STMT261104", "GB29NWBK60161331926819", 19, "-0.2700", 2, str(path))]
    assert listed[0]["reason"].endswith("(a difference of -0.27)")
    every = json.loads(recon(home.root, "statements", "--format", "json").stdout)
    assert [s["check_status"] for s in every] == ["balanced", "out_of_balance"]


def test_a_statement_with_a_quarantined_line_is_flagged(home: ReconHome, tmp_path: Path) -> None:
    """A balanced statement whose line could not be loaded (an amount without its decimal
    comma) no longer adds up: its loaded lines are short by the quarantined amount."""
    text = _replace(PLAIN, ":61:2611041104CD75,25", ":61:2611041104CD75")
    result, _, quarantined = _ingest(home, _write(tmp_path / "short.sta", text), "mt940")
    assert (result.rows_loaded, result.rows_quarantined, [row[:2] for row in quarantined]) == (
        4, 1, [(23, ":61:/amount")]
    )  # fmt: skip
    assert _checks(home) == [
        ("STMT261103", "balanced", Decimal("0"), 3, 3, 0),
        ("STMT261104", "out_of_balance", Decimal("75.25"), 2, 1, 1),
    ]
    assert _statements(home)[1]["reason"].endswith("(a difference of 75.25) (1 of its 2 lines quarantined)")


def test_a_balance_the_warehouse_cannot_keep_exactly_is_not_rounded_into_it(home: ReconHome, tmp_path: Path) -> None:
    """Five decimal places balance as written, but amounts are kept as decimal(18, 4): the
    statement is recorded as not checked, with why, and not with a rounded balance."""
    text = _replace(PLAIN, ":60F:C261102GBP1000,00", ":60F:C261102GBP1000,00001")
    text = _replace(text, ":62F:C261103GBP3339,50", ":62F:C261103GBP3339,50001")
    _, _, quarantined = _ingest(home, _write(tmp_path / "decimals.sta", text), "mt940")
    assert {row[0] for row in quarantined} == {6, 10, 12}
    first = _statements(home)[0]
    assert (first["check_status"], first["opening_balance"], first["difference"]) == ("not_checked", None, None)
    assert first["reason"].endswith(
        "its amount 1000.00001 cannot be kept exactly (at most 14 digits before the decimal point and 4 after it), "
        "so it is not checked"
    )


def test_headers_repeated_before_each_statement_are_skipped(home: ReconHome, tmp_path: Path) -> None:
    """ABN AMRO writes its BIC, 940 and its BIC again before every statement, not only the first."""
    header = "ABNANL2A\n940\nABNANL2A\n"
    first, _, second = PLAIN.partition("-}\n")
    text = header + first.partition("\n")[2] + "-\n" + header + second.partition("\n")[2].replace("-}{5:", "-\n{5:")
    text = text.replace("-\n{5:{CHK:123456789ABC}}", "-")
    path = _write(tmp_path / "abn_amro.sta", text)
    result, rows, _ = _ingest(home, path, "mt940")
    assert (result.rows_loaded, result.rows_quarantined) == (5, 0)
    assert {row["statement_id"] for row in rows} == {"STMT261103", "STMT261104"}
    assert [check[1] for check in _checks(home)] == ["balanced", "balanced"]


def test_a_statement_that_cannot_be_read_as_one_does_not_stop_its_siblings(home: ReconHome, tmp_path: Path) -> None:
    text = _replace(PLAIN, ":60F:C261102GBP1000,00\n", "")
    result, rows, quarantined = _ingest(home, _write(tmp_path / "no_opening.sta", text), "mt940")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 3)
    assert {row["statement_id"] for row in rows} == {"STMT261104"}
    reason = (
        "statement 'STMT261103' of account 'GB29NWBK60161331926819' (line 2): it has no :60F: or :60M: (the "
        "opening balance); an MT940 statement has exactly one"
    )
    assert [row[:3] for row in quarantined] == [(line, ":60F:", reason) for line in (5, 9, 11)]
    assert [check[:2] for check in _checks(home)] == [("STMT261103", "not_checked"), ("STMT261104", "balanced")]


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (":62F:C261103GBP3339,50\n", "", "it gives no closing balance (:62F: or :62M:) to check its lines against"),
        (":62F:C261103GBP3339,50", ":62F:C2611033339,50",
         "field ':62F:/currency': unknown currency '333' (not an ISO 4217 code)"),
    ],
)  # fmt: skip
def test_a_statement_whose_closing_balance_cannot_be_read_loads_its_lines_unchecked(
    home: ReconHome, tmp_path: Path, old: str, new: str, reason: str
) -> None:
    # the opening balance gives the lines their currency: without a readable closing balance the
    # lines are still what they say, and only the statement cannot be checked
    result, _, quarantined = _ingest(home, _write(tmp_path / "closing.sta", _replace(PLAIN, old, new)), "mt940")
    assert (result.rows_loaded, result.rows_quarantined, quarantined) == (5, 0, [])
    statements = {s["statement_id"]: s for s in _statements(home)}
    assert statements["STMT261103"]["check_status"] == "not_checked"
    assert reason in statements["STMT261103"]["reason"]
    assert statements["STMT261104"]["check_status"] == "balanced"


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        (":25:GB29NWBK60161331926819\n:28C:308/1", ":28C:308/1", ":25:",
         r"statement 'STMT261104' \(line 19\): it has no :25: or :25P: \(the account\)"),
        (":60F:C261103GBP3339,50", ":60F:C261103EUR3339,50", ":62F:/currency",
         r"opening balance is in EUR but its closing balance in GBP"),
    ],
)  # fmt: skip
def test_a_statement_without_its_parts_quarantines_its_lines(
    home: ReconHome, tmp_path: Path, old: str, new: str, field: str, reason: str
) -> None:
    result, _, quarantined = _ingest(home, _write(tmp_path / "statement.sta", _replace(PLAIN, old, new)), "mt940")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 2)
    assert all(row[1] == field and re.search(reason, row[2]) for row in quarantined)


def test_the_parts_of_a_statement_chain_by_their_sequence_numbers(home: ReconHome, tmp_path: Path) -> None:
    """Part 2 of statement 308 opens (:60M:) where part 1 closed (:62M:); a part that does not
    is flagged though its own lines add up."""
    two_parts = _replace(PLAIN, ":28C:307/1", ":28C:308/1")
    two_parts = _replace(two_parts, ":62F:C261103GBP3339,50", ":62M:C261103GBP3339,50")
    two_parts = _replace(two_parts, ":28C:308/1\n:60F:C261103GBP3339,50", ":28C:308/2\n:60M:C261103GBP3339,50")
    _ingest(home, _write(tmp_path / "chained.sta", two_parts), "mt940")
    broken = _replace(two_parts, ":60M:C261103GBP3339,50", ":60M:C261103GBP3339,60")
    broken = _replace(broken, ":62F:C261104GBP3434,74", ":62F:C261104GBP3434,84")
    with connect(home.warehouse) as connection:
        ingest_file(connection, _write(tmp_path / "broken.sta", broken), "mt940", "acme_eu")
    statements = _statements(home)
    by_file = {(Path(s["source_file"]).stem, s["statement_number"]): s for s in statements}
    assert by_file[("chained", "308/2")]["check_status"] == "balanced"
    flagged = by_file[("broken", "308/2")]
    assert (flagged["check_status"], flagged["difference"]) == ("out_of_balance", Decimal("0"))
    assert flagged["reason"].endswith(
        "its intermediate opening balance (:60M:) 3339.60 is not the closing balance 3339.50 of the part before "
        "it (:28C: 308/1, line 2)"
    )


def test_a_statement_line_without_a_transaction_code_in_cyrillic_text_loads(home: ReconHome, tmp_path: Path) -> None:
    """S and three spaces (no identification code), a funds code, a non-SWIFT :NS: field and
    UTF-8 text in Cyrillic: the lines load and the statement balances."""
    text = (
        ":20:STARTUMS\r\n:25:40702810900000012345\r\n:28:00017\r\n:NS:22ООО Ромашка\r\n23Выписка\r\n"
        ":60F:C261103UAH100000,00\r\n"
        ":61:2611031103DF2500,00S   X\r\n:NS:09Комиссия банка: 12.50UAH\r\n15ПАО Банк\r\n"
        ":61:2611031103CF10000,00S   Y\r\n:NS:09Оплата по счёту 42\r\n"
        ":61:2611031103DF1234,56S   Z\r\n"
        ":62F:C261103UAH106265,44\r\n:64:C261103UAH106265,44\r\n"
    )
    result, rows, quarantined = _ingest(home, _write(tmp_path / "vypiska.sta", text), "mt940")
    assert (result.rows_loaded, result.rows_quarantined, quarantined) == (3, 0, [])
    assert [(row["credit_debit"], row["funds_code"], row["amount"]) for row in rows] == [
        ("DBIT", "F", Decimal("2500.00")), ("CRDT", "F", Decimal("10000.00")), ("DBIT", "F", Decimal("1234.56"))
    ]  # fmt: skip
    assert (rows[0]["transaction_type"], rows[0]["customer_reference"]) == ("S", "X")
    assert "Комиссия банка" in rows[0]["supplementary_details"]
    assert [check[:2] for check in _checks(home)] == [("STARTUMS", "balanced")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Name,Total\n#1001,10.00\n", r"no MT940 statement in the file \(no :20: tag\); is this an MT940 file\?"),
        ("", r"no MT940 statement in the file \(no :20: tag\)"),
        (_replace(PLAIN, "-}\n{1:F01", "-}\nstray text\n{1:F01"),
         r"line 18: 'stray text' is outside any statement \(a statement starts with its :20: tag\)"),
        ("\x00\x01:20:X", r"binary content \(NUL bytes\) where MT940 text was expected"),
    ],
)  # fmt: skip
def test_an_unreadable_mt940_file_is_rejected_whole(home: ReconHome, tmp_path: Path, content: str, reason: str) -> None:
    _rejected(home, _write(tmp_path / "statement.sta", content), "mt940", reason)


# --- MT942 -----------------------------------------------------------------------------------


MT942 = (FIXTURES / "mt942_interim.sta").read_text()


def test_an_mt942_interim_report_loads_and_checks_its_totals(home: ReconHome, tmp_path: Path) -> None:
    result, rows, quarantined = _ingest(home, _write(tmp_path / "intraday.sta", MT942), "mt942")
    assert (result.rows_read, result.rows_loaded, quarantined) == (3, 3, [])
    first = rows[0]
    assert (first["statement_id"], first["account_id"], first["currency"]) == (
        "INTRA261104A", "DE89370400440532013000", "EUR"
    )  # fmt: skip
    assert first["reported_at"] == datetime(2026, 11, 4, 10, 45)  # 11:45 at +01:00
    assert (first["floor_limit"], first["debit_count"], first["debit_total"]) == ("0,", 1, Decimal("12.40"))
    assert (first["credit_count"], first["credit_total"]) == (2, Decimal("1750.10"))
    assert (first["amount"], first["credit_debit"], first["bank_reference"]) == (
        Decimal("1500.00"), "CRDT", "B261104001"
    )  # fmt: skip
    assert _checks(home) == [("INTRA261104A", "balanced", Decimal("0"), 3, 3, 0)]
    assert _statements(home)[0]["check_kind"] == "interim_totals"


def test_an_mt942_whose_totals_its_lines_do_not_reach_is_flagged(home: ReconHome, tmp_path: Path) -> None:
    text = _replace(MT942, ":90C:2EUR1750,10", ":90C:3EUR1750,20")
    _ingest(home, _write(tmp_path / "intraday.sta", text), "mt942")
    [check] = _statements(home)
    assert (check["check_status"], check["difference"]) == ("out_of_balance", Decimal("0.10"))
    assert check["reason"].endswith("(a difference of 0.10); it gives 4 lines, but 3 were loaded")


def test_an_mt942_without_totals_loads_unchecked_and_an_mt940_source_names_the_other(
    home: ReconHome, tmp_path: Path
) -> None:
    text = _replace(MT942, ":90D:1EUR12,40\n:90C:2EUR1750,10\n", "")
    result, _, _ = _ingest(home, _write(tmp_path / "intraday.sta", text), "mt942")
    assert result.rows_loaded == 3 and _checks(home)[0][1] == "not_checked"
    result, _, quarantined = _ingest(home, _write(tmp_path / "as_mt940.sta", MT942), "mt940")
    assert result.rows_loaded == 0
    assert quarantined[0][2].endswith(
        "it is an MT942 interim report (:13D:/:34F:, no :60F:); ingest it as source mt942"
    )


# --- BAI2 ------------------------------------------------------------------------------------


def test_bai2_transactions_land_with_their_account_and_group(home: ReconHome, tmp_path: Path) -> None:
    result, rows, _ = _ingest(home, _write(tmp_path / "report.bai", BAI2), "bai2", "globex_us")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 5, 0)
    assert [row["_source_row"] for row in rows] == [5, 7, 8, 11, 16]
    stripe, paypal, check, fees, lockbox = rows
    assert (stripe["originator_id"], stripe["account_id"], stripe["currency"]) == ("121000248", "4567890123", "USD")
    assert stripe["booking_date"] == date(2026, 11, 3)  # the group's as-of date
    assert (stripe["opening_ledger"], stripe["closing_ledger"]) == (Decimal("15000.00"), Decimal("21625.00"))
    # cents, exactly; a credit type code
    assert (stripe["type_code"], stripe["amount"], stripe["credit_debit"]) == ("165", Decimal("5000.00"), "CRDT")
    assert (stripe["bank_reference"], stripe["customer_reference"]) == ("BR261103001", "PAYOUT-1103")
    # a text continued on an 88 without a slash
    assert stripe["text"] == "STRIPE TRANSFER po_1UsdBai2Payout1103 STRIPE PAYMENTS COMPANY"
    # value dated (funds type V: a date and a time before the references); a comma in the text
    assert (paypal["funds_type"], paypal["value_date"], paypal["amount"]) == (
        "V",
        date(2026, 11, 4),
        Decimal("2125.00"),
    )
    assert (paypal["bank_reference"], paypal["customer_reference"]) == ("BR261103002", None)
    assert paypal["text"] == "PAYPAL TRANSFER, REF 9WD00000AB678901E"
    assert (check["type_code"], check["credit_debit"], check["text"]) == ("475", "DBIT", "CHECK PAID")
    # a currency without minor units
    assert (fees["currency"], fees["amount"], fees["credit_debit"]) == ("JPY", Decimal("15000"), "DBIT")
    # a group without a currency is in USD; funds type S carries three availability amounts
    assert (lockbox["currency"], lockbox["booking_date"], lockbox["amount"]) == (
        "USD",
        date(2026, 11, 4),
        Decimal("3000.00"),
    )
    assert (lockbox["funds_type"], lockbox["bank_reference"], lockbox["text"]) == (
        "S",
        "BR261104001",
        "LOCKBOX DEPOSIT",
    )


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("49,5187500,7/", "49,5187500,6/", r"\(49 at line 9\) gives number of records 6, but 7 is computed"),
        ("98,7187500,2,12/", "98,7187000,2,12/",
         r"the group of line 2 does not add up: its trailer \(98 at line 13\) gives group control total 7187000, "
         r"but 7187500"),
        ("98,7187500,2,12/", "98,7187500,3,12/", r"gives number of accounts 3, but 2 is computed"),
        ("99,9650000,2,19/", "99,9650001,2,19/",
         r"the file does not add up: .* file control total 9650001, but 9650000"),
        ("99,9650000,2,19/", "99,9650000,2,18/", r"the file does not add up: .* number of records 18, but 19"),
        ("99,9650000,2,19/\n", "", r"the file ends inside the file: a 02 or 99 record is missing"),
        ("49,2000000,3/\n", "", r"line 12: a 98 record where account '7788990011' \(03 at line 10\) expects 16 or 49"),
        ("80,,2/", "80,,3/", r"line 1: BAI version '3' in the file header; only 2 \(BAI2\) is read"),
        ("16,451,", "17,451,", r"line 11: '17,451,.*' does not start with a BAI2 record code"),
        ("49,2000000,3/", "49,2OOOOOO,3/",
         r"line 12: the account control total of the 49 record, '2OOOOOO', is not a number"),
    ],
)  # fmt: skip
def test_a_bai2_file_whose_controls_do_not_add_up_is_rejected_whole(
    home: ReconHome, tmp_path: Path, old: str, new: str, reason: str
) -> None:
    _rejected(home, _write(tmp_path / "report.bai", _replace(BAI2, old, new)), "bai2", reason)


def test_malformed_bai2_transactions_are_quarantined_and_the_rest_loads(home: ReconHome, tmp_path: Path) -> None:
    text = _replace(BAI2, "16,165,500000,Z", "16,165,5OOOOO,Z")  # letters O for zeros
    text = _replace(text, "V,261104,1200", "V,261140,1200")  # no 40 November
    text = _replace(text, "16,475,50000", "16,010,50000")  # a balance code, not a transaction
    text = _replace(text, "03,7788990011,JPY", "03,7788990011,XYZ")  # no such currency
    result, rows, quarantined = _ingest(home, _write(tmp_path / "malformed.bai", text), "bai2", "globex_us")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 1, 4)
    assert [row["_source_row"] for row in rows] == [16]
    assert [row[:3] for row in quarantined] == [
        (5, "16/amount", "field '16/amount': '5OOOOO' is not a whole number of minor units"),
        (7, "16/value_date", "field '16/value_date': '261140' is not a date (YYMMDD)"),
        (8, "16/type_code", "field '16/type_code': type code 010 is not a transaction (credits are 100-399 and "
                            "920-959, debits 400-699 and 960-999)"),
        (11, "03/currency", "field '03/currency': unknown currency 'XYZ' (not an ISO 4217 code)"),
    ]  # fmt: skip
    # a transaction keeps its continuations in the quarantine
    assert (
        quarantined[0][3]
        == "16,165,5OOOOO,Z,BR261103001,PAYOUT-1103,STRIPE TRANSFER po_1UsdBai2Payout1103\n88,STRIPE PAYMENTS COMPANY"
    )


def test_an_account_whose_transactions_miss_its_control_total_is_kept_and_flagged(
    home: ReconHome, tmp_path: Path
) -> None:
    text = _replace(BAI2, "49,5187500,7/", "49,5187501,7/")
    text = _replace(text, "98,7187500,2,12/", "98,7187501,2,12/")
    text = _replace(text, "99,9650000,2,19/", "99,9650001,2,19/")
    result, _, _ = _ingest(home, _write(tmp_path / "report.bai", text), "bai2", "globex_us")
    assert (result.rows_loaded, result.rows_quarantined) == (5, 0)
    assert _checks(home) == [
        ("4567890123", "out_of_balance", Decimal("0.01"), 3, 3, 0),
        ("7788990011", "balanced", Decimal("0"), 1, 1, 0),
        ("4567890123", "balanced", Decimal("0"), 1, 1, 0),
    ]
    assert _statements(home)[0]["reason"] == (
        "account '4567890123' (03 at line 3): does not add up: its lines add up to 7625.00 USD, but it states "
        "7625.01 USD (a difference of 0.01)"
    )


def test_an_unreadable_amount_leaves_its_account_flagged_but_not_the_file(home: ReconHome, tmp_path: Path) -> None:
    """An account whose transaction amount cannot be read is short of its control total by it:
    the quarantine says why; the group and file totals, built from the accounts' stated totals,
    still hold."""
    text = _replace(BAI2, "16,165,500000,Z", "16,165,5OOOOO,Z")
    text = _replace(text, "49,5187500,7/", "49,5187600,7/")
    text = _replace(text, "98,7187500,2,12/", "98,7187600,2,12/")
    text = _replace(text, "99,9650000,2,19/", "99,9650100,2,19/")
    result, _, _ = _ingest(home, _write(tmp_path / "unprovable.bai", text), "bai2", "globex_us")
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)
    assert _checks(home)[0] == ("4567890123", "out_of_balance", Decimal("5001.00"), 3, 2, 1)


# 03 amounts continued on 88s, each line ending ",,,/" (a field more than the summary needs),
# a transaction's text continued on an 88: the 49 total is every amount of 03, 88 and 16
BAI2_CONTINUED = """01,SVBKUS6S,ACMECORP,261104,0700,1,,,2/
02,ACMECORP,SVBKUS6S,1,261103,,USD,2/
03,9876543210,USD,010,1200000,,,015,1325000,,,/
88,040,1100000,,,045,1325000,,,/
88,072,000,,,074,000,,,/
88,100,125000,1,,400,000,0,/
16,142,125000,,B26110301,/
88,STRIPE TRANSFER po_1SvbContinued0001
49,5200000,7/
98,5200000,1,9/
99,5200000,1,11/
"""


def test_a_bai2_control_total_counts_the_account_summaries_and_their_continuations(
    home: ReconHome, tmp_path: Path
) -> None:
    result, rows, _ = _ingest(home, _write(tmp_path / "svb.bai", BAI2_CONTINUED), "bai2", "globex_us")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert (rows[0]["amount"], rows[0]["text"]) == (Decimal("1250.00"), "STRIPE TRANSFER po_1SvbContinued0001")
    assert (rows[0]["opening_ledger"], rows[0]["closing_ledger"]) == (Decimal("12000.00"), Decimal("13250.00"))
    assert _checks(home) == [("9876543210", "balanced", Decimal("0"), 1, 1, 0)]


def test_a_blank_bai2_control_total_is_not_given_and_not_checked(home: ReconHome, tmp_path: Path) -> None:
    text = "\n".join(
        [
            "01,BANKUS33,ACMECORP,261104,0600,7,,,2/",
            "02,ACMECORP,BANKUS33,1,261103,,USD,2/",
            "03,1111111111,/",
            "49,,2/",
            "03,2222222222,USD,010,5000,,/",
            "16,165,2500,Z,B1,,ACH CREDIT/",
            "49,,3/",
            "98,,2,7/",
            "99,,1,9/",
        ]
    )
    result, _, _ = _ingest(home, _write(tmp_path / "blank.bai", text), "bai2", "globex_us")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    statements = _statements(home)
    assert [(s["account_id"], s["check_status"], s["rows_loaded"]) for s in statements] == [
        ("1111111111", "not_checked", 0),
        ("2222222222", "not_checked", 1),
    ]
    assert statements[1]["reason"] == (
        "account '2222222222' (03 at line 5): its trailer (49 at line 7) gives no account control total"
    )


# --- camt.053 --------------------------------------------------------------------------------


def _camt053_entries() -> list[dict]:
    return [
        {
            "amount_minor": 41234,
            "credit_debit": "CRDT",
            "booking_date": date(2026, 11, 3),
            "account_servicer_ref": "A1",
        },
        {"amount_minor": 1999, "credit_debit": "DBIT", "booking_date": date(2026, 11, 3), "account_servicer_ref": "A2"},
        # pending: no part of the booked balance
        {"amount_minor": 500, "credit_debit": "CRDT", "booking_date": date(2026, 11, 3), "status": "PDNG"},
    ]


def _camt053(tmp_path: Path) -> Path:
    return write_camt053(
        tmp_path / "statement.xml",
        statement_id="S-1",
        iban="DE89370400440532013000",
        currency="EUR",
        opening_balance_minor=10000,
        entries=_camt053_entries(),
        created_at=datetime(2026, 11, 4, 6, tzinfo=UTC),
    )


def test_a_camt053_statement_that_balances_loads(home: ReconHome, tmp_path: Path) -> None:
    result, rows, _ = _ingest(home, _camt053(tmp_path), "camt053")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert rows[0]["opening_balance"] + Decimal("412.34") - Decimal("19.99") == rows[0]["closing_balance"]


def test_a_camt053_statement_that_does_not_balance_is_kept_and_flagged(home: ReconHome, tmp_path: Path) -> None:
    path = _camt053(tmp_path)
    # 100.00 + 412.34 - 19.99 = 492.35: the statement claims a cent more
    path.write_text(_replace(path.read_text(), '<Amt Ccy="EUR">492.35</Amt>', '<Amt Ccy="EUR">492.36</Amt>'))
    result, _, _ = _ingest(home, path, "camt053")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert _checks(home) == [("S-1", "out_of_balance", Decimal("0.01"), 3, 3, 0)]
    assert _statements(home)[0]["reason"] == (
        "statement 'S-1' of account 'DE89370400440532013000': does not balance: opening balance 100.00 EUR + its "
        "lines 392.35 = 492.35 EUR, but its closing balance is 492.36 EUR (a difference of 0.01)"
    )


def test_an_entry_quarantined_by_its_cast_leaves_its_statement_flagged(home: ReconHome, tmp_path: Path) -> None:
    """The check counts the entries that were loaded, whichever step quarantined the others:
    here the cast of the entry's currency, after the reader had read the entry."""
    path = _camt053(tmp_path)
    path.write_text(_replace(path.read_text(), '<Amt Ccy="EUR">19.99</Amt>', '<Amt Ccy="XYZ">19.99</Amt>'))
    result, _, quarantined = _ingest(home, path, "camt053")
    assert (result.rows_loaded, [row[:2] for row in quarantined]) == (2, [(2, "Amt/@Ccy")])
    assert _checks(home) == [("S-1", "out_of_balance", Decimal("-19.99"), 3, 2, 1)]


# --- camt.054 --------------------------------------------------------------------------------

CAMT054 = FIXTURES / "camt054_notification.xml"


def _camt054(tmp_path: Path, *, summary: bool = True) -> Path:
    return write_camt054(
        tmp_path / "notification.xml",
        notification_id="N-1",
        iban="DE89370400440532013000",
        currency="EUR",
        entries=_camt053_entries(),
        created_at=datetime(2026, 11, 3, 10, 15, tzinfo=UTC),
        summary=summary,
    )


def test_a_camt054_notification_loads_its_entries_with_their_notification(home: ReconHome, tmp_path: Path) -> None:
    result, rows, quarantined = _ingest(home, _write(tmp_path / "notification.xml", CAMT054.read_text()), "camt054")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, quarantined) == (2, 2, 0, [])
    assert [(r["notification_id"], r["account_iban"], r["amount"], r["credit_debit"], r["status"]) for r in rows] == [
        ("NTF-20261103-A-1", "0532013000", Decimal("4123.45"), "CRDT", "BOOK"),
        ("NTF-20261103-A-1", "0532013000", Decimal("99.99"), "DBIT", "PDNG"),
    ]
    assert rows[0]["notified_at"] == datetime(2026, 11, 3, 9, 15)  # 10:15 at +01:00
    assert (rows[0]["remittance_information"], rows[0]["debtor_name"]) == (
        "STRIPE po_1QxYzAbCdEfGh2026 PAYOUT", "STRIPE PAYMENTS EUROPE LTD"
    )  # fmt: skip
    # a pending entry has no booking date yet, only its value date
    assert (rows[1]["booking_date"], rows[1]["value_date"]) == (None, date(2026, 11, 4))
    [check] = _statements(home)
    assert (check["statement_id"], check["account_id"], check["check_kind"], check["check_status"]) == (
        "NTF-20261103-A-1", "0532013000", "transaction_summary", "balanced"
    )  # fmt: skip
    # the summary counts every entry it reports, booked or pending
    assert (check["expected_total"], check["loaded_total"], check["statement_date"]) == (
        Decimal("4023.46"), Decimal("4023.46"), date(2026, 11, 3)
    )  # fmt: skip


def test_a_camt054_whose_entries_miss_its_summary_is_kept_and_flagged(home: ReconHome, tmp_path: Path) -> None:
    path = _camt054(tmp_path)
    # the pending credit notified as 5.01, where the summary counted 5.00
    path.write_text(_replace(path.read_text(), '<Amt Ccy="EUR">5.00</Amt>', '<Amt Ccy="EUR">5.01</Amt>'))
    result, _, _ = _ingest(home, path, "camt054")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert _checks(home) == [("N-1", "out_of_balance", Decimal("-0.01"), 3, 3, 0)]
    assert _statements(home)[0]["reason"] == (
        "notification 'N-1' of account 'DE89370400440532013000': does not add up: its lines add up to 397.36 EUR, "
        "but it states 397.35 EUR (a difference of -0.01)"
    )


def test_a_camt054_without_a_summary_loads_and_is_not_checked(home: ReconHome, tmp_path: Path) -> None:
    result, _, _ = _ingest(home, _camt054(tmp_path, summary=False), "camt054")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert _checks(home) == [("N-1", "not_checked", None, 3, 3, 0)]
    assert _statements(home)[0]["reason"] == (
        "notification 'N-1' of account 'DE89370400440532013000': a notification has no balances, and it gives no "
        "totals (TxsSummry: TtlNetNtry, or TtlCdtNtries and TtlDbtNtries) to check its entries against"
    )


@pytest.mark.parametrize(
    ("landed_as", "message"),
    [
        (
            "camt054",
            "namespace 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08' is not camt.054 "
            "(urn:iso:std:iso:20022:tech:xsd:camt.054.001.NN); it is a camt.053 bank statement: ingest it as source "
            "'camt053'",
        ),
        (
            "camt053",
            "namespace 'urn:iso:std:iso:20022:tech:xsd:camt.054.001.08' is not camt.053 "
            "(urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN); it is a camt.054 debit/credit notification: ingest it "
            "as source 'camt054'",
        ),
    ],
)
def test_a_camt053_and_a_camt054_landed_as_each_other_are_refused_naming_the_namespace(
    home: ReconHome, tmp_path: Path, landed_as: str, message: str
) -> None:
    path = _camt053(tmp_path) if landed_as == "camt054" else _camt054(tmp_path)
    assert _rejected(home, path, landed_as, re.escape(message)) == f"{path}: {message}"


def test_a_zipped_camt054_loads_like_its_unzipped_notification(home: ReconHome, tmp_path: Path) -> None:
    archive = tmp_path / "notifications.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(CAMT054, "camt054_notification.xml")
    result, rows, _ = _ingest(home, archive, "camt054")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 2, 0)
    assert [row["_source_file"] for row in rows] == [f"{archive}!camt054_notification.xml"] * 2
    assert [row["account_servicer_ref"] for row in rows] == ["2026110300001", "2026110300002"]
    assert [(s["statement_id"], s["check_status"]) for s in _statements(home)] == [("NTF-20261103-A-1", "balanced")]


# --- every transaction is accounted for ------------------------------------------------------


MALFORMED_MT940 = _replace(_replace(PLAIN, "D120,50NMSC", "D120.50NMSC"), "261103RC40,00", "261103XC40,00")
MALFORMED_BAI2 = _replace(_replace(BAI2, "16,165,500000,Z", "16,165,5OOOOO,Z"), "16,475,50000", "16,010,50000")


@pytest.mark.parametrize(
    ("source", "text"),
    [("mt940", PLAIN), ("mt940", GERMAN), ("mt940", DUTCH), ("mt940", MALFORMED_MT940), ("bai2", BAI2),
     ("bai2", MALFORMED_BAI2)],
)  # fmt: skip
def test_every_transaction_line_is_loaded_or_quarantined(
    home: ReconHome, tmp_path: Path, source: str, text: str
) -> None:
    result, rows, quarantined = _ingest(home, _write(tmp_path / "statement.txt", text), source)
    lines = _transaction_lines(text, source)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == lines
    assert (len(rows), len(quarantined)) == (result.rows_loaded, result.rows_quarantined)
    assert sorted([row["_source_row"] for row in rows] + [row[0] for row in quarantined]) == [
        number for number, line in enumerate(text.splitlines(), start=1) if line.startswith((":61:", "16,"))
    ]


# --- staging: the shape of camt.053 entries, read by the bank rules ----------------------------


def test_statement_lines_are_staged_as_bank_entries_the_bank_rules_read(home: ReconHome, tmp_path: Path) -> None:
    files = [
        ("mt940", _write(tmp_path / "plain.sta", PLAIN), "acme_eu"),
        ("mt940", _write(tmp_path / "german.sta", GERMAN), "acme_eu"),
        ("mt940", _write(tmp_path / "ing.sta", DUTCH), "acme_eu"),
        ("bai2", _write(tmp_path / "report.bai", BAI2), "globex_us"),
    ]
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        for source, path, profile in files:
            ingest_file(connection, path, source, profile)
    assert dbt(home, "seed", "--select", "currencies", "profiles").returncode == 0
    built = dbt(home, "build", "--select", "stg_bank__mt940_entries", "stg_bank__bai2_entries")
    assert built.returncode == 0, built.stdout
    assert "mt940_lines_take_the_bank_account_side" in built.stdout
    assert "bai2_transactions_take_the_bank_account_side" in built.stdout
    rules = dbt(home, "run-operation", "print_rules")
    assert rules.returncode == 0, rules.stdout
    rule_list = json.loads(re.search(r"RECON_RULES (.*)", rules.stdout).group(1))  # type: ignore[union-attr]
    with connect(home.warehouse) as connection:
        counts = connection.sql(
            """
            select
                (select count(*) from staging.stg_bank__mt940_entries),
                (select count(*) from raw.mt940),
                (select count(*) from staging.stg_bank__bai2_entries),
                (select count(*) from raw.bai2)
            """
        ).fetchall()[0]
        entries = {
            row["source_row"]
            if row["source_name"] == "bai2"
            else (Path(row["source_file"]).stem, row["source_row"]): row
            for row in _rows(
                connection,
                "select * from staging.stg_bank__mt940_entries union all by name "
                "select * from staging.stg_bank__bai2_entries",
            )
        }
        picked = {}
        for rule in rule_list:
            if rule["name"] not in ("stripe_payout_to_bank_credit", "paypal_withdrawal_to_bank_credit"):
                continue
            # each filter in parentheses, as the rule engine applies them
            filters = " and ".join(f"({predicate})" for predicate in rule["target_filters"])
            reference = rule["identifiers"][0]["target"]
            picked[rule["name"]] = sorted(
                connection.sql(
                    f"""
                    select target.source_name, target.amount_minor, target.currency, {reference}
                    from (
                        select * from staging.stg_bank__mt940_entries
                        union all by name
                        select * from staging.stg_bank__bai2_entries
                    ) as target
                    where {filters}
                    """
                ).fetchall()
            )
    assert counts == (11, 11, 5, 5)
    payout = entries[("plain", 6)]
    assert (payout["entry_id"], payout["source_name"], payout["account_name"]) == (
        "acme_eu:mt940:BR26110301", "mt940", "bank"
    )  # fmt: skip
    assert (payout["entry_type"], payout["direction"], payout["status"]) == ("bank_credit", "DEBIT", "book")
    assert (payout["amount_minor"], payout["net_minor"], payout["fee_minor"], payout["currency"]) == (
        250000,
        250000,
        0,
        "GBP",
    )
    assert payout["effective_at"] == datetime(2026, 11, 2, 23, 0)  # midnight in Berlin
    assert payout["business_date"] == date(2026, 11, 3)
    reversal = entries[("plain", 12)]
    assert (reversal["entry_type"], reversal["direction"], reversal["net_minor"]) == ("bank_debit", "CREDIT", -4000)
    assert json.loads(reversal["metadata"])["is_reversal"] is True
    # no bank reference: account, statement number and line
    german = entries[("german", 5)]
    assert german["entry_id"] == "acme_eu:mt940:10070000/0123456700:00001/001:5"
    metadata = json.loads(german["metadata"])
    assert (metadata["debtor_name"], metadata["end_to_end_id"]) == (
        "STRIPE PAYMENTS EUROPE LIMITED DUBLIN",
        "STRIPE-E2E-20261103",
    )
    lockbox = entries[16]
    assert (lockbox["entry_id"], lockbox["profile_id"], lockbox["business_date"]) == (
        "globex_us:bai2:BR261104001", "globex_us", date(2026, 11, 4)
    )  # fmt: skip
    assert lockbox["effective_at"] == datetime(2026, 11, 4, 5, 0)  # midnight in New York
    assert (entries[11]["amount_minor"], entries[11]["currency"], entries[11]["direction"]) == (15000, "JPY", "CREDIT")
    # the processors' credits, with their references, are what the bank rules look at
    assert picked == {
        "stripe_payout_to_bank_credit": [
            ("bai2", 500000, "USD", "po_1UsdBai2Payout1103"),
            ("mt940", 125000, "EUR", "po_1NlIngPayout7781"),
            ("mt940", 250000, "GBP", "po_1GbpAbCdEf2026"),
            ("mt940", 412345, "EUR", "po_1QxYzAbCdEfGh2026"),
        ],
        "paypal_withdrawal_to_bank_credit": [
            ("bai2", 212500, "USD", "9WD00000AB678901E"),
            ("mt940", 100050, "EUR", "5TY12345AB678901C"),
        ],
    }


def test_a_statement_out_of_balance_is_an_exception_with_its_difference(home: ReconHome, tmp_path: Path) -> None:
    """After a dbt run, the statement that does not balance is a `statement_out_of_balance`
    exception with the exact difference, its statement, account and lines; its balanced
    sibling is none, and its lines are entries all the same."""
    path = _write(tmp_path / "unbalanced.sta", _replace(PLAIN, ":62F:C261104GBP3434,74", ":62F:C261104GBP3434,47"))
    _ingest(home, path, "mt940")
    assert dbt(home, "seed").returncode == 0
    built = dbt(home, "run", "--select", "+fct_exceptions")
    assert built.returncode == 0, built.stdout
    with connect(home.warehouse) as connection:
        exceptions = _rows(
            connection,
            """
            select category, statement_id, account_id, entry_ids, records, amount_at_stake_minor, variance_minor,
                expected_value, actual_value, currency, business_date, profile_id, merchant_id, failed_field,
                check_reason
            from marts.fct_exceptions
            where category = 'statement_out_of_balance'
            """,
        )
        entries = connection.sql("select count(*) from staging.stg_bank__mt940_entries").fetchall()[0][0]
        # finance hears of it as of any exception: an alert at its severity
        alerted = [alert.details for alert in exception_alerts(connection, "low")]
    assert entries == 5
    # (the lines' own exceptions, no rule for a card fee and the like, are alerted beside it)
    assert [
        (a["amount_at_stake_minor"], a["records"]) for a in alerted if a["category"] == "statement_out_of_balance"
    ] == [(27, ["mt940:BR26110401", "mt940:BR26110402"])]
    [flagged] = exceptions
    assert flagged == {
        "category": "statement_out_of_balance",
        "statement_id": "STMT261104",
        "account_id": "GB29NWBK60161331926819",
        "entry_ids": ["acme_eu:mt940:BR26110401", "acme_eu:mt940:BR26110402"],
        "records": ["mt940:BR26110401", "mt940:BR26110402"],
        "amount_at_stake_minor": 27,
        "variance_minor": 27,
        "expected_value": "9497",
        "actual_value": "9524",
        "currency": "GBP",
        "business_date": date(2026, 11, 4),
        "profile_id": "acme_eu",
        "merchant_id": "acme_shop",
        "failed_field": "mt940 statement STMT261104 of account GB29NWBK60161331926819",
        "check_reason": (
            "statement 'STMT261104' of account 'GB29NWBK60161331926819' (line 19): does not balance: opening "
            "balance 3339.50 GBP + its lines 95.24 = 3434.74 GBP, but its closing balance is 3434.47 GBP (a "
            "difference of -0.27)"
        ),
    }


# --- any bytes: loaded, quarantined or rejected, never a crash ---------------------------------


def _parse(content: bytes, source: str) -> None:
    """Parse ``content`` as ``source``: rows and quarantine, or FileRejected with a reason."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "statement"
        path.write_bytes(content)
        try:
            passed, quarantined, rows_read = parse_file(
                path, SOURCES[source], profile_id="acme_eu", file_id="f", ingested_at=datetime(2026, 11, 5)
            )
        except FileRejected as rejection:
            assert str(rejection).startswith(f"{path}: ") and len(str(rejection)) > len(f"{path}: ")
            return
    assert rows_read == passed.height + quarantined.height
    assert quarantined["reason"].null_count() == 0


@st.composite
def _mutated(draw: st.DrawFn, text: str) -> bytes:
    """``text`` with a few random edits: a span deleted, replaced by random bytes or characters
    the formats use, or a line repeated."""
    content = bytearray(text.encode("latin-1"))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(content)))
        end = draw(st.integers(at, min(len(content), at + 12)))
        edit = draw(st.sampled_from(["delete", "bytes", "symbols", "repeat"]))
        if edit == "delete":
            content[at:end] = b""
        elif edit == "bytes":
            content[at:end] = draw(st.binary(max_size=6))
        elif edit == "symbols":
            content[at:end] = draw(st.text(alphabet=":,/?+-{}0123456789CDRNSTF\r\n ", max_size=6)).encode()
        else:
            start = content.rfind(b"\n", 0, at) + 1
            stop = content.find(b"\n", at)
            line = content[start : stop + 1 if stop >= 0 else len(content)]
            content[start:start] = line
    return bytes(content)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), _mutated(PLAIN), _mutated(GERMAN), _mutated(DUTCH)))
def test_any_mt940_input_is_loaded_quarantined_or_rejected(content: bytes) -> None:
    _parse(content, "mt940")


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), _mutated(MT942), _mutated(PLAIN)))
def test_any_mt942_input_is_loaded_quarantined_or_rejected(content: bytes) -> None:
    _parse(content, "mt942")


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), _mutated(BAI2)))
def test_any_bai2_input_is_loaded_quarantined_or_rejected(content: bytes) -> None:
    _parse(content, "bai2")


def test_an_amount_padded_with_zeros_past_15_characters_is_the_same_amount() -> None:
    from dagster_project.lib.readers.mt940 import swift_amount

    assert swift_amount("0000000000001234,56") == Decimal("1234.56")
    assert swift_amount("0000000000000000,00") == Decimal("0.00")
    assert swift_amount("1234567890123456,00") is None  # 16 digits that are not padding
    assert swift_amount("00000000000012x4,56") is None
