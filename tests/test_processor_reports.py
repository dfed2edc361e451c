"""Processor reports read from their public specifications: Adyen's Settlement details report,
PayPal's Settlement report (STL) and the Shopify Payments transactions export. Each lands,
types, quarantines and stages its fixture (tests/fixtures/processors/); the default Adyen rules
reconcile orders to settlements, a batch to its payout and the payout to the bank credit."""

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.formats import write_camt053
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, ensure_raw_schema, ingest_file
from dagster_project.lib.warehouse import connect
from tests.conftest import dbt, recon

FIXTURES = Path(__file__).parent / "fixtures" / "processors"
ADYEN_BATCH_4 = FIXTURES / "settlement_detail_report_batch_4.csv"
ADYEN_BATCH_5 = FIXTURES / "settlement_detail_report_batch_5.csv"
PAYPAL_STL = FIXTURES / "STL-20261102.01.010.CSV"
SHOPIFY_PAYOUTS = FIXTURES / "payment_transactions_export_1.csv"
ADYEN_ORDERS = FIXTURES / "orders_export_adyen.csv"
# (file, source): every fixture in its real format
FIXTURE_FILES = [
    (ADYEN_BATCH_4, "adyen_settlement_details"),
    (ADYEN_BATCH_5, "adyen_settlement_details"),
    (PAYPAL_STL, "paypal_settlement"),
    (SHOPIFY_PAYOUTS, "shopify_payouts"),
]
STL_TEXT = PAYPAL_STL.read_text(encoding="utf-8")
STL_LINES = STL_TEXT.splitlines(keepends=True)
STAGING_MODELS = {
    "adyen_settlement_details": "stg_adyen__settlement_details",
    "paypal_settlement": "stg_paypal__settlement",
    "shopify_payouts": "stg_shopify__payouts",
}


def _rows(connection: duckdb.DuckDBPyConnection, query: str, parameters: list | None = None) -> list[dict]:
    relation = connection.execute(query, parameters or [])
    columns = [column[0] for column in relation.description]
    return [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


def _ingest(home: ReconHome, path: Path, source_name: str) -> tuple[tuple[int, int, int], list[dict], list[tuple]]:
    """(rows read, loaded, quarantined), the raw rows and the quarantined (row, field, reason)."""
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, source_name, "acme_eu")
        raw = _rows(connection, f"select * from raw.{source_name} order by _source_row")
        quarantined = connection.execute(
            "select source_row, field, reason from raw.quarantine where source_file = ? order by source_row",
            [str(path)],
        ).fetchall()
    return (result.rows_read, result.rows_loaded, result.rows_quarantined), raw, quarantined


# --- Adyen Settlement details report ----------------------------------------------------------


def test_adyen_settlement_details_are_typed_and_malformed_rows_quarantined(home: ReconHome) -> None:
    counts, raw, quarantined = _ingest(home, ADYEN_BATCH_5, "adyen_settlement_details")
    assert counts == (13, 7, 6)
    converted, settled, refunded, chargeback, correction, deduction, payout = raw
    assert [row["type"] for row in raw] == [
        "Settled", "Settled", "Refunded", "Chargeback", "DepositCorrection", "InvoiceDeduction", "MerchantPayout"
    ]  # fmt: skip
    assert {row["batch_number"] for row in raw} == {5}
    assert {row["merchant_account"] for row in raw} == {"AcmeShopEU"}
    # a payment converted from USD: the gross in its currency, the net and costs in the settlement currency
    assert (converted["gross_currency"], converted["gross_credit"], converted["exchange_rate"]) == (
        "USD", Decimal("10.00"), "0.9215"
    )  # fmt: skip
    assert (converted["net_currency"], converted["net_credit"], converted["commission"]) == (
        "EUR", Decimal("8.92"), Decimal("0.30")
    )  # fmt: skip
    assert (converted["psp_reference"], converted["merchant_reference"]) == ("8816987654322001", "1003")
    # local time and zone read as UTC: 09:30 CET is 08:30 UTC, 23:30 CET is 22:30 UTC
    assert converted["created_at"] == datetime(2026, 11, 5, 8, 30)
    assert settled["created_at"] == datetime(2026, 11, 5, 22, 30)
    assert (settled["markup"], settled["scheme_fees"], settled["interchange"]) == (
        Decimal("4.00"), Decimal("1.00"), Decimal("1.50")
    )  # fmt: skip
    assert (refunded["net_debit"], refunded["net_credit"], refunded["modification_merchant_reference"]) == (
        Decimal("20.00"), None, "refund-1001-1"
    )  # fmt: skip
    assert (chargeback["gross_debit"], chargeback["net_debit"], chargeback["commission"]) == (
        Decimal("349.99"), Decimal("357.49"), Decimal("7.50")
    )  # fmt: skip
    assert chargeback["created_at"] == datetime(2026, 11, 6, 9, 0)  # GMT
    assert (correction["net_credit"], correction["psp_reference"]) == (Decimal("2.50"), None)
    assert deduction["net_debit"] == Decimal("15.00")
    assert (payout["net_debit"], payout["modification_reference"]) == (
        Decimal("112.43"), "TX731902468136XT batch 5, AcmeShopEU"
    )  # fmt: skip
    assert quarantined == [
        (9, "Net Credit (NC)", "field 'Net Credit (NC)': '12,x0' is not a decimal number"),
        (10, "Net Currency", "field 'Net Currency': unknown currency 'XYZ' (not an ISO 4217 code)"),
        (11, "Creation Date", "field 'Creation Date': '2026-11-05 10:00:00 ZZT' is not a timestamp "
                              "(YYYY-MM-DD HH:MM:SS ZONE, ZONE a time zone such as PST or CET)"),
        (12, "Batch Number", "field 'Batch Number' is required"),
        (13, None, "malformed row: expected 30 fields, found 31"),
        (14, "Net Debit (NC)", "field 'Net Debit (NC)' is required when 'Net Credit (NC)' is not given"),
    ]  # fmt: skip


