"""camt.053 statements, Stripe's payout reconciliation report and PayPal's activity download: landed, typed,
quarantined, staged."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dagster_project.lib.formats import write_camt053, write_paypal_activity, write_stripe_payout_reconciliation
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, ensure_raw_schema, ingest_file
from dagster_project.lib.sources import currency_minor_units
from dagster_project.lib.warehouse import connect
from tests.conftest import dbt

# camt.053.001.02: status as text, debtor name directly under Dbtr, IBAN account, a debit
# opening balance, remittance in two lines, a proprietary bank code, a pending entry with a
# booking time
CAMT053_V02 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>MSG-20261104-01</MsgId>
      <CreDtTm>2026-11-04T06:00:00+01:00</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>STMT-2026-11-03</Id>
      <ElctrncSeqNb>307</ElctrncSeqNb>
      <CreDtTm>2026-11-04T06:00:00+01:00</CreDtTm>
      <Acct>
        <Id><IBAN>DE89370400440532013000</IBAN></Id>
        <Ccy>EUR</Ccy>
      </Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">1250.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Dt><Dt>2026-11-03</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">2849.66</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-11-03</Dt></Dt>
      </Bal>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="EUR">4123.45</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-03</Dt></BookgDt>
        <ValDt><Dt>2026-11-03</Dt></ValDt>
        <AcctSvcrRef>2026110300001</AcctSvcrRef>
        <BkTxCd>
          <Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>STRIPE-E2E-1</EndToEndId></Refs>
            <RltdPties><Dbtr><Nm>STRIPE PAYMENTS EUROPE LTD</Nm></Dbtr></RltdPties>
            <RmtInf>
              <Ustrd>STRIPE</Ustrd>
              <Ustrd>po_1QxYzAbCdEfGh2026 PAYOUT</Ustrd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <NtryRef>2</NtryRef>
        <Amt Ccy="EUR">23.79</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-03</Dt></BookgDt>
        <ValDt><Dt>2026-11-03</Dt></ValDt>
        <BkTxCd><Prtry><Cd>NMSC+805</Cd><Issr>DK</Issr></Prtry></BkTxCd>
        <AddtlNtryInf>Account fees November</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">99.99</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>PDNG</Sts>
        <BookgDt><DtTm>2026-11-03T16:45:00+01:00</DtTm></BookgDt>
        <ValDt><DtTm>2026-11-04T00:00:00+01:00</DtTm></ValDt>
        <AcctSvcrRef>2026110300003</AcctSvcrRef>
        <BkTxCd>
          <Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <RmtInf><Ustrd>Invoice 77</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""

# camt.053.001.08: status and debtor name one level deeper, two statements in one file, an
# account without an IBAN, a currency without minor units
CAMT053_V08 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>MSG-08-1</MsgId>
      <CreDtTm>2026-11-06T05:30:00Z</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>USD-2026-11-05</Id>
      <CreDtTm>2026-11-06T05:30:00Z</CreDtTm>
      <Acct>
        <Id><IBAN>GB33BUKB20201555555555</IBAN></Id>
        <Ccy>USD</Ccy>
      </Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="USD">100.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-11-05</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="USD">1100.50</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-11-05</Dt></Dt>
      </Bal>
      <Ntry>
        <Amt Ccy="USD">1000.50</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-05</Dt></BookgDt>
        <ValDt><Dt>2026-11-05</Dt></ValDt>
        <AcctSvcrRef>A-1</AcctSvcrRef>
        <BkTxCd>
          <Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>XBCT</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>PP-E2E-9</EndToEndId></Refs>
            <RltdPties><Dbtr><Pty><Nm>PayPal Europe</Nm></Pty></Dbtr></RltdPties>
            <RmtInf><Ustrd>PAYPAL TRANSFER 5TY12345AB678901C</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Stmt>
    <Stmt>
      <Id>JPY-2026-11-05</Id>
      <CreDtTm>2026-11-06T05:30:00Z</CreDtTm>
      <Acct>
        <Id><Othr><Id>JP-0001</Id></Othr></Id>
        <Ccy>JPY</Ccy>
      </Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="JPY">10000</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-11-05</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="JPY">8500</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-11-05</Dt></Dt>
      </Bal>
      <Ntry>
        <NtryRef>B-7</NtryRef>
        <Amt Ccy="JPY">1500</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-05</Dt></BookgDt>
        <ValDt><Dt>2026-11-05</Dt></ValDt>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def _statement(entries: str, *, balance_indicator: str = "CRDT") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-04T06:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S-1</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">10.00</Amt><CdtDbtInd>{balance_indicator}</CdtDbtInd><Dt><Dt>2026-11-03</Dt></Dt>
      </Bal>
      {entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def _entry(amount: str = "10.00", currency: str = "EUR", credit_debit: str | None = "CRDT",
           booking_date: str | None = "2026-11-03", reference: str = "R") -> str:  # fmt: skip
    indicator = f"<CdtDbtInd>{credit_debit}</CdtDbtInd>" if credit_debit is not None else ""
    booked = f"<BookgDt><Dt>{booking_date}</Dt></BookgDt>" if booking_date is not None else ""
    return (
        f'<Ntry><Amt Ccy="{currency}">{amount}</Amt>{indicator}<Sts><Cd>BOOK</Cd></Sts>'
        f"{booked}<AcctSvcrRef>{reference}</AcctSvcrRef></Ntry>"
    )


STRIPE_REPORT = """\
automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,created,available_on_utc,\
available_on,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,\
customer_facing_currency,customer_email,charge_id,payment_intent_id,payment_metadata[order_id]
po_1Q2w3E4r,2026-11-03 00:00:00,txn_1Aa,2026-11-01 10:15:32,2026-11-01 10:15:32,2026-11-03 00:00:00,\
2026-11-03 00:00:00,eur,108.20,3.44,104.76,charge,ch_1Aa,Order #1001,100.00,eur,ann@example.com,ch_1Aa,pi_1Aa,1001
po_1Q2w3E4r,2026-11-03 00:00:00,txn_2Bb,2026-11-02 09:00:00,2026-11-02 09:00:00,2026-11-03 00:00:00,\
2026-11-03 00:00:00,eur,-20.00,0.00,-20.00,refund,re_2Bb,Refund for #1001,,,ann@example.com,ch_1Aa,pi_1Aa,1001
po_9Zz,2026-11-05 00:00:00,txn_3Cc,2026-11-03 12:00:00,2026-11-03 12:00:00,2026-11-05 00:00:00,\
2026-11-05 00:00:00,jpy,1500,75,1425,charge,ch_3Cc,,,,,ch_3Cc,,
po_9Zz,2026-11-05 00:00:00,txn_4Dd,2026-11-03 12:00:00,,,,eur,ten,0.30,9.70,charge,ch_4Dd,,,,,ch_4Dd,,
po_9Zz,2026-11-05 00:00:00,,2026-11-03 12:00:00,,,,eur,10.00,0.30,9.70,charge,ch_5Ee,,,,,ch_5Ee,,
po_9Zz,2026-11-05 25:00:00,txn_6Ff,2026-11-03 12:00:00,,,,eur,10.00,0.30,9.70,charge,ch_6Ff,,,,,ch_6Ff,,
"""


# PayPal's activity download with customized report fields (an extra Balance column the source
# does not declare): a byte order mark, every field quoted, month-first dates (one without
# leading zeros), local times with their zone abbreviation, signed amounts with a comma between
# thousands; then rows that must be quarantined
PAYPAL_ACTIVITY = """\ufeff"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net",\
"From Email Address","To Email Address","Transaction ID","Item Title","Reference Txn ID","Invoice Number",\
"Receipt ID","Balance","Subject","Balance Impact"
"11/01/2026","10:15:32","PST","Ann Example","Express Checkout Payment","Completed","USD","1,234.56","-43.44",\
"1,191.12","Ann@Example.com","shop@example.com","5TY12345AB678901C","Linen shirt","","#1001","3011-4441-2233-0001",\
"1,191.12","Order #1001","Credit"
"10/31/2026","23:59:59","PDT","Ann Example","Payment Refund","Completed","USD","-20.00","0.00","-20.00",\
"shop@example.com","ann@example.com","7RF00000AB678901D","","5TY12345AB678901C","#1001","","1,171.12","","Debit"
"1/5/2027","09:00:00","CET","","General Withdrawal","Completed","EUR","-12,431.37","0.00","-12,431.37",\
"shop@example.com","","9WD00000AB678901E","","","","","0.00","","Debit"
"11/02/2026","08:00:00","JST","Ken Tanaka","General Authorization","Pending","JPY","1,500","0","1,500",\
"ken@example.com","shop@example.com","1AU00000AB678901F","","","#1002","","0","","Memo"
"11/02/2026","10:00:00","PST","Bad Amount","Express Checkout Payment","Completed","USD","12,x0","-0.30","9.70",\
"b@example.com","shop@example.com","2BA00000AB678901G","","","#1003","","","","Credit"
"11/02/2026","10:00:00","PST","Bad Currency","Express Checkout Payment","Completed","XYZ","10.00","-0.30","9.70",\
"b@example.com","shop@example.com","2BA00000AB678901H","","","#1004","","","","Credit"
"02/30/2026","10:00:00","PST","Bad Date","Express Checkout Payment","Completed","USD","10.00","-0.30","9.70",\
"b@example.com","shop@example.com","2BA00000AB678901I","","","#1005","","","","Credit"
"11/02/2026","10:00:00","ZZT","Bad Zone","Express Checkout Payment","Completed","USD","10.00","-0.30","9.70",\
"b@example.com","shop@example.com","2BA00000AB678901J","","","#1006","","","","Credit"
"11/02/2026","10:00:00","PST","Bad Impact","Express Checkout Payment","Completed","USD","10.00","-0.30","9.70",\
"b@example.com","shop@example.com","2BA00000AB678901K","","","#1007","","","","Credited"
"11/02/2026","10:00:00","PST","Bad Separator","Express Checkout Payment","Completed","USD","10.00","-4,3","5.70",\
"b@example.com","shop@example.com","2BA00000AB678901L","","","#1008","","","","Credit"
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _rows(connection: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    relation = connection.sql(query)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _counts(connection: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int]:
    return connection.sql(
        """
        select
            (select count(*) from raw.camt053),
            (select count(*) from raw.quarantine),
            (select count(*) from raw.ingested_files),
            (select count(*) from raw.rejected_files)
        """
    ).fetchall()[0]


# --- raw tables ------------------------------------------------------------------------------


def test_the_new_raw_tables_exist_before_any_file_lands(home: ReconHome) -> None:
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        counts = connection.sql(
            "select (select count(*) from raw.camt053), (select count(*) from raw.stripe_payout_reconciliation)"
        ).fetchall()
        types = dict(
            connection.sql(
                """
                select column_name, data_type from information_schema.columns
                where table_schema = 'raw' and table_name = 'camt053'
                """
            ).fetchall()
        )
    assert counts == [(0, 0)]
    assert types["amount"] == "DECIMAL(18,4)" and types["booking_date"] == "DATE"
    assert types["booked_at"] == "TIMESTAMP" and types["opening_balance"] == "DECIMAL(18,4)"


def test_camt053_v02_entries_land_with_their_statement(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "statement_v02.xml", CAMT053_V02)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "camt053", "acme_eu")
        rows = _rows(connection, "select * from raw.camt053 order by _source_row")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    assert [row["_source_row"] for row in rows] == [1, 2, 3]
    for row in rows:
        assert row["statement_id"] == "STMT-2026-11-03"
        assert row["account_iban"] == "DE89370400440532013000" and row["account_currency"] == "EUR"
        assert row["opening_balance"] == Decimal("-1250.00") and row["closing_balance"] == Decimal("2849.66")
        assert row["opening_balance_date"] == row["closing_balance_date"] == date(2026, 11, 3)
    first, second, third = rows
    assert first["amount"] == Decimal("4123.45") and first["currency"] == "EUR"
    assert (first["credit_debit"], first["status"]) == ("CRDT", "BOOK")
    assert (first["booking_date"], first["booked_at"]) == (date(2026, 11, 3), None)
    assert first["value_date"] == date(2026, 11, 3)
    assert (first["entry_ref"], first["account_servicer_ref"]) == ("1", "2026110300001")
    assert first["bank_transaction_code"] == "PMNT/RCDT/ESCT"
    assert first["end_to_end_id"] == "STRIPE-E2E-1"
    assert first["debtor_name"] == "STRIPE PAYMENTS EUROPE LTD"
    assert first["remittance_information"] == "STRIPE po_1QxYzAbCdEfGh2026 PAYOUT"
    assert (second["amount"], second["credit_debit"]) == (Decimal("23.79"), "DBIT")
    assert second["account_servicer_ref"] is None and second["bank_transaction_code"] == "NMSC+805"
    assert second["additional_information"] == "Account fees November" and second["remittance_information"] is None
    assert (third["status"], third["booking_date"]) == ("PDNG", None)
    assert third["booked_at"] == datetime(2026, 11, 3, 15, 45)  # converted to UTC
    assert third["value_date"] == date(2026, 11, 4)


