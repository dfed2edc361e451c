"""PayPal's activity download as PayPal writes it: dates in the account's locale, found from the
whole file and recorded with it, and the running balance after each row checked within the file,
each currency's balance as a bank statement is: kept and flagged when it breaks, never refused."""

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dagster_project.lib.formats import write_paypal_activity
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, ensure_raw_schema, ingest_file
from dagster_project.lib.source_configs import SourceConfigError, parse_source
from dagster_project.lib.warehouse import connect
from tests.conftest import dbt

COLUMNS = (
    "Date", "Time", "TimeZone", "Name", "Type", "Status", "Currency", "Gross", "Fee", "Net",
    "From Email Address", "To Email Address", "Transaction ID", "Reference Txn ID", "Invoice Number",
    "Balance", "Balance Impact",
)  # fmt: skip


def _activity(path: Path, rows: list[tuple[str, ...]], columns: tuple[str, ...] = COLUMNS) -> Path:
    """A download as PayPal writes it: a byte order mark, every field quoted."""
    lines = [",".join(f'"{value}"' for value in row) for row in [columns, *rows]]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(date: str, time: str, kind: str, currency: str, gross: str, fee: str, net: str, txn: str,
         balance: str, impact: str, status: str = "Completed", zone: str = "GMT") -> tuple[str, ...]:  # fmt: skip
    return (date, time, zone, "Ann Example", kind, status, currency, gross, fee, net, "ann@example.com",
            "shop@example.com", txn, "", "#1001", balance, impact)  # fmt: skip


# a British account's download: day first, one date with a day above 12 (29/12), one that reads
# as a valid but wrong month-first date (12/02/2016 is 12 February, not 2 December)
DAY_FIRST = [
    _row("29/12/2015", "07:45:51", "Express Checkout Payment", "GBP", "84.00", "-4.25", "79.75", "1TX00000000000001",
         "79.75", "Credit"),
    _row("12/02/2016", "13:30:31", "Express Checkout Payment", "GBP", "1,250.00", "-43.95", "1,206.05",
         "1TX00000000000002", "1,285.80", "Credit"),
    _row("03/03/2016", "09:00:00", "General Withdrawal", "GBP", "-1,285.80", "0.00", "-1,285.80", "1TX00000000000003",
         "0.00", "Debit"),
]  # fmt: skip

# a US account's download: month first (12/29)
MONTH_FIRST = [
    _row("12/29/2015", "07:45:51", "Express Checkout Payment", "USD", "84.00", "-4.25", "79.75", "2TX00000000000001",
         "79.75", "Credit", zone="PST"),
    _row("02/12/2016", "13:30:31", "Express Checkout Payment", "USD", "20.00", "-0.88", "19.12", "2TX00000000000002",
         "98.87", "Credit", zone="PST"),
]  # fmt: skip

# every day 12 or less: month first and day first both read every date, differently
AMBIGUOUS = [
    _row("01/11/2026", "10:00:00", "Express Checkout Payment", "EUR", "10.00", "-0.84", "9.16", "3TX00000000000001",
         "9.16", "Credit", zone="CET"),
    _row("02/11/2026", "10:00:00", "Express Checkout Payment", "EUR", "10.00", "-0.84", "9.16", "3TX00000000000002",
         "18.32", "Credit", zone="CET"),
]  # fmt: skip