def test_a_file_without_adyen_columns_is_rejected_whole(home: ReconHome, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("Company Account,Merchant Account,Type\nAcmeGroup,AcmeShopEU,Settled\n")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=r"lacks required column\(s\) Creation Date, TimeZone, Net Currency"):
            ingest_file(connection, path, "adyen_settlement_details", "acme_eu")


# --- PayPal Settlement report (STL) ------------------------------------------------------------


def test_paypal_settlement_body_rows_are_read_by_their_column_header(home: ReconHome) -> None:
    counts, raw, quarantined = _ingest(home, PAYPAL_STL, "paypal_settlement")
    assert counts == (11, 5, 6)
    payment, refund, yen, withdrawal, fee = raw
    assert [row["_source_row"] for row in raw] == [5, 6, 7, 8, 9]
    assert {row["account_id"] for row in raw} == {"ACMEPP1234567"}
    assert (payment["transaction_id"], payment["invoice_id"], payment["event_code"]) == (
        "5TY12345AB678901C", "#1001", "T0006"
    )  # fmt: skip
    # amounts stay in the report's unsigned hundredths; the side is a column of its own
    assert (payment["debit_or_credit"], payment["gross_amount"], payment["gross_currency"]) == ("CR", 123456, "USD")
    assert (payment["fee_debit_or_credit"], payment["fee_amount"], payment["fee_currency"]) == ("DR", 4344, "USD")
    # times carry their offset: 10:15:32 -0800 is 18:15:32 UTC
    assert payment["initiated_at"] == datetime(2026, 11, 2, 18, 15, 32)
    assert payment["completed_at"] == datetime(2026, 11, 2, 18, 15, 34)
    assert (payment["consumer_id"], payment["custom_field"]) == ("Ann@Example.com", "order-1001")
    assert (refund["event_code"], refund["debit_or_credit"], refund["gross_amount"]) == ("T1107", "DR", 2000)
    assert (refund["paypal_reference_id"], refund["paypal_reference_id_type"]) == ("5TY12345AB678901C", "TXN")
    assert (refund["fee_debit_or_credit"], refund["fee_amount"]) == ("CR", 58)
    assert (yen["gross_amount"], yen["gross_currency"], yen["fee_amount"]) == (150000, "JPY", 5400)
    assert (withdrawal["event_code"], withdrawal["gross_amount"], withdrawal["bank_reference_id"]) == (
        "T0400", 1000000, "BANKREF77"
    )  # fmt: skip
    assert (withdrawal["fee_debit_or_credit"], withdrawal["fee_amount"]) == (None, None)
    assert (fee["event_code"], fee["debit_or_credit"], fee["gross_amount"]) == ("T0100", "DR", 500)
    assert quarantined == [
        (10, "Transaction Initiation Date",
         "field 'Transaction Initiation Date': '2026/13/02 10:00:00 -0800' is not a timestamp "
         "(YYYY/MM/DD HH:MM:SS +HHMM)"),
        (11, None, "malformed row: expected 21 fields (as the CH row names), found 15"),
        (12, "Gross Transaction Amount",
         "field 'Gross Transaction Amount': '150050' hundredths is not a whole amount of JPY, which has 0 decimal "
         "places"),
        (13, "Transaction Debit or Credit", "field 'Transaction Debit or Credit': 'XX' is not one of CR, DR"),
        (14, "Gross Transaction Amount", "field 'Gross Transaction Amount': '10.00' is not a whole number"),
        (15, "Gross Transaction Currency",
         "field 'Gross Transaction Currency': unknown currency 'XYZ' (not an ISO 4217 code); "
         "field 'Fee Currency': unknown currency 'XYZ' (not an ISO 4217 code)"),
    ]  # fmt: skip