def test_camt053_v08_with_two_statements(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "statement_v08.xml", CAMT053_V08)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "camt053", "globex_us")
        rows = _rows(connection, "select * from raw.camt053 order by _source_row")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    usd, jpy = rows
    assert (usd["_source_row"], usd["statement_id"]) == (1, "USD-2026-11-05")
    assert usd["account_iban"] == "GB33BUKB20201555555555"
    assert (usd["amount"], usd["currency"], usd["status"]) == (Decimal("1000.50"), "USD", "BOOK")
    assert usd["debtor_name"] == "PayPal Europe"
    assert usd["remittance_information"] == "PAYPAL TRANSFER 5TY12345AB678901C"
    assert (usd["opening_balance"], usd["closing_balance"]) == (Decimal("100.00"), Decimal("1100.50"))
    assert (jpy["_source_row"], jpy["statement_id"], jpy["account_iban"]) == (2, "JPY-2026-11-05", "JP-0001")
    assert (jpy["amount"], jpy["credit_debit"], jpy["entry_ref"]) == (Decimal("1500"), "DBIT", "B-7")
    assert (jpy["opening_balance"], jpy["closing_balance"], jpy["account_currency"]) == (10000, 8500, "JPY")
    assert jpy["account_servicer_ref"] is None and jpy["debtor_name"] is None