def _rows(connection: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    relation = connection.sql(query)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _decisions(connection: duckdb.DuckDBPyConnection, path: Path) -> dict:
    found = connection.execute("select read_decisions from raw.ingested_files where path = ?", [str(path)]).fetchall()
    return json.loads(found[0][0])


def test_a_day_first_download_loads_with_its_dates_and_the_decision_is_recorded(
    home: ReconHome, tmp_path: Path
) -> None:
    path = _activity(tmp_path / "Download.CSV", DAY_FIRST)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        loaded = _rows(connection, "select * from raw.paypal_activity order by _source_row")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    # GMT is UTC: the dates as written, day first
    assert [row["occurred_at"] for row in loaded] == [
        datetime(2015, 12, 29, 7, 45, 51), datetime(2016, 2, 12, 13, 30, 31), datetime(2016, 3, 3, 9, 0),
    ]  # fmt: skip
    assert [row["balance"] for row in loaded] == [Decimal("79.75"), Decimal("1285.80"), Decimal("0")]
    with connect(home.warehouse) as connection:
        decisions = _decisions(connection, path)
    assert decisions["Date"] == {"format": "%d/%m/%Y %H:%M:%S %Z", "how": "detected"}
    assert decisions["Balance"] == {"running_balance": "checked", "rows_checked": 2, "order": "oldest first"}


def test_a_month_first_download_loads_with_its_dates(home: ReconHome, tmp_path: Path) -> None:
    path = _activity(tmp_path / "Download.CSV", MONTH_FIRST)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        loaded = _rows(connection, "select * from raw.paypal_activity order by _source_row")
        decisions = _decisions(connection, path)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    # PST is UTC-8
    assert [row["occurred_at"] for row in loaded] == [
        datetime(2015, 12, 29, 15, 45, 51),
        datetime(2016, 2, 12, 21, 30, 31),
    ]
    assert decisions["Date"] == {"format": "%m/%d/%Y %H:%M:%S %Z", "how": "detected"}


def test_a_dotted_german_download_loads_and_an_impossible_date_is_quarantined(home: ReconHome, tmp_path: Path) -> None:
    rows = [
        _row("01.11.2026", "10:00:00", "Express Checkout Payment", "EUR", "10.00", "-0.84", "9.16", "4TX00000000000001",
             "9.16", "Credit", zone="CET"),
        _row("30.02.2026", "10:00:00", "Express Checkout Payment", "EUR", "10.00", "-0.84", "9.16", "4TX00000000000002",
             "18.32", "Credit", zone="CET"),
    ]  # fmt: skip
    path = _activity(tmp_path / "Download.CSV", rows)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        loaded = _rows(connection, "select occurred_at from raw.paypal_activity")
        quarantined = connection.sql("select source_row, field, reason from raw.quarantine").fetchall()
        decisions = _decisions(connection, path)
    assert [row["occurred_at"] for row in loaded] == [datetime(2026, 11, 1, 9, 0)]
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert quarantined == [
        (3, "Date", "field 'Date': '30.02.2026 10:00:00 CET' is not a timestamp (DD.MM.YYYY HH:MM:SS ZONE, "
                    "ZONE a time zone such as PST or CET)"),
    ]  # fmt: skip
    assert decisions["Date"]["format"] == "%d.%m.%Y %H:%M:%S %Z"


def test_an_ambiguous_download_is_refused_naming_the_file_and_field(home: ReconHome, tmp_path: Path) -> None:
    path = _activity(tmp_path / "Download.CSV", AMBIGUOUS)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected) as refused:
            ingest_file(connection, path, "paypal_activity", "acme_eu")
        counts = connection.sql(
            "select (select count(*) from raw.paypal_activity), (select count(*) from raw.ingested_files), "
            "(select count(*) from raw.rejected_files)"
        ).fetchall()[0]
    message = str(refused.value)
    assert message.startswith(f"{path}: field 'Date': every date of the file fits more than one format")
    assert "line 2 ('01/11/2026 10:00:00 CET')" in message
    assert "profile_formats: {acme_eu: '<one of its formats>'}" in message
    assert "dagster_project/sources/paypal_activity.yml" in message
    assert counts == (0, 0, 1)  # nothing half-written; the refusal is kept with its reason


def test_a_declared_profile_format_reads_an_ambiguous_file_and_a_contradicting_one_is_refused(
    home: ReconHome, tmp_path: Path
) -> None:
    # globex_us's files are declared month first (dagster_project/sources/paypal_activity.yml)
    ambiguous = _activity(tmp_path / "ambiguous.csv", AMBIGUOUS)
    day_first = _activity(tmp_path / "day_first.csv", DAY_FIRST)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, ambiguous, "paypal_activity", "globex_us")
        loaded = _rows(connection, "select occurred_at from raw.paypal_activity order by _source_row")
        decisions = _decisions(connection, ambiguous)
        with pytest.raises(FileRejected, match=r"declared to be written '%m/%d/%Y %H:%M:%S %Z', but line 2 "):
            ingest_file(connection, day_first, "paypal_activity", "globex_us")
    assert [row["occurred_at"] for row in loaded] == [datetime(2026, 1, 11, 9, 0), datetime(2026, 2, 11, 9, 0)]
    assert decisions["Date"] == {"format": "%m/%d/%Y %H:%M:%S %Z", "how": "pinned for the profile"}