def test_a_tab_delimited_settlement_report_reads_the_same(home: ReconHome, tmp_path: Path) -> None:
    tabbed = io.StringIO()
    csv.writer(tabbed, delimiter="\t", lineterminator="\n").writerows(csv.reader(io.StringIO(STL_TEXT)))
    path = tmp_path / "STL-20261102.01.010.TAB"
    path.write_text(tabbed.getvalue(), encoding="utf-8")
    counts, raw, quarantined = _ingest(home, path, "paypal_settlement")
    assert counts == (11, 5, 6)
    assert [(row["transaction_id"], row["gross_amount"]) for row in raw][:3] == [
        ("5TY12345AB678901C", 123456), ("7RF00000AB678901D", 2000), ("4JP00000AB678901G", 150000)
    ]  # fmt: skip
    assert [(row, field) for row, field, _ in quarantined][:2] == [(10, "Transaction Initiation Date"), (11, None)]


def _altered(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("altered", "reason"),
    [
        (_altered(STL_TEXT, '"SC",11', '"SC",10'),
         r"line 18: the section record count \(SC\) says 10 body rows \(SB\), but the section holds 11"),
        (_altered(STL_TEXT, '"RC",11', '"RC",12'),
         r"line 21: the report record count \(RC\) says 12 body rows \(SB\), but the report holds 11"),
        (_altered(STL_TEXT, '"FF",11', '"FF",9'),
         r"line 22: the file footer \(FF\) says 9 body rows \(SB\), but the file holds 11"),
        # a body row lost in transfer: every count disagrees, the section's first
        ("".join(STL_LINES[:6] + STL_LINES[7:]),
         r"line 17: the section record count \(SC\) says 11 body rows \(SB\), but the section holds 10"),
        ("".join(STL_LINES[:20]), r"the file ends without report record count \(RC\), file footer \(FF\)"),
        ("".join(STL_LINES[:12]), r"the file ends without its last section's footer and count \(SF, SC\)"),
        (_altered(STL_TEXT, '"SC",11', '"SC",eleven'), r"line 18: the section record count \(SC\) 'eleven' is not"),
        (STL_TEXT.replace('"CH",', '"XH",'), r"line 4: unknown record type 'XH'"),
        (STL_TEXT.replace('"Transaction ID",', '"Txn ID",'),
         r"line 4 \(column header, CH\) lacks required column\(s\) Transaction ID"),
        ("Date,Amount\n2026-11-02,10.00\n", r"line 1 is not a report header \(RH\)"),
    ],
)  # fmt: skip
def test_a_settlement_report_that_does_not_add_up_is_rejected_whole(
    home: ReconHome, tmp_path: Path, altered: str, reason: str
) -> None:
    path = tmp_path / "STL-20261102.01.010.CSV"
    path.write_text(altered, encoding="utf-8")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=reason) as rejection:
            ingest_file(connection, path, "paypal_settlement", "acme_eu")
        loaded = connection.sql(
            """
            select
                (select count(*) from raw.paypal_settlement),
                (select count(*) from raw.quarantine),
                (select count(*) from raw.ingested_files)
            """
        ).fetchall()
        rejected = connection.sql("select path, reason from raw.rejected_files").fetchall()
    assert str(path) in str(rejection.value)
    assert loaded == [(0, 0, 0)]
    assert rejected == [(str(path), str(rejection.value))]


# --- Shopify Payments transactions export -----------------------------------------------------


