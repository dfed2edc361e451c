"""Writers of named source formats, for the demo generator and for tests.

Amounts arrive as integer minor units with their currency and are written the way each format
carries them: major units with the currency's number of decimals (from the `currencies` seed).
What these functions write is read back by the ingest step like any landed file.
"""

import csv
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from dagster_project.lib.sources import PAYPAL_DATE_FORMAT, STRIPE_PAYOUT_RECONCILIATION, currency_minor_units

CAMT053_VERSIONS = ("camt.053.001.02", "camt.053.001.08")
CAMT054_VERSIONS = ("camt.054.001.02", "camt.054.001.08")
# an unstructured remittance line holds at most 140 characters
REMITTANCE_LINE_LENGTH = 140


def format_major(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal string in major units: 1050 EUR -> "10.50", 1500 JPY -> "1500"."""
    try:
        digits = currency_minor_units()[currency.upper()]
    except KeyError:
        raise ValueError(f"Unknown currency {currency!r}: not in dbt_project/seeds/currencies.csv") from None
    return f"{Decimal(amount_minor).scaleb(-digits):f}"


# --- camt.053 ---------------------------------------------------------------------------------


def _add(parent: ET.Element, path: str, text: str | None = None, **attributes: str) -> ET.Element:
    """Append the elements of a '/'-separated path under ``parent``; the last gets the text."""
    element = parent
    for name in path.split("/"):
        element = ET.SubElement(element, name)
    element.text = text
    element.attrib.update(attributes)
    return element


def _iso(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat() if isinstance(value, date) else str(value)


def _balance(statement: ET.Element, code: str, amount_minor: int, currency: str, on: date | str) -> None:
    balance = _add(statement, "Bal")
    _add(balance, "Tp/CdOrPrtry/Cd", code)
    _add(balance, "Amt", format_major(abs(amount_minor), currency), Ccy=currency)
    _add(balance, "CdtDbtInd", "DBIT" if amount_minor < 0 else "CRDT")
    _add(balance, "Dt/Dt", _iso(on))


def _entry(statement: ET.Element, entry: Mapping[str, Any], currency: str, version: str) -> None:
    credit_debit = entry["credit_debit"]
    if credit_debit not in ("CRDT", "DBIT"):
        raise ValueError(f"credit_debit must be CRDT or DBIT, not {credit_debit!r}")
    element = _add(statement, "Ntry")
    if entry.get("entry_ref"):
        _add(element, "NtryRef", entry["entry_ref"])
    _add(element, "Amt", format_major(entry["amount_minor"], currency), Ccy=currency)
    _add(element, "CdtDbtInd", credit_debit)
    status = entry.get("status", "BOOK")
    # version 001.02 (of camt.053 and camt.054 alike) writes the status and the debtor's name
    # one level higher than 001.08 on
    _add(element, "Sts" if version.endswith(".001.02") else "Sts/Cd", status)
    _add(element, "BookgDt/Dt", _iso(entry["booking_date"]))
    _add(element, "ValDt/Dt", _iso(entry.get("value_date") or entry["booking_date"]))
    if entry.get("account_servicer_ref"):
        _add(element, "AcctSvcrRef", entry["account_servicer_ref"])
    # received or issued credit transfer, SEPA
    family = "RCDT" if credit_debit == "CRDT" else "ICDT"
    domain = _add(element, "BkTxCd/Domn")
    _add(domain, "Cd", "PMNT")
    family_code = _add(domain, "Fmly")
    _add(family_code, "Cd", family)
    _add(family_code, "SubFmlyCd", "ESCT")
    details = _add(element, "NtryDtls/TxDtls")
    _add(details, "Refs/EndToEndId", entry.get("end_to_end_id") or "NOTPROVIDED")
    if entry.get("debtor_name"):
        debtor = "RltdPties/Dbtr/Nm" if version.endswith(".001.02") else "RltdPties/Dbtr/Pty/Nm"
        _add(details, debtor, entry["debtor_name"])
    remittance = entry.get("remittance") or ""
    if remittance:
        information = _add(details, "RmtInf")
        lines = textwrap.wrap(remittance, REMITTANCE_LINE_LENGTH, break_on_hyphens=False) or [remittance]
        for line in lines:
            _add(information, "Ustrd", line)


def write_camt053(
    path: Path,
    *,
    statement_id: str,
    iban: str,
    currency: str,
    opening_balance_minor: int,
    entries: list[dict],
    created_at: datetime,
    version: str = "camt.053.001.08",
) -> Path:
    """Write one bank-to-customer statement with its entries, in ``version``'s schema.

    Each entry: `amount_minor` (positive), `credit_debit` ('CRDT' money in, 'DBIT' money out),
    `booking_date`, `value_date`, `account_servicer_ref`, `end_to_end_id`, `remittance` (split
    into lines of 140 characters at spaces), `debtor_name`, optionally `status` ('BOOK', the
    default, or 'PDNG') and `entry_ref`. The closing balance is the opening balance plus the
    booked entries; both are dated the latest booking date (or the creation date if there are
    no entries).
    """
    if version not in CAMT053_VERSIONS:
        raise ValueError(f"Unsupported camt.053 version {version!r}; supported: {', '.join(CAMT053_VERSIONS)}")
    currency = currency.upper()
    document, statement = _bank_to_customer(version, "BkToCstmrStmt", "Stmt", statement_id, created_at, iban, currency)
    booked = [e for e in entries if e.get("status", "BOOK") == "BOOK"]
    movement = sum(e["amount_minor"] if e["credit_debit"] == "CRDT" else -e["amount_minor"] for e in booked)
    booking_dates = sorted(_iso(e["booking_date"]) for e in entries)
    statement_date = booking_dates[-1] if booking_dates else created_at.date().isoformat()
    _balance(statement, "OPBD", opening_balance_minor, currency, statement_date)
    _balance(statement, "CLBD", opening_balance_minor + movement, currency, statement_date)
    for entry in entries:
        _entry(statement, entry, currency, version)
    return _write_xml(path, document)


def write_camt054(
    path: Path,
    *,
    notification_id: str,
    iban: str,
    currency: str,
    entries: list[dict],
    created_at: datetime,
    version: str = "camt.054.001.08",
    summary: bool = True,
) -> Path:
    """Write one bank-to-customer debit/credit notification with its entries, in ``version``'s
    schema. Entries are as `write_camt053` takes them. A notification has no balances; with
    ``summary`` it gives its transaction summary (TxsSummry): the number of its entries and their
    net, and the number and sum of its credits and of its debits.
    """
    if version not in CAMT054_VERSIONS:
        raise ValueError(f"Unsupported camt.054 version {version!r}; supported: {', '.join(CAMT054_VERSIONS)}")
    currency = currency.upper()
    document, notification = _bank_to_customer(
        version, "BkToCstmrDbtCdtNtfctn", "Ntfctn", notification_id, created_at, iban, currency
    )
    if summary:
        credits = [e["amount_minor"] for e in entries if e["credit_debit"] == "CRDT"]
        debits = [e["amount_minor"] for e in entries if e["credit_debit"] == "DBIT"]
        net = sum(credits) - sum(debits)
        totals = _add(notification, "TxsSummry")
        all_entries = _add(totals, "TtlNtries")
        _add(all_entries, "NbOfNtries", str(len(entries)))
        _add(all_entries, "Sum", format_major(sum(credits) + sum(debits), currency))
        side = "DBIT" if net < 0 else "CRDT"
        if version.endswith(".001.02"):
            _add(all_entries, "TtlNetNtryAmt", format_major(abs(net), currency))
            _add(all_entries, "CdtDbtInd", side)
        else:
            net_entry = _add(all_entries, "TtlNetNtry")
            _add(net_entry, "Amt", format_major(abs(net), currency))
            _add(net_entry, "CdtDbtInd", side)
        for element, amounts in (("TtlCdtNtries", credits), ("TtlDbtNtries", debits)):
            side_totals = _add(totals, element)
            _add(side_totals, "NbOfNtries", str(len(amounts)))
            _add(side_totals, "Sum", format_major(sum(amounts), currency))
    for entry in entries:
        _entry(notification, entry, currency, version)
    return _write_xml(path, document)


def _bank_to_customer(
    version: str, message_name: str, report_name: str, report_id: str, created_at: datetime, iban: str, currency: str
) -> tuple[ET.Element, ET.Element]:
    """An ISO 20022 bank-to-customer document (a camt.053 statement, a camt.054 notification)
    with its group header and its one report (Stmt, Ntfctn) of the account; (document, report)."""
    # every element is in the document's default namespace, declared once on the root
    document = ET.Element("Document", xmlns=f"urn:iso:std:iso:20022:tech:xsd:{version}")
    message = _add(document, message_name)
    header = _add(message, "GrpHdr")
    _add(header, "MsgId", report_id)
    _add(header, "CreDtTm", _iso(created_at))
    report = _add(message, report_name)
    _add(report, "Id", report_id)
    _add(report, "CreDtTm", _iso(created_at))
    account = _add(report, "Acct")
    _add(account, "Id/IBAN", iban)
    _add(account, "Ccy", currency)
    return document, report


def _write_xml(path: Path, document: ET.Element) -> Path:
    ET.indent(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ET.tostring(document, encoding="UTF-8", xml_declaration=True))
    return path


# --- Stripe itemized payout reconciliation report ---------------------------------------------

_MINOR_UNIT_COLUMNS = ("gross", "fee", "net")


def _report_time(value: datetime | str | None) -> str:
    """Report times are UTC without an offset: 2026-11-03 00:00:00."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value or ""


def _report_row(row: Mapping[str, Any]) -> dict[str, str]:
    currency = row["currency"]
    values = dict(row)
    if values.get("net") is None and values.get("gross") is not None:
        values["net"] = values["gross"] - (values.get("fee") or 0)
    out: dict[str, str] = {}
    for f in STRIPE_PAYOUT_RECONCILIATION.fields:
        value = values.get(f.source_key)
        if value is None or value == "":
            out[f.source_key] = ""
        elif f.source_key in _MINOR_UNIT_COLUMNS:
            out[f.source_key] = format_major(value, currency)
        elif f.source_key == "customer_facing_amount":
            out[f.source_key] = format_major(value, values.get("customer_facing_currency") or currency)
        elif f.type == "currency":
            out[f.source_key] = str(value).lower()
        elif f.type == "utc_timestamp":
            out[f.source_key] = _report_time(value)
        else:
            out[f.source_key] = str(value)
    return out


def write_stripe_payout_reconciliation(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write Stripe's itemized payout reconciliation report (CSV) with the report's header.

    Each row is keyed by report column names; `gross`, `fee`, `net` (and `customer_facing_amount`)
    are integer minor units of `currency` (of `customer_facing_currency`), written as decimals
    in major units; `net` defaults to gross minus fee; times are datetimes (naive ones are UTC)
    or strings already in the report's form.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [f.source_key for f in STRIPE_PAYOUT_RECONCILIATION.fields]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(_report_row(row) for row in rows)
    return path


# --- PayPal activity download -------------------------------------------------------------------

# the activity download's default columns, in the export's order
PAYPAL_ACTIVITY_COLUMNS = [
    "Date", "Time", "TimeZone", "Name", "Type", "Status", "Currency", "Gross", "Fee", "Net",
    "From Email Address", "To Email Address", "Transaction ID", "Shipping Address", "Address Status",
    "Item Title", "Item ID", "Shipping and Handling Amount", "Insurance Amount", "Sales Tax",
    "Option 1 Name", "Option 1 Value", "Option 2 Name", "Option 2 Value", "Reference Txn ID",
    "Invoice Number", "Custom Number", "Quantity", "Receipt ID", "Balance", "Address Line 1",
    "Address Line 2/District/Neighborhood", "Town/City",
    "State/Province/Region/County/Territory/Prefecture/Republic", "Zip/Postal Code", "Country",
    "Contact Phone Number", "Subject", "Note", "Country Code", "Balance Impact",
]  # fmt: skip
_PAYPAL_AMOUNT_COLUMNS = ("Gross", "Fee", "Net", "Balance")


def format_paypal_amount(amount_minor: int, currency: str) -> str:
    """Minor units as the activity download writes them: 123456 USD -> "1,234.56", -1500 JPY -> "-1,500"."""
    return f"{Decimal(format_major(amount_minor, currency)):,f}"


def _paypal_row(row: Mapping[str, Any], date_format: str) -> dict[str, str]:
    values = dict(row)
    currency = values["Currency"]
    if values.get("Net") is None and values.get("Gross") is not None:
        values["Net"] = values["Gross"] + (values.get("Fee") or 0)
    if not values.get("Balance Impact") and values.get("Net") is not None:
        values["Balance Impact"] = "Credit" if values["Net"] >= 0 else "Debit"
    moment = values.pop("at", None)
    if moment is not None:
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise ValueError(f"'at' must be a datetime with its time zone, not {moment!r}")
        values.setdefault("Date", moment.strftime(date_format))
        values.setdefault("Time", moment.strftime("%H:%M:%S"))
        values.setdefault("TimeZone", moment.tzname())
    unknown = set(values) - set(PAYPAL_ACTIVITY_COLUMNS)
    if unknown:
        raise ValueError(f"Not columns of the PayPal activity download: {', '.join(sorted(unknown))}")
    out: dict[str, str] = {}
    for column in PAYPAL_ACTIVITY_COLUMNS:
        value = values.get(column)
        if value is None:
            out[column] = ""
        elif column in _PAYPAL_AMOUNT_COLUMNS and isinstance(value, int):
            out[column] = format_paypal_amount(value, currency)
        else:
            out[column] = str(value)
    return out


def write_paypal_activity(
    path: Path, rows: Iterable[Mapping[str, Any]], *, date_format: str = PAYPAL_DATE_FORMAT
) -> Path:
    """Write a PayPal activity download (CSV, every field quoted) with the export's default columns.

    Each row is keyed by export column names. `Gross`, `Fee`, `Net` (and `Balance`) are signed
    integer minor units of `Currency` (a fee PayPal takes is negative), written as decimals in
    major units with a comma between thousands; `Net` defaults to gross plus fee and `Balance
    Impact` to Credit or Debit by the sign of the net. `at`, a datetime with its time zone, gives
    `Date` (in ``date_format``, the account's locale: MM/DD/YYYY for a US account), `Time` and
    `TimeZone` (the zone's abbreviation, e.g. CET); they may also be given as strings. `Balance`,
    the balance of the row's currency after it, is written when given. Other columns are written
    as given, missing ones empty.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=PAYPAL_ACTIVITY_COLUMNS, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(_paypal_row(row, date_format) for row in rows)
    return path


# --- ECB euro foreign exchange reference rates ---------------------------------------------------

# the currencies of the ECB's daily reference rates, in the order of its files' columns
ECB_CURRENCIES = (
    "USD", "JPY", "BGN", "CZK", "DKK", "GBP", "HUF", "PLN", "RON", "SEK", "CHF", "ISK", "NOK", "TRY",
    "AUD", "BRL", "CAD", "CNY", "HKD", "IDR", "ILS", "INR", "KRW", "MXN", "MYR", "NZD", "PHP", "SGD",
    "THB", "ZAR",
)  # fmt: skip


def write_ecb_reference_rates(path: Path, rates: Mapping[date, Mapping[str, Decimal]]) -> Path:
    """Write reference rates in the layout of the ECB's eurofxref-hist.csv.

    ``rates`` maps each published day to the units of each currency one euro buys. One line per
    day given, newest first (a day not given, a weekend or a holiday, has no line); one column per
    currency that has a rate on any day, in the ECB's column order (others after, alphabetically);
    ``N/A`` where a currency has no rate that day; every line ends with a comma, as the ECB's do.
    Rates are written as given: Decimal("1.0824") -> "1.0824".
    """
    given = {currency for day_rates in rates.values() for currency in day_rates}
    currencies = [c for c in ECB_CURRENCIES if c in given] + sorted(given - set(ECB_CURRENCIES))
    lines = [",".join(["Date", *currencies, ""])]
    for day in sorted(rates, reverse=True):
        cells = [f"{rates[day][c]:f}" if c in rates[day] else "N/A" for c in currencies]
        lines.append(",".join([day.isoformat(), *cells, ""]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