def test_dates_that_read_alike_in_every_order_need_no_decision(home: ReconHome, tmp_path: Path) -> None:
    rows = [
        _row("11/11/2026", "10:00:00", "Express Checkout Payment", "EUR", "10.00", "-0.84", "9.16", "7TX00000000000001",
             "9.16", "Credit", zone="CET"),
        _row("05/05/2026", "10:00:00", "Express Checkout Payment", "EUR", "10.00", "-0.84", "9.16", "7TX00000000000002",
             "18.32", "Credit", zone="CEST"),
    ]  # fmt: skip
    path = _activity(tmp_path / "Download.CSV", rows)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, path, "paypal_activity", "acme_eu")
        loaded = connection.sql("select occurred_at from raw.paypal_activity order by _source_row").fetchall()
        decisions = _decisions(connection, path)
    assert loaded == [(datetime(2026, 11, 11, 9, 0),), (datetime(2026, 5, 5, 8, 0),)]
    assert decisions["Date"]["how"] == "detected (the possible formats read every date alike)"


def test_a_download_mixing_date_orders_is_refused(home: ReconHome, tmp_path: Path) -> None:
    path = _activity(tmp_path / "Download.CSV", [DAY_FIRST[0], MONTH_FIRST[0]])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=r"no one format fits every date of the file .*mixes date orders"):
            ingest_file(connection, path, "paypal_activity", "acme_eu")