def test_shopify_payments_transactions_are_typed_and_malformed_rows_quarantined(home: ReconHome) -> None:
    counts, raw, quarantined = _ingest(home, SHOPIFY_PAYOUTS, "shopify_payouts")
    assert counts == (10, 6, 4)
    charge, converted, refund, adjustment, dispute, payout = raw
    assert [row["type"] for row in raw] == ["charge", "charge", "refund", "adjustment", "dispute", "payout"]
    assert (charge["order_name"], charge["checkout"], charge["card_brand"]) == ("#1001", "31001", "visa")
    assert (charge["amount"], charge["fee"], charge["net"], charge["currency"]) == (
        Decimal("120.00"), Decimal("3.78"), Decimal("116.22"), "EUR"
    )  # fmt: skip
    assert charge["transaction_date"] == datetime(2026, 11, 2, 9, 15, 32)  # +0100 read as UTC
    assert (charge["payout_id"], charge["payout_date"], charge["available_on"]) == (
        "88001", date(2026, 11, 5), date(2026, 11, 4)
    )  # fmt: skip
    assert (converted["presentment_amount"], converted["presentment_currency"]) == (Decimal("49.00"), "USD")
    assert (refund["amount"], refund["net"]) == (Decimal("-20.00"), Decimal("-20.00"))
    assert adjustment["order_name"] is None and adjustment["amount"] == Decimal("-1.50")
    assert (dispute["payout_status"], dispute["payout_id"], dispute["fee"], dispute["net"]) == (
        "pending", None, Decimal("15.00"), Decimal("-50.00")
    )  # fmt: skip
    assert (payout["amount"], payout["payout_id"]) == (Decimal("-138.65"), "88001")
    assert quarantined == [
        (8, "Amount", "field 'Amount': '12.x0' is not a decimal number"),
        (9, "Currency", "field 'Currency': unknown currency 'XYZ' (not an ISO 4217 code)"),
        (10, "Transaction Date",
         "field 'Transaction Date': '2026-11-31 10:00:00 +0100' is not a timestamp (e.g. 2026-11-01 10:15:32 +0100)"),
        (11, "Type", "field 'Type' is required"),
    ]  # fmt: skip


# --- staging ---------------------------------------------------------------------------------