def test_malformed_camt053_entries_are_quarantined_and_the_rest_loads(home: ReconHome, tmp_path: Path) -> None:
    entries = [
        _entry(reference="good"),
        _entry(amount="12,x0"),
        _entry(credit_debit=None),
        _entry(booking_date="2026-13-01"),
        _entry(currency="XYZ"),
        _entry(credit_debit="CRED"),
        _entry(booking_date=None),
    ]
    path = _write(tmp_path / "malformed.xml", _statement("\n".join(entries)))
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "camt053", "acme_eu")
        loaded = connection.sql("select account_servicer_ref, _source_row from raw.camt053").fetchall()
        quarantined = connection.sql(
            "select source_file, source_row, field, reason, raw_record from raw.quarantine order by source_row"
        ).fetchall()
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 1, 6)
    assert loaded == [("good", 1)]
    assert {row[0] for row in quarantined} == {str(path)}
    assert [row[1:4] for row in quarantined] == [
        (2, "Amt", "field 'Amt': '12,x0' is not a decimal number"),
        (3, "CdtDbtInd", "field 'CdtDbtInd' is required"),
        (4, "BookgDt/Dt", "field 'BookgDt/Dt': '2026-13-01' is not a date (YYYY-MM-DD)"),
        (5, "Amt/@Ccy", "field 'Amt/@Ccy': unknown currency 'XYZ' (not an ISO 4217 code)"),
        (6, "CdtDbtInd", "field 'CdtDbtInd': 'CRED' is not one of CRDT, DBIT"),
        (7, "BookgDt/Dt", "field 'BookgDt/Dt' is required when 'BookgDt/DtTm' is not given"),
    ]
    assert "12,x0" in quarantined[0][4] and "<Ntry" in quarantined[0][4]