def _statements(connection: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(connection, "select * from raw.bank_statements order by file_id, statement_position")


def test_a_broken_running_balance_loads_the_rows_and_flags_its_statement(home: ReconHome, tmp_path: Path) -> None:
    """A misprinted balance (the next row's balance follows from the right one) breaks the
    chain twice and leaves no money unexplained: the rows load, and the GBP balance is kept as a
    statement out of balance naming the line, the expected and the found balance."""
    broken = [*DAY_FIRST]
    broken[1] = _row("12/02/2016", "13:30:31", "Express Checkout Payment", "GBP", "1,250.00", "-43.95", "1,206.05",
                     "1TX00000000000002", "1,285.90", "Credit")  # fmt: skip
    path = _activity(tmp_path / "Download.CSV", broken)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        rejected = connection.sql("select count(*) from raw.rejected_files").fetchall()[0][0]
        [statement] = _statements(connection)
        decisions = _decisions(connection, path)
    assert (result.rows_loaded, result.rows_quarantined, rejected) == (3, 0, 0)
    assert decisions["Balance"] == {
        "running_balance": "checked", "rows_checked": 2, "order": "oldest first", "breaks": 2
    }  # fmt: skip
    assert (statement["source_name"], statement["account_id"], statement["currency"]) == (
        "paypal_activity", "paypal_clearing", "GBP"
    )  # fmt: skip
    assert (statement["check_kind"], statement["check_status"], statement["difference"]) == (
        "running_balance", "out_of_balance", Decimal("0")
    )  # fmt: skip
    assert (statement["rows_read"], statement["rows_loaded"], statement["loaded_rows"]) == (3, 3, [2, 3, 4])
    assert statement["statement_date"] == date(2016, 3, 3)
    assert statement["reason"] == (
        "the GBP running balance (field 'Balance', line 2): its running balance breaks at line 3: 79.75 (line 2) + "
        "Net 1,206.05 = 1285.80, but the line's Balance is 1,285.90 (a difference of 0.10); it breaks again at 1 "
        "more line(s) (4); nor does it add up read newest first"
    )


def test_a_row_missing_from_a_download_is_its_statements_difference(home: ReconHome, tmp_path: Path) -> None:
    """The download lacks the payment between two rows: the balances say 1,206.05 GBP more came
    in than the rows do, and that is the statement's difference."""
    later = _row("04/03/2016", "09:00:00", "Express Checkout Payment", "GBP", "10.00", "0.00", "10.00",
                 "1TX00000000000004", "10.00", "Credit")  # fmt: skip
    path = _activity(tmp_path / "Download.CSV", [DAY_FIRST[0], DAY_FIRST[2], later])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        [statement] = _statements(connection)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert (statement["opening_balance"], statement["closing_balance"]) == (Decimal("0"), Decimal("10"))
    assert (statement["expected_total"], statement["loaded_total"], statement["difference"]) == (
        Decimal("10"), Decimal("-1196.05"), Decimal("1206.05")
    )  # fmt: skip
    assert statement["reason"] == (
        "the GBP running balance (field 'Balance', line 2): does not balance: opening balance 0.00 GBP + its lines "
        "-1196.05 = -1196.05 GBP, but its closing balance is 10.00 GBP (a difference of 1206.05); its running "
        "balance breaks at line 3: 79.75 (line 2) + Net -1,285.80 = -1206.05, but the line's Balance is 0.00 (a "
        "difference of 1206.05); nor does it add up read newest first"
    )


def test_a_broken_download_is_a_statement_out_of_balance_exception(home: ReconHome, tmp_path: Path) -> None:
    """After a dbt run, the GBP balance of the download that lacks a row is a
    `statement_out_of_balance` exception on the PayPal clearing account, with the difference as
    the amount at stake and the download's rows as its records."""
    later = _row("04/03/2016", "09:00:00", "Express Checkout Payment", "GBP", "10.00", "0.00", "10.00",
                 "1TX00000000000004", "10.00", "Credit")  # fmt: skip
    path = _activity(tmp_path / "Download.CSV", [DAY_FIRST[0], DAY_FIRST[2], later])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, path, "paypal_activity", "acme_eu")
    assert dbt(home, "seed").returncode == 0
    built = dbt(home, "run", "--select", "+fct_exceptions")
    assert built.returncode == 0, built.stdout
    with connect(home.warehouse) as connection:
        [flagged] = _rows(
            connection,
            """
            select account_id, records, amount_at_stake_minor, currency, business_date, failed_field, failed_check
            from marts.fct_exceptions
            where category = 'statement_out_of_balance'
            """,
        )
    assert flagged == {
        "account_id": "paypal_clearing",
        "records": [f"paypal_activity:1TX0000000000000{n}" for n in (1, 3, 4)],
        "amount_at_stake_minor": 120605,
        "currency": "GBP",
        "business_date": date(2016, 3, 4),
        "failed_field": "paypal_activity statement (no reference) of account paypal_clearing",
        "failed_check": "running_balance",
    }


def test_a_download_that_adds_up_is_a_balanced_statement_per_currency(home: ReconHome, tmp_path: Path) -> None:
    rows = [*DAY_FIRST[:2]]
    rows += _row("13/02/2016", "07:45:51", "Express Checkout Payment", "USD", "84.00", "-4.25", "79.75",
                 "2TX00000000000001", "79.75", "Credit"),  # fmt: skip
    path = _activity(tmp_path / "Download.CSV", rows)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, path, "paypal_activity", "acme_eu")
        statements = _statements(connection)
    assert [
        (s["statement_position"], s["currency"], s["check_status"], s["opening_balance"], s["closing_balance"],
         s["loaded_rows"], s["reason"])
        for s in statements
    ] == [
        (1, "GBP", "balanced", Decimal("0"), Decimal("1285.80"), [2, 3], None),
        # one row: no balance in it follows from another
        (2, "USD", "not_checked", Decimal("0"), Decimal("79.75"), [4],
         "the USD running balance (field 'Balance', line 4): no balance in it follows from an earlier one, so there "
         "is nothing to check"),
    ]  # fmt: skip