def test_every_data_row_is_staged_or_quarantined_with_its_amounts_signed(home: ReconHome) -> None:
    data_rows = {}
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        for path, source_name in FIXTURE_FILES:
            ingest_file(connection, path, source_name, "acme_eu")
            lines = path.read_text(encoding="utf-8").splitlines()
            # the STL's data rows are its SB records; a CSV's, every line under the header
            data_rows[str(path)] = (
                sum(line.startswith('"SB"') for line in lines) if path == PAYPAL_STL else len(lines) - 1
            )
    seeded = dbt(home, "seed", "--select", "currencies", "profiles")
    assert seeded.returncode == 0, seeded.stdout
    # the staging models with their data and unit tests
    built = dbt(home, "build", "--select", *STAGING_MODELS.values())
    assert built.returncode == 0, built.stdout
    with connect(home.warehouse) as connection:
        for path, source_name in FIXTURE_FILES:
            staged, quarantined = connection.execute(
                f"""
                select
                    (select count(*) from staging.{STAGING_MODELS[source_name]} where source_file = $1),
                    (select count(*) from raw.quarantine where source_file = $1)
                """,
                [str(path)],
            ).fetchall()[0]
            assert staged + quarantined == data_rows[str(path)], path.name
        entries = {
            (row["source_name"], row["source_row"], str(row["source_file"]).rsplit("/", 1)[-1]): row
            for row in _rows(
                connection,
                " union all by name ".join(f"select * from staging.{model}" for model in STAGING_MODELS.values()),
            )
        }

    def entry(source_name: str, path: Path, row: int) -> tuple:
        found = entries[(source_name, row, path.name)]
        return (found["entry_type"], found["account_name"], found["direction"], found["amount_minor"],
                found["fee_minor"], found["net_minor"], found["currency"])  # fmt: skip

    adyen = "adyen_settlement_details"
    assert entry(adyen, ADYEN_BATCH_4, 2) == ("settled", "adyen_clearing", "DEBIT", 12000, 90, 11910, "EUR")
    assert entry(adyen, ADYEN_BATCH_4, 4) == ("fee", "adyen_clearing", "CREDIT", 24, 0, -24, "EUR")
    assert entry(adyen, ADYEN_BATCH_4, 5) == ("merchant_payout", "adyen_payouts", "DEBIT", 16346, 0, 16346, "EUR")
    # converted from USD: counted in the settlement currency, net plus costs
    assert entry(adyen, ADYEN_BATCH_5, 2) == ("settled", "adyen_clearing", "DEBIT", 922, 30, 892, "EUR")
    assert entry(adyen, ADYEN_BATCH_5, 4) == ("refunded", "adyen_clearing", "CREDIT", 2000, 0, -2000, "EUR")
    assert entry(adyen, ADYEN_BATCH_5, 5) == ("chargeback", "adyen_clearing", "CREDIT", 34999, 750, -35749, "EUR")
    assert entry(adyen, ADYEN_BATCH_5, 6) == ("deposit_correction", "adyen_clearing", "DEBIT", 250, 0, 250, "EUR")
    batch_4 = entries[(adyen, 2, ADYEN_BATCH_4.name)]
    assert (batch_4["order_ref"], batch_4["charge_ref"], batch_4["payout_ref"]) == (
        "1001",
        "8816987654321001",
        "batch:4",
    )
    assert batch_4["effective_at"] == datetime(2026, 11, 3, 9, 12, 5)
    assert batch_4["business_date"] == date(2026, 11, 3)
    assert entries[(adyen, 5, ADYEN_BATCH_4.name)]["description"] == "TX731902468135XT batch 4, AcmeShopEU"
    # the batches net to their payouts
    with connect(home.warehouse) as connection:
        sums = connection.execute(
            f"""
            select payout_ref, sum(net_minor) filter (where entry_type <> 'merchant_payout'),
                sum(net_minor) filter (where entry_type = 'merchant_payout')
            from staging.{STAGING_MODELS[adyen]} group by payout_ref order by payout_ref
            """
        ).fetchall()
    assert sums == [("batch:4", 16346, 16346), ("batch:5", 11243, 11243)]

    paypal = "paypal_settlement"
    assert entry(paypal, PAYPAL_STL, 5) == ("payment", "paypal_clearing", "DEBIT", 123456, 4344, 119112, "USD")
    assert entry(paypal, PAYPAL_STL, 6) == ("refund", "paypal_clearing", "CREDIT", 2000, 58, -1942, "USD")
    # the report's hundredths of a yen are yen
    assert entry(paypal, PAYPAL_STL, 7) == ("payment", "paypal_clearing", "DEBIT", 1500, 54, 1446, "JPY")
    assert entry(paypal, PAYPAL_STL, 8) == ("withdrawal", "paypal_withdrawals", "DEBIT", 1000000, 0, 1000000, "USD")
    assert entry(paypal, PAYPAL_STL, 9) == ("other", "paypal_clearing", "CREDIT", 500, 0, -500, "USD")
    refund = entries[(paypal, 6, PAYPAL_STL.name)]
    assert (refund["order_ref"], refund["charge_ref"], refund["customer_email"]) == (
        "#1001", "5TY12345AB678901C", "ann@example.com"
    )  # fmt: skip
    assert entries[(paypal, 8, PAYPAL_STL.name)]["payout_ref"] == "9WD00000AB678901E"
    assert entries[(paypal, 5, PAYPAL_STL.name)]["business_date"] == date(2026, 11, 2)  # 19:15 in Berlin

    shopify = "shopify_payouts"
    assert entry(shopify, SHOPIFY_PAYOUTS, 2) == (
        "charge",
        "shopify_payments_clearing",
        "DEBIT",
        12000,
        378,
        11622,
        "EUR",
    )
    assert entry(shopify, SHOPIFY_PAYOUTS, 4) == (
        "refund",
        "shopify_payments_clearing",
        "CREDIT",
        2000,
        0,
        -2000,
        "EUR",
    )
    assert entry(shopify, SHOPIFY_PAYOUTS, 6) == (
        "dispute",
        "shopify_payments_clearing",
        "CREDIT",
        3500,
        1500,
        -5000,
        "EUR",
    )
    assert entry(shopify, SHOPIFY_PAYOUTS, 7) == ("payout", "shopify_payments_payouts", "DEBIT", 13865, 0, 13865, "EUR")
    # the payout's lines net to it
    paid_out = [row for row in entries.values() if row["source_name"] == shopify and row["payout_ref"] == "88001"]
    assert sum(row["net_minor"] for row in paid_out if row["entry_type"] != "payout") == 13865
    assert json.loads(entries[(shopify, 3, SHOPIFY_PAYOUTS.name)]["metadata"])["presentment_currency"] == "USD"


# --- the default Adyen rules, end to end ---------------------------------------------------------