def test_a_statement_with_an_unreadable_balance_quarantines_its_entries(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "balance.xml", _statement(_entry() + _entry(), balance_indicator="X"))
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "camt053", "acme_eu")
        quarantined = connection.sql("select source_row, field, reason from raw.quarantine order by 1").fetchall()
    assert (result.rows_loaded, result.rows_quarantined) == (0, 2)
    reason = "balance OPBD: CdtDbtInd is 'X', not CRDT or DBIT"
    assert quarantined == [(1, "Bal[OPBD]/CdtDbtInd", reason), (2, "Bal[OPBD]/CdtDbtInd", reason)]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&lol2;</Id>
</Stmt></BkToCstmrStmt></Document>
"""


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("orders.xml", "Name,Total\n#1001,10.00\n", r"orders.xml: not well-formed XML: syntax error: line 1"),
        ("laughs.xml", BILLION_LAUGHS, r"laughs.xml: contains a DTD or entity declaration"),
        ("truncated.xml", CAMT053_V02[: CAMT053_V02.index("<Ntry>", 2000)], r"truncated.xml: not well-formed XML"),
        ("report.xml", CAMT053_V02.replace("camt.053.001.02", "camt.052.001.02"),
         r"report.xml: namespace 'urn:iso:std:iso:20022:tech:xsd:camt.052.001.02' is not camt.053"),
        ("pain.xml", '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><CstmrCdtTrfInitn/></Document>',
         r"pain.xml: no BkToCstmrStmt element under <Document>"),
    ],
)  # fmt: skip
def test_an_unreadable_statement_is_rejected_whole(
    home: ReconHome, tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = _write(tmp_path / name, content)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=reason):
            ingest_file(connection, path, "camt053", "acme_eu")
        rejected = connection.sql("select path, reason from raw.rejected_files").fetchall()
        counts = _counts(connection)
    assert counts == (0, 0, 0, 1)
    assert rejected[0][0] == str(path)
    assert rejected[0][1].startswith(f"{path}: ")


def test_stripe_payout_reconciliation_rows_are_typed_and_checked(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "payout_reconciliation.csv", STRIPE_REPORT)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "stripe_payout_reconciliation", "acme_eu")
        rows = _rows(connection, "select * from raw.stripe_payout_reconciliation order by _source_row")
        quarantined = connection.sql("select source_row, field, reason from raw.quarantine order by 1").fetchall()
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 3, 3)
    charge, refund, yen = rows
    assert charge["automatic_payout_id"] == "po_1Q2w3E4r"
    assert charge["automatic_payout_effective_at"] == datetime(2026, 11, 3)
    assert charge["created_utc"] == datetime(2026, 11, 1, 10, 15, 32)
    assert charge["available_on_utc"] == datetime(2026, 11, 3)
    assert (charge["gross"], charge["fee"], charge["net"]) == (Decimal("108.20"), Decimal("3.44"), Decimal("104.76"))
    assert (charge["currency"], charge["customer_facing_amount"], charge["customer_facing_currency"]) == (
        "EUR", Decimal("100.00"), "EUR"
    )  # fmt: skip
    assert (charge["reporting_category"], charge["source_id"], charge["charge_id"]) == ("charge", "ch_1Aa", "ch_1Aa")
    assert (charge["description"], charge["customer_email"], charge["payment_intent_id"]) == (
        "Order #1001", "ann@example.com", "pi_1Aa"
    )  # fmt: skip
    assert (refund["balance_transaction_id"], refund["net"], refund["reporting_category"]) == (
        "txn_2Bb", Decimal("-20.00"), "refund"
    )  # fmt: skip
    assert (yen["currency"], yen["net"]) == ("JPY", Decimal("1425"))
    assert quarantined == [
        (5, "gross", "field 'gross': 'ten' is not a decimal number"),
        (6, "balance_transaction_id", "field 'balance_transaction_id' is required"),
        (7, "automatic_payout_effective_at",
         "field 'automatic_payout_effective_at': '2026-11-05 25:00:00' is not a timestamp "
         "(e.g. 2026-11-01 10:15:32, UTC unless an offset is given)"),
    ]  # fmt: skip


def test_a_report_without_its_key_columns_is_rejected_whole(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "payouts.csv", "id,amount,currency\npo_1,10.00,eur\n")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=r"lacks required column\(s\) balance_transaction_id, net"):
            ingest_file(connection, path, "stripe_payout_reconciliation", "acme_eu")


PAYPAL_TIMESTAMP = "is not a timestamp (MM/DD/YYYY HH:MM:SS ZONE, ZONE a time zone such as PST or CET)"


def test_paypal_activity_rows_are_typed_and_checked(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "Download.CSV", PAYPAL_ACTIVITY)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "paypal_activity", "globex_us")
        rows = _rows(connection, "select * from raw.paypal_activity order by _source_row")
        quarantined = connection.sql(
            "select source_file, source_row, field, reason, raw_record from raw.quarantine order by source_row"
        ).fetchall()
        types = dict(
            connection.sql(
                """
                select column_name, data_type from information_schema.columns
                where table_schema = 'raw' and table_name = 'paypal_activity'
                """
            ).fetchall()
        )
    assert types["occurred_at"] == "TIMESTAMP" and types["gross"] == "DECIMAL(18,4)"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (10, 4, 6)
    payment, refund, withdrawal, memo = rows
    assert [row["_source_row"] for row in rows] == [2, 3, 4, 5]
    # local times read with their zone and kept in UTC
    assert payment["occurred_at"] == datetime(2026, 11, 1, 18, 15, 32)  # PST, UTC-8
    assert refund["occurred_at"] == datetime(2026, 11, 1, 6, 59, 59)  # PDT, UTC-7
    assert withdrawal["occurred_at"] == datetime(2027, 1, 5, 8, 0)  # CET, UTC+1
    assert memo["occurred_at"] == datetime(2026, 11, 1, 23, 0)  # JST, UTC+9
    assert (payment["local_time"], payment["time_zone"]) == ("10:15:32", "PST")
    assert (payment["gross"], payment["fee"], payment["net"]) == (
        Decimal("1234.56"), Decimal("-43.44"), Decimal("1191.12")
    )  # fmt: skip
    assert (payment["type"], payment["status"], payment["currency"], payment["balance_impact"]) == (
        "Express Checkout Payment", "Completed", "USD", "Credit"
    )  # fmt: skip
    assert (payment["name"], payment["from_email"], payment["to_email"]) == (
        "Ann Example", "Ann@Example.com", "shop@example.com"
    )  # fmt: skip
    assert (payment["transaction_id"], payment["invoice_number"], payment["item_title"]) == (
        "5TY12345AB678901C", "#1001", "Linen shirt"
    )  # fmt: skip
    assert (payment["receipt_id"], payment["subject"], payment["reference_txn_id"]) == (
        "3011-4441-2233-0001", "Order #1001", None
    )  # fmt: skip
    assert (refund["type"], refund["gross"], refund["net"], refund["balance_impact"]) == (
        "Payment Refund", Decimal("-20.00"), Decimal("-20.00"), "Debit"
    )  # fmt: skip
    assert refund["reference_txn_id"] == "5TY12345AB678901C"
    assert (withdrawal["type"], withdrawal["currency"], withdrawal["gross"], withdrawal["net"]) == (
        "General Withdrawal", "EUR", Decimal("-12431.37"), Decimal("-12431.37")
    )  # fmt: skip
    assert (memo["currency"], memo["gross"], memo["balance_impact"], memo["status"]) == (
        "JPY", Decimal("1500"), "Memo", "Pending"
    )  # fmt: skip
    assert {row[0] for row in quarantined} == {str(path)}
    assert [row[1:4] for row in quarantined] == [
        (6, "Gross", "field 'Gross': '12,x0' is not a decimal number"),
        (7, "Currency", "field 'Currency': unknown currency 'XYZ' (not an ISO 4217 code)"),
        (8, "Date", f"field 'Date': '02/30/2026 10:00:00 PST' {PAYPAL_TIMESTAMP}"),
        (9, "Date", f"field 'Date': '11/02/2026 10:00:00 ZZT' {PAYPAL_TIMESTAMP}"),
        (10, "Balance Impact", "field 'Balance Impact': 'Credited' is not one of Credit, Debit, Memo"),
        (11, "Fee", "field 'Fee': '-4,3' is not a decimal number"),
    ]
    assert "12,x0" in quarantined[0][4] and "2BA00000AB678901G" in quarantined[0][4]


def test_a_paypal_file_without_its_key_columns_is_rejected_whole(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "activity.csv", '"Date","Name","Gross"\n"11/01/2026","Ann","10.00"\n')
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=r"lacks required column\(s\) Time, TimeZone, Type, Status, Currency"):
            ingest_file(connection, path, "paypal_activity", "acme_eu")


# --- writers round-trip through the parser -----------------------------------------------------


def _major(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(currency_minor_units()[currency]))


@pytest.mark.parametrize(("version", "currency"), [("camt.053.001.02", "EUR"), ("camt.053.001.08", "JPY")])
def test_a_written_statement_reads_back_as_written(
    home: ReconHome, tmp_path: Path, version: str, currency: str
) -> None:
    long_text = "STRIPE PAYOUT po_1RoundTrip " + " ".join(f"order-{n}" for n in range(30))
    entries = [
        {"amount_minor": 41234, "credit_debit": "CRDT", "booking_date": date(2026, 11, 3),
         "value_date": date(2026, 11, 3), "account_servicer_ref": "ASR-1", "end_to_end_id": "E2E-1",
         "remittance": long_text, "debtor_name": "Stripe Payments Europe"},
        {"amount_minor": 1999, "credit_debit": "DBIT", "booking_date": date(2026, 11, 4),
         "value_date": date(2026, 11, 5), "account_servicer_ref": "ASR-2", "end_to_end_id": "E2E-2",
         "remittance": "Rent November", "debtor_name": "Acme Shop"},
        {"amount_minor": 700, "credit_debit": "CRDT", "booking_date": date(2026, 11, 4),
         "value_date": date(2026, 11, 4), "account_servicer_ref": "ASR-3", "end_to_end_id": "E2E-3",
         "remittance": "not yet booked", "debtor_name": "Someone", "status": "PDNG"},
    ]  # fmt: skip
    path = write_camt053(
        tmp_path / "written.xml",
        statement_id="STMT-RT",
        iban="DE89370400440532013000",
        currency=currency,
        opening_balance_minor=-5000,
        entries=entries,
        created_at=datetime(2026, 11, 5, 6, 0),
        version=version,
    )
    assert f"urn:iso:std:iso:20022:tech:xsd:{version}" in path.read_text()
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "camt053", "acme_eu")
        rows = _rows(connection, "select * from raw.camt053 order by _source_row")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    for written, row in zip(entries, rows, strict=True):
        assert _major(row["amount"], currency) == written["amount_minor"]
        assert row["currency"] == row["account_currency"] == currency
        assert row["credit_debit"] == written["credit_debit"]
        assert row["status"] == written.get("status", "BOOK")
        assert (row["booking_date"], row["value_date"]) == (written["booking_date"], written["value_date"])
        assert row["account_servicer_ref"] == written["account_servicer_ref"]
        assert row["end_to_end_id"] == written["end_to_end_id"]
        assert row["remittance_information"] == written["remittance"]
        assert row["debtor_name"] == written["debtor_name"]
        assert (row["statement_id"], row["account_iban"]) == ("STMT-RT", "DE89370400440532013000")
        # the closing balance counts booked entries only
        assert _major(row["opening_balance"], currency) == -5000
        assert _major(row["closing_balance"], currency) == -5000 + 41234 - 1999
        assert row["closing_balance_date"] == date(2026, 11, 4)


def test_a_written_payout_report_reads_back_as_written(home: ReconHome, tmp_path: Path) -> None:
    rows = [
        {"automatic_payout_id": "po_1", "automatic_payout_effective_at": datetime(2026, 11, 3),
         "balance_transaction_id": "txn_1", "created_utc": datetime(2026, 11, 1, 10, 15, 32), "currency": "EUR",
         "gross": 10820, "fee": 344, "reporting_category": "charge", "source_id": "ch_1", "charge_id": "ch_1",
         "customer_facing_amount": 10000, "customer_facing_currency": "USD", "customer_email": "ann@example.com"},
        {"automatic_payout_id": "po_1", "automatic_payout_effective_at": datetime(2026, 11, 3),
         "balance_transaction_id": "txn_2", "currency": "JPY", "gross": -1500, "fee": 0, "net": -1500,
         "reporting_category": "refund", "source_id": "re_2"},
        {"automatic_payout_id": "po_2", "automatic_payout_effective_at": "2026-11-04 00:00:00",
         "balance_transaction_id": "txn_3", "currency": "KWD", "gross": 1234, "fee": 5,
         "reporting_category": "charge"},
    ]  # fmt: skip
    path = write_stripe_payout_reconciliation(tmp_path / "report.csv", rows)
    header = path.read_text().splitlines()[0]
    assert header.startswith("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,")
    assert ",eur,108.20,3.44,104.76," in path.read_text()
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "stripe_payout_reconciliation", "acme_eu")
        loaded = _rows(connection, "select * from raw.stripe_payout_reconciliation order by _source_row")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    for written, row in zip(rows, loaded, strict=True):
        currency = written["currency"]
        assert row["currency"] == currency
        assert _major(row["gross"], currency) == written["gross"]
        assert _major(row["fee"], currency) == written["fee"]
        assert _major(row["net"], currency) == written["gross"] - written["fee"]
        assert (row["automatic_payout_id"], row["balance_transaction_id"]) == (
            written["automatic_payout_id"], written["balance_transaction_id"]
        )  # fmt: skip
    assert loaded[0]["automatic_payout_effective_at"] == datetime(2026, 11, 3)
    assert loaded[0]["created_utc"] == datetime(2026, 11, 1, 10, 15, 32)
    assert (loaded[0]["customer_facing_amount"], loaded[0]["customer_facing_currency"]) == (Decimal("100.00"), "USD")
    assert loaded[2]["automatic_payout_effective_at"] == datetime(2026, 11, 4)


def test_a_written_paypal_activity_download_reads_back_as_written(home: ReconHome, tmp_path: Path) -> None:
    rows = [
        {"at": datetime(2026, 7, 1, 14, 30, 5, tzinfo=ZoneInfo("Europe/Berlin")), "Name": "Ann Example",
         "Type": "Express Checkout Payment", "Status": "Completed", "Currency": "EUR", "Gross": 123456,
         "Fee": -4358, "From Email Address": "ann@example.com", "To Email Address": "shop@example.com",
         "Transaction ID": "5TY12345AB678901C", "Invoice Number": "#1001"},
        {"at": datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")), "Name": "Ann Example",
         "Type": "Payment Refund", "Status": "Completed", "Currency": "USD", "Gross": -2000, "Fee": 0,
         "From Email Address": "shop@example.com", "To Email Address": "ann@example.com",
         "Transaction ID": "7RF00000AB678901D", "Reference Txn ID": "5TY12345AB678901C", "Invoice Number": "1001"},
        {"at": datetime(2026, 11, 3, 23, 0, tzinfo=ZoneInfo("Asia/Tokyo")), "Type": "General Withdrawal",
         "Status": "Completed", "Currency": "JPY", "Gross": -1500000, "Fee": 0, "Transaction ID": "9WD00000AB678901E"},
        {"at": datetime(2026, 11, 4, 12, 0, tzinfo=UTC), "Type": "General Authorization", "Status": "Pending",
         "Currency": "KWD", "Gross": 1234, "Fee": -5, "Net": 1229, "Balance Impact": "Memo",
         "Transaction ID": "1AU00000AB678901F"},
    ]  # fmt: skip
    path = write_paypal_activity(tmp_path / "activity.csv", rows)
    text = path.read_text()
    assert text.startswith('"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net",')
    assert '"07/01/2026","14:30:05","CEST"' in text and '"11/02/2026","09:00:00","PST"' in text
    assert '"1,234.56","-43.58","1,190.98"' in text and '"-1,500,000","0","-1,500,000"' in text
    with pytest.raises(ValueError, match="Not columns of the PayPal activity download: Amount"):
        write_paypal_activity(tmp_path / "bad.csv", [{**rows[0], "Amount": 1}])
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        # every day is 12 or less: the file is read in globex_us's declared order, month first
        result = ingest_file(connection, path, "paypal_activity", "globex_us")
        loaded = _rows(connection, "select * from raw.paypal_activity order by _source_row")
    assert (result.rows_loaded, result.rows_quarantined) == (4, 0)
    for written, row in zip(rows, loaded, strict=True):
        currency = written["Currency"]
        assert row["occurred_at"] == written["at"].astimezone(UTC).replace(tzinfo=None)
        assert row["currency"] == currency
        assert _major(row["gross"], currency) == written["Gross"]
        assert _major(row["fee"], currency) == written["Fee"]
        assert _major(row["net"], currency) == written["Gross"] + written["Fee"]
        assert (row["transaction_id"], row["type"], row["status"]) == (
            written["Transaction ID"], written["Type"], written["Status"]
        )  # fmt: skip
        assert row["invoice_number"] == written.get("Invoice Number")
        assert row["reference_txn_id"] == written.get("Reference Txn ID")
    assert [row["balance_impact"] for row in loaded] == ["Credit", "Debit", "Debit", "Memo"]
    assert [row["time_zone"] for row in loaded] == ["CEST", "PST", "JST", "UTC"]


# --- staging -----------------------------------------------------------------------------------


def test_statement_and_report_are_staged(home: ReconHome, tmp_path: Path) -> None:
    statement = _write(tmp_path / "statement_v02.xml", CAMT053_V02)
    report = _write(tmp_path / "payout_reconciliation.csv", STRIPE_REPORT)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, statement, "camt053", "acme_eu")
        ingest_file(connection, report, "stripe_payout_reconciliation", "acme_eu")
    seeded = dbt(home, "seed", "--select", "currencies", "profiles")
    assert seeded.returncode == 0, seeded.stdout
    built = dbt(home, "build", "--select", "stg_bank__camt053_entries", "stg_stripe__payout_reconciliation")
    assert built.returncode == 0, built.stdout
    with connect(home.warehouse) as connection:
        entries = _rows(connection, "select * from staging.stg_bank__camt053_entries order by source_row")
        payouts = _rows(
            connection, "select * from staging.stg_stripe__payout_reconciliation order by balance_transaction_id"
        )
    stripe_credit, fees, pending = entries
    assert stripe_credit["entry_id"] == "acme_eu:camt053:2026110300001"
    assert (stripe_credit["source_name"], stripe_credit["account_name"]) == ("camt053", "bank")
    assert (stripe_credit["entry_type"], stripe_credit["direction"], stripe_credit["status"]) == (
        "bank_credit", "DEBIT", "book"
    )  # fmt: skip
    assert (stripe_credit["amount_minor"], stripe_credit["fee_minor"]) == (412345, 0)
    assert stripe_credit["net_minor"] == 412345
    assert stripe_credit["currency"] == "EUR"
    assert stripe_credit["effective_at"] == datetime(2026, 11, 2, 23, 0)  # midnight in Berlin
    assert stripe_credit["business_date"] == date(2026, 11, 3)
    assert stripe_credit["description"] == "STRIPE po_1QxYzAbCdEfGh2026 PAYOUT"
    assert stripe_credit["payout_ref"] is None
    assert json.loads(stripe_credit["metadata"]) == {
        "statement_id": "STMT-2026-11-03",
        "account_iban": "DE89370400440532013000",
        "value_date": "2026-11-03",
        "end_to_end_id": "STRIPE-E2E-1",
        "debtor_name": "STRIPE PAYMENTS EUROPE LTD",
        "bank_transaction_code": "PMNT/RCDT/ESCT",
        "entry_ref": "1",
        "additional_information": None,
    }
    assert stripe_credit["source_row"] == 1 and stripe_credit["source_file"] == str(statement)
    # no bank reference: the entry reference identifies it
    assert (fees["entry_id"], fees["entry_type"], fees["direction"]) == ("acme_eu:camt053:2", "bank_debit", "CREDIT")
    assert (fees["amount_minor"], fees["net_minor"]) == (2379, -2379)
    assert (pending["status"], pending["effective_at"], pending["business_date"]) == (
        "pdng", datetime(2026, 11, 3, 15, 45), date(2026, 11, 3)
    )  # fmt: skip
    assert [(p["balance_transaction_id"], p["payout_id"], p["net_minor"], p["currency"]) for p in payouts] == [
        ("txn_1Aa", "po_1Q2w3E4r", 10476, "EUR"),
        ("txn_2Bb", "po_1Q2w3E4r", -2000, "EUR"),
        ("txn_3Cc", "po_9Zz", 1425, "JPY"),
    ]
    assert payouts[0]["payout_effective_at"] == datetime(2026, 11, 3)
    assert (payouts[0]["profile_id"], payouts[0]["reporting_category"], payouts[0]["source_row"]) == (
        "acme_eu", "charge", 2
    )  # fmt: skip