def test_memo_rows_and_rows_without_a_balance_do_not_break_it_and_each_currency_has_its_own(
    home: ReconHome, tmp_path: Path
) -> None:
    rows = [
        _row("29/12/2015", "07:00:00", "Express Checkout Payment", "GBP", "100.00", "-3.00", "97.00",
             "5TX00000000000001", "97.00", "Credit"),
        # an authorization: a Memo row, its amount not in the balance
        _row("29/12/2015", "08:00:00", "General Authorization", "GBP", "50.00", "0.00", "50.00", "5TX00000000000002",
             "97.00", "Memo", status="Pending"),
        _row("29/12/2015", "09:00:00", "Express Checkout Payment", "EUR", "20.00", "-1.00", "19.00",
             "5TX00000000000003", "19.00", "Credit"),
        # a pending withdrawal takes its money from the balance when it starts
        _row("30/12/2015", "09:00:00", "General Withdrawal", "GBP", "-90.00", "0.00", "-90.00", "5TX00000000000004",
             "7.00", "Debit", status="Pending"),
        # PayPal shows no balance here: the chain is not checked across the row
        _row("30/12/2015", "10:00:00", "Hold on Balance for Dispute Investigation", "EUR", "-19.00", "0.00", "-19.00",
             "5TX00000000000005", "...", "Debit"),
        _row("31/12/2015", "10:00:00", "Express Checkout Payment", "EUR", "1,000.00", "-35.00", "965.00",
             "5TX00000000000006", "965.00", "Credit"),
        _row("31/12/2015", "11:00:00", "Express Checkout Payment", "GBP", "3.00", "-0.10", "2.90", "5TX00000000000007",
             "9.90", "Credit"),
    ]  # fmt: skip
    path = _activity(tmp_path / "Download.CSV", rows)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        balances = connection.sql("select balance from raw.paypal_activity order by _source_row").fetchall()
        decisions = _decisions(connection, path)
    assert (result.rows_loaded, result.rows_quarantined) == (7, 0)
    assert balances[4] == (None,)  # "..." is no balance, not a malformed one
    assert decisions["Balance"]["rows_checked"] == 2  # GBP 97.00 -> 7.00 -> 9.90
    with connect(home.warehouse) as connection:
        statements = _statements(connection)
    # the Memo row is a line of the GBP balance that adds nothing; EUR is not checked across
    # the row without a balance, and no other EUR balance follows from an earlier one
    assert [(s["currency"], s["check_status"], s["loaded_rows"], s["loaded_total"]) for s in statements] == [
        ("GBP", "balanced", [2, 3, 5, 8], Decimal("9.90")),
        ("EUR", "not_checked", [4, 6, 7], Decimal("984")),
    ]


def test_a_download_listed_newest_first_is_checked_in_that_order(home: ReconHome, tmp_path: Path) -> None:
    path = _activity(tmp_path / "Download.CSV", list(reversed(DAY_FIRST)))
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        decisions = _decisions(connection, path)
    assert result.rows_loaded == 3
    assert decisions["Balance"] == {"running_balance": "checked", "rows_checked": 2, "order": "newest first"}


def test_a_line_the_reader_rejects_is_not_checked_across(home: ReconHome, tmp_path: Path) -> None:
    # the middle line lost its last fields: its Net is unknown, so the next balance cannot break
    path = _activity(tmp_path / "Download.CSV", DAY_FIRST)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].rsplit(",", 3)[0]
    path.write_text("\n".join(lines), encoding="utf-8")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        decisions = _decisions(connection, path)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert decisions["Balance"]["rows_checked"] == 0


def test_a_download_without_a_balance_column_is_loaded_unchecked_and_says_so(home: ReconHome, tmp_path: Path) -> None:
    columns = tuple(column for column in COLUMNS if column != "Balance")
    rows = [
        tuple(value for column, value in zip(COLUMNS, row, strict=True) if column != "Balance") for row in DAY_FIRST
    ]
    path = _activity(tmp_path / "Download.CSV", rows, columns)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "acme_eu")
        decisions = _decisions(connection, path)
    assert result.rows_loaded == 3
    assert decisions["Balance"] == {"running_balance": "not checked: the file has no Balance column"}


