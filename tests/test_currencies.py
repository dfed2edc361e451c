"""Currencies: ISO 4217 from the pinned package (current and withdrawn codes), a withdrawn code
accepted only on records dated while it was legal tender."""

from datetime import date, datetime
from pathlib import Path

import pytest

from dagster_project.currencies.iso4217 import SEED_PATH, currencies, from_package, seed_text
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import ensure_raw_schema, ingest_file, parse_file
from dagster_project.lib.source_configs import BUILT_IN_SOURCES_DIR, SourceConfigError, load_source_file, load_sources
from dagster_project.lib.sources import currency_minor_units, known_currencies
from dagster_project.lib.warehouse import connect

# --- the list -------------------------------------------------------------------------------------


def test_the_committed_seed_is_what_the_pinned_package_gives() -> None:
    # regenerate with `make currencies` when the package's pin moves
    assert SEED_PATH.read_text(encoding="utf-8") == seed_text(from_package())


def test_current_codes_have_iso_minor_units_and_withdrawn_ones_a_last_valid_day() -> None:
    listed = currencies()
    assert (listed["RUB"].minor_units, listed["RUB"].withdrawn) == (2, False)
    assert (listed["JPY"].minor_units, listed["KWD"].minor_units, listed["CLF"].minor_units) == (0, 3, 4)
    # Croatia adopted the euro on 2023-01-01; ISO withdrew the kuna that month
    assert (listed["HRK"].withdrawn_in, listed["HRK"].valid_until) == ("2023-01", date(2023, 1, 31))
    assert (listed["DEM"].withdrawn_in, listed["DEM"].valid_until, listed["DEM"].minor_units) == (
        "2002-03",
        date(2002, 3, 31),
        2,
    )
    assert (listed["LTL"].valid_until, listed["BGN"].valid_until) == (date(2014, 12, 31), date(2026, 1, 31))
    assert listed["XAU"].minor_units is None  # gold: N.A. in ISO's list
    assert {"RUB", "HRK", "DEM", "FRF", "TRL", "ROL"} <= known_currencies()
    assert "XAU" not in currency_minor_units() and currency_minor_units()["ITL"] == 0


# --- ECB rates: every rate dated in its currency's validity loads ------------------------------------

# eurofxref-hist.csv's shape (newest first, a trailing comma, N/A where a currency has no rate), with
# RUB (current), HRK, LTL and ROL (withdrawn 2023-01, 2014-12, 2005-06) and DEM (withdrawn 2002-03,
# never published by the ECB: here to be quarantined on a line after its withdrawal), and an HRK
# rate the day after the last day of its withdrawal month
ECB_WIDE = """Date,USD,RUB,HRK,LTL,ROL,DEM,
2026-11-04,1.0800,93.1000,7.5345,3.4528,N/A,1.9558,
2023-02-01,1.0883,78.1000,7.5365,N/A,N/A,N/A,
2022-12-30,1.0666,77.9000,7.5365,N/A,N/A,N/A,
2014-12-31,1.2141,72.3370,7.6580,3.4528,N/A,N/A,
2005-06-30,1.2092,34.5500,N/A,3.4528,36060.0000,N/A,
2001-12-31,0.8813,26.1300,N/A,N/A,27250.0000,1.9558,
"""
LOADED = [
    (2, "USD"), (2, "RUB"),
    (3, "USD"), (3, "RUB"),
    (4, "USD"), (4, "RUB"), (4, "HRK"),
    (5, "USD"), (5, "RUB"), (5, "HRK"), (5, "LTL"),
    (6, "USD"), (6, "RUB"), (6, "LTL"), (6, "ROL"),
    (7, "USD"), (7, "RUB"), (7, "ROL"), (7, "DEM"),
]  # fmt: skip


def _withdrawn(code: str, name: str, month: str, last_day: str, dated: str, field: str = "Date") -> str:
    return (
        f"field 'Currency': '{code}' ({name}) was withdrawn from ISO 4217 in {month} and is valid on records "
        f"dated up to {last_day}; this record is dated {dated} (field '{field}')"
    )