def test_adyen_orders_settle_in_a_batch_whose_payout_the_bank_credits(tmp_path: Path) -> None:
    home = tmp_path / "home"
    remittance = "TX731902468135XT batch 4, AcmeShopEU"
    statement = write_camt053(
        tmp_path / "statement.xml",
        statement_id="STMT-2026-11-05",
        iban="DE89370400440532013000",
        currency="EUR",
        opening_balance_minor=0,
        entries=[
            # the payout, as Adyen describes it to the bank
            {"amount_minor": 16346, "credit_debit": "CRDT", "booking_date": date(2026, 11, 5),
             "account_servicer_ref": "2026110500001", "end_to_end_id": "NOTPROVIDED",
             "remittance": remittance, "debtor_name": "Adyen N.V."},
            # another processor's credit of the same amount: no Adyen rule may take it
            {"amount_minor": 16346, "credit_debit": "CRDT", "booking_date": date(2026, 11, 5),
             "account_servicer_ref": "2026110500002", "end_to_end_id": "PP-E2E-1",
             "remittance": "PAYPAL TRANSFER 9WD00000AB678901E", "debtor_name": "PayPal Europe"},
        ],
        created_at=datetime(2026, 11, 6, 6, 0),
    )  # fmt: skip
    for path, source_name in (
        (ADYEN_ORDERS, "shopify_orders"),
        (ADYEN_BATCH_4, "adyen_settlement_details"),
        (statement, "camt053"),
    ):
        recon(home, "ingest", str(path), "--source", source_name, "--profile", "acme_eu")
    recon(home, "run", "--start", "2026-11-02", "--end", "2026-11-06")
    with duckdb.connect(str(home / "warehouse" / "recon.duckdb"), read_only=True) as connection:
        matches = _rows(
            connection,
            """
            select rule_name, source_record_id, source_member_count, target_record_id, identifier_name,
                expected_amount_minor, matched_amount_minor, fee_minor, currency,
                list_bool_and([result.passed for result in match_results]) as all_passed
            from marts.fct_matches
            order by rule_name, source_record_id
            """,
        )
        outcomes = connection.execute(
            """
            select entry_type, side, status, count(*)
            from marts.fct_reconciliation_outcomes
            where source_name = 'adyen_settlement_details'
            group by all order by all
            """
        ).fetchall()
    batch = "AcmeShopEU:4"
    assert matches == [
        {"rule_name": "adyen_payout_to_bank_credit", "source_record_id": f"{batch}:MerchantPayout:{remittance}",
         "source_member_count": 1, "target_record_id": "2026110500001", "identifier_name": "payout_reference",
         "expected_amount_minor": 16346, "matched_amount_minor": 16346, "fee_minor": 0, "currency": "EUR",
         "all_passed": True},
        {"rule_name": "adyen_settlement_to_payout",
         "source_record_id": f"{batch}:Settled:8816987654321001:8816987654321101", "source_member_count": 3,
         "target_record_id": f"{batch}:MerchantPayout:{remittance}", "identifier_name": "merchant_account_and_batch",
         "expected_amount_minor": 16346, "matched_amount_minor": 16346, "fee_minor": 0, "currency": "EUR",
         "all_passed": True},
        {"rule_name": "shopify_order_to_adyen_payment", "source_record_id": "#1001", "source_member_count": 1,
         "target_record_id": f"{batch}:Settled:8816987654321001:8816987654321101",
         "identifier_name": "merchant_reference", "expected_amount_minor": 12000, "matched_amount_minor": 12000,
         "fee_minor": 90, "currency": "EUR", "all_passed": True},
        {"rule_name": "shopify_order_to_adyen_payment", "source_record_id": "#1002", "source_member_count": 1,
         "target_record_id": f"{batch}:Settled:8816987654321002:8816987654321102",
         "identifier_name": "merchant_reference", "expected_amount_minor": 4550, "matched_amount_minor": 4550,
         "fee_minor": 90, "currency": "EUR", "all_passed": True},
    ]  # fmt: skip
    # every journal entry of the batch is matched in each role it plays: the settlements as the
    # orders' counterparts and as lines of the batch, the fee as a line, the payout as the batch's
    # counterpart and as the bank credit's source
    assert outcomes == [
        ("fee", "source", "matched", 1),
        ("merchant_payout", "source", "matched", 1),
        ("merchant_payout", "target", "matched", 1),
        ("settled", "source", "matched", 2),
        ("settled", "target", "matched", 2),
    ]