def test_a_warehouse_from_before_the_decisions_gains_their_column(home: ReconHome, tmp_path: Path) -> None:
    with connect(home.warehouse) as connection:
        connection.execute("create schema raw")
        connection.execute(
            """
            create table raw.ingested_files (
                file_id varchar primary key, source_name varchar not null, profile_id varchar not null,
                path varchar not null, size_bytes bigint not null, sha256 varchar not null,
                rows_read bigint not null, rows_loaded bigint not null, rows_quarantined bigint not null,
                ingested_at timestamp not null
            )
            """
        )
        connection.execute("insert into raw.ingested_files values ('old', 's', 'p', 'f', 1, 'x', 1, 1, 0, now())")
        ensure_raw_schema(connection)
        path = _activity(tmp_path / "Download.CSV", DAY_FIRST)
        ingest_file(connection, path, "paypal_activity", "acme_eu")
        decided = connection.sql("select file_id, read_decisions is null from raw.ingested_files order by 2").fetchall()
    assert decided[1] == ("old", True) and decided[0][1] is False


def test_the_writer_writes_the_accounts_date_order_and_reads_back(home: ReconHome, tmp_path: Path) -> None:
    zone = ZoneInfo("Europe/London")
    rows = [
        {"at": datetime(2026, 11, 13, 9, 0, tzinfo=zone), "Type": "Express Checkout Payment", "Status": "Completed",
         "Currency": "GBP", "Gross": 10000, "Fee": -320, "Transaction ID": "6TX00000000000001", "Balance": 9680},
        {"at": datetime(2026, 11, 2, 9, 0, tzinfo=zone), "Type": "General Withdrawal", "Status": "Completed",
         "Currency": "GBP", "Gross": -9680, "Fee": 0, "Transaction ID": "6TX00000000000002", "Balance": 0},
    ]  # fmt: skip
    path = write_paypal_activity(tmp_path / "activity.csv", rows, date_format="%d/%m/%Y")
    assert '"13/11/2026","09:00:00","GMT"' in path.read_text()
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, path, "paypal_activity", "acme_eu")
        loaded = connection.sql("select occurred_at, balance from raw.paypal_activity order by _source_row").fetchall()
    # London is on GMT in November: the local times are UTC
    assert loaded == [(datetime(2026, 11, 13, 9, 0), Decimal("96.80")), (datetime(2026, 11, 2, 9, 0), Decimal("0"))]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"detect": "per_file", "formats": ["%d/%m/%Y"]}, "fields[0].detect: needs formats listing at least two"),
        ({"detect": "per_row", "formats": ["%d/%m/%Y", "%m/%d/%Y"]}, "fields[0].detect: unknown detect mode 'per_row'"),
        (
            {"detect": "per_file", "formats": ["%d/%m/%Y", "%m/%d/%Y"], "profile_formats": {"acme_eu": "%Y-%m-%d"}},
            "fields[0].profile_formats.acme_eu: '%Y-%m-%d' is not one of the field's formats",
        ),
        ({"formats": ["%d/%m/%Y"], "profile_formats": {"acme_eu": "%d/%m/%Y"}}, "applies to fields with detect"),
    ],
)
def test_a_detected_format_is_declared_with_its_candidates(field: dict, message: str, tmp_path: Path) -> None:
    document = {"name": "my_bank", "format": "csv", "fields": [{"column": "booked_on", "type": "date", **field}]}
    with pytest.raises(SourceConfigError, match=re.escape(message)):
        parse_source(document, tmp_path / "my_bank.yml")


def test_a_running_balance_names_declared_columns_of_its_type(tmp_path: Path) -> None:
    fields = [
        {"column": "amount", "type": "integer"},
        {"column": "balance", "type": "decimal", "running_balance": {"amount": "amount"}},
    ]
    with pytest.raises(SourceConfigError, match=r"fields\[1\].running_balance.amount: 'amount' is of type integer"):
        parse_source({"name": "my_bank", "format": "csv", "fields": fields}, tmp_path / "my_bank.yml")
    fields[1]["running_balance"] = {"amount": "amount", "per": "currency"}
    with pytest.raises(SourceConfigError, match=r"running_balance.per: 'currency' is not another declared column"):
        parse_source({"name": "my_bank", "format": "csv", "fields": fields}, tmp_path / "my_bank.yml")