def test_ecb_rates_of_current_and_withdrawn_currencies_load_while_they_were_legal_tender(
    home: ReconHome, tmp_path: Path
) -> None:
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(ECB_WIDE, encoding="utf-8")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "ecb_reference_rates", "acme_eu")
        loaded = connection.sql(
            "select _source_row, currency from raw.ecb_reference_rates order by _source_row, currency"
        ).fetchall()
        quarantined = connection.sql(
            "select source_file, source_row, field, reason from raw.quarantine order by source_row, field, reason"
        ).fetchall()
    assert sorted(loaded) == sorted(LOADED)
    assert quarantined == [
        (str(path), 2, "Currency", _withdrawn("DEM", "Deutsche Mark", "2002-03", "2002-03-31", "2026-11-04")),
        (str(path), 2, "Currency", _withdrawn("HRK", "Kuna", "2023-01", "2023-01-31", "2026-11-04")),
        (str(path), 2, "Currency", _withdrawn("LTL", "Lithuanian Litas", "2014-12", "2014-12-31", "2026-11-04")),
        (str(path), 3, "Currency", _withdrawn("HRK", "Kuna", "2023-01", "2023-01-31", "2023-02-01")),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (23, 19, 4)


# --- bank statements: DEM in 1999 loads, in 2026 it is quarantined ----------------------------------


def _camt053(account_currency: str, entries: list[tuple[str, str, str]]) -> str:
    """A camt.053.001.08 statement of (reference, currency, booking date) entries of 10.00 each."""
    lines = "".join(
        f'<Ntry><Amt Ccy="{currency}">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>{reference}</AcctSvcrRef></Ntry>"
        for reference, currency, booked in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-04T06:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S-1</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>{account_currency}</Ccy></Acct>
      {lines}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def test_a_dem_statement_line_of_1999_loads_and_a_dem_line_of_2026_is_quarantined(
    home: ReconHome, tmp_path: Path
) -> None:
    old = tmp_path / "statement-1999.xml"
    old.write_text(_camt053("DEM", [("A1", "DEM", "1999-06-30")]), encoding="utf-8")
    new = tmp_path / "statement-2026.xml"
    new.write_text(_camt053("EUR", [("B1", "EUR", "2026-11-03"), ("B2", "DEM", "2026-11-03")]), encoding="utf-8")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, old, "camt053", "acme_eu")
        ingest_file(connection, new, "camt053", "acme_eu")
        loaded = connection.sql(
            "select account_servicer_ref, currency, booking_date from raw.camt053 order by 1"
        ).fetchall()
        quarantined = connection.sql("select source_file, source_row, field, reason from raw.quarantine").fetchall()
    assert loaded == [("A1", "DEM", date(1999, 6, 30)), ("B1", "EUR", date(2026, 11, 3))]
    reason = (
        "field 'Amt/@Ccy': 'DEM' (Deutsche Mark) was withdrawn from ISO 4217 in 2002-03 and is valid on records "
        "dated up to 2002-03-31; this record is dated 2026-11-03 (field 'BookgDt/Dt' or 'BookgDt/DtTm')"
    )
    assert quarantined == [(str(new), 2, "Amt/@Ccy", reason)]


# --- a source says which field dates its records ---------------------------------------------------


def test_every_built_in_source_with_a_currency_dates_its_records() -> None:
    undated = [
        source.name
        for source in load_sources([BUILT_IN_SOURCES_DIR]).values()
        if any(f.type == "currency" for f in source.fields) and not source.record_date
    ]
    assert undated == []


PAYMENTS = """
name: payments
format: csv
{record_date}
fields:
  - {{column: paid_on, source_key: Date, type: date, required: true}}
  - {{column: note, source_key: Note}}
  - {{column: currency, source_key: Currency, type: currency, required: true}}
  - {{column: amount_minor, source_key: Amount, type: integer, units: major, currency_field: currency}}
"""


def _source(tmp_path: Path, record_date: str):
    path = tmp_path / "payments.yml"
    path.write_text(PAYMENTS.format(record_date=record_date), encoding="utf-8")
    return load_source_file(path)


def _parse(tmp_path: Path, record_date: str, csv_text: str) -> tuple[list[dict], list[tuple]]:
    data = tmp_path / "payments.csv"
    data.write_text(csv_text, encoding="utf-8")
    passed, quarantined, _ = parse_file(
        data, _source(tmp_path, record_date), profile_id="acme_eu", file_id="f", ingested_at=datetime(2026, 11, 5)
    )
    return passed.select("currency", "amount_minor").to_dicts(), quarantined.select(
        "_source_row", "field", "reason"
    ).rows()


def test_a_withdrawn_code_is_read_in_its_own_minor_units_on_a_record_of_its_time(tmp_path: Path) -> None:
    rows, quarantined = _parse(
        tmp_path,
        "record_date: paid_on",
        "Date,Note,Currency,Amount\n1998-03-02,,DEM,12.34\n1998-03-02,,ITL,1500\n2026-11-04,,XAU,1\n",
    )
    assert rows == [{"currency": "DEM", "amount_minor": 1234}, {"currency": "ITL", "amount_minor": 1500}]
    assert quarantined[0][:2] == (4, "Currency")
    assert quarantined[0][2].startswith(
        "field 'Currency': 'XAU' (Gold) has no minor units in ISO 4217 (N.A.): no amount is booked in it"
    )


def test_without_a_record_date_a_withdrawn_code_is_quarantined_not_guessed(tmp_path: Path) -> None:
    rows, quarantined = _parse(tmp_path, "", "Date,Note,Currency,Amount\n1998-03-02,,DEM,12.34\n2026-11-04,,EUR,1\n")
    assert rows == [{"currency": "EUR", "amount_minor": 100}]
    assert quarantined == [
        (
            2,
            "Currency",
            "field 'Currency': 'DEM' (Deutsche Mark) was withdrawn from ISO 4217 in 2002-03 and is valid on "
            "records dated up to 2002-03-31; source 'payments' declares no record_date to date its records by",
        )
    ]


@pytest.mark.parametrize(
    ("record_date", "message"),
    [
        ("record_date: note", "record_date: column 'note' is of type text; it must be one of date, timestamp"),
        ("record_date: [paid_on, paid]", "record_date[1]: 'paid' is not a declared column"),
    ],
)
def test_record_date_names_a_date_or_timestamp_column(tmp_path: Path, record_date: str, message: str) -> None:
    with pytest.raises(SourceConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _source(tmp_path, record_date)
