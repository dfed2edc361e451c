"""PayPal's Settlement report (STL), as PayPal's SFTP server delivers it.

The file is comma-separated (or, on request, tab-separated) text whose first field names each
record's type:

    RH  report header: generation time, reporting window, account id, report version
    FH  file header: the file's sequence number within the report
    SH  section header: the section's period and the account it covers
    CH  column header: the names of the section body fields, in their order
    SB  section body: one transaction, its fields as the CH row names them
    SF  section footer: the section's totals per currency
    SC  section record count: how many SB rows the section holds
    RF  report footer: the report's totals per currency
    RC  report record count: how many SB rows the report holds
    FF  file footer: how many SB rows the file holds

Column names come from the CH row, not from positions, so a report version that adds a column
still reads (names are compared with runs of spaces collapsed: PayPal writes "Transaction  Debit
or Credit" with two). Amounts are unsigned whole numbers of hundredths of a unit of their
currency (10000 is 100.00 USD, and also 100 JPY); a separate CR/DR column gives their side.

The counts are the file's own check that it arrived whole: a section, report or file whose
count differs from the SB rows it holds, or a file that stops before its footers, is rejected
whole (FileRejected, naming the file, the line and both counts) and nothing of it is loaded. A
malformed SB row (a field count other than the CH row's, or an amount that is no whole number
of its currency's minor units) is quarantined with its line, field and reason; it still counts
as one of the section's rows.
"""

import csv
import io
import re
from pathlib import Path

import polars as pl

from dagster_project.lib.readers.common import FileRejected, Rejection, decode_text, rejected_frame, text_frame
from dagster_project.lib.sources import Source, currency_minor_units

# the key under which each SB row carries the account its section covers (SH field 4)
SECTION_ACCOUNT_KEY = "SH Account ID"
# PayPal writes every amount with two implied decimals, whatever its currency's minor units
IMPLIED_DECIMALS = 2
AMOUNT_CURRENCY_KEYS = (
    ("Gross Transaction Amount", "Gross Transaction Currency"),
    ("Fee Amount", "Fee Currency"),
)
COUNT_RECORDS = {"SC": "section record count (SC)", "RC": "report record count (RC)", "FF": "file footer (FF)"}


def _column_name(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip()


def _records(path: Path, text: str) -> list[tuple[int, str, list[str]]]:
    """(first line, raw text, fields) of every non-blank record; the fields are separated by
    commas, or by tabs in a report PayPal was asked to deliver tab-delimited (STL-...TAB)."""
    lines = text.splitlines()
    delimiter = "\t" if re.match(r'^"?RH"?\t', text) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    last_line = 0
    try:
        for fields in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if any(value.strip() for value in fields):
                records.append((first_line, "\n".join(lines[first_line - 1 : last_line]), fields))
    except csv.Error as error:
        raise FileRejected(f"{path}: line {reader.line_num}: not readable as CSV ({error})") from None
    return records


def _count(path: Path, line: int, kind: str, fields: list[str]) -> int:
    value = fields[1].strip() if len(fields) > 1 else ""
    if not value.isdigit():
        raise FileRejected(f"{path}: line {line}: the {COUNT_RECORDS[kind]} '{value}' is not a whole number")
    return int(value)


def _check_count(path: Path, line: int, kind: str, stated: int, held: int, scope: str) -> None:
    if stated != held:
        raise FileRejected(
            f"{path}: line {line}: the {COUNT_RECORDS[kind]} says {stated} body rows (SB), but the {scope} "
            f"holds {held}; the file is incomplete or was altered, so nothing from it was loaded: ask PayPal "
            "for the report again"
        )


def _amount_problem(values: dict[str, str | None]) -> tuple[str, str] | None:
    """(field, reason) when an amount is no whole number of its currency's minor units."""
    for amount_key, currency_key in AMOUNT_CURRENCY_KEYS:
        amount = (values.get(amount_key) or "").strip()
        currency = (values.get(currency_key) or "").strip().upper()
        digits = currency_minor_units().get(currency)
        if not amount.isdigit() or digits is None or digits >= IMPLIED_DECIMALS:
            continue
        if int(amount) % 10 ** (IMPLIED_DECIMALS - digits):
            return amount_key, (
                f"field '{amount_key}': '{amount}' hundredths is not a whole amount of {currency}, "
                f"which has {digits} decimal places"
            )
    return None


def read_paypal_settlement(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row of text columns per SB record, keyed by its CH column names, numbered by its
    line; the counts checked and malformed rows set aside."""
    text = decode_text(path, path.read_bytes(), "PayPal settlement report")
    records = _records(path, text)
    if not records or records[0][2][0].strip() != "RH":
        raise FileRejected(
            f"{path}: line 1 is not a report header (RH); is this a PayPal settlement report (STL-yyyymmdd...)?"
        )
    required = [f.source_key for f in source.fields if f.required]
    columns: list[str] | None = None
    keys: list[str] = [SECTION_ACCOUNT_KEY]
    rows: list[dict[str, str | None]] = []
    positions: list[int] = []
    raw_records: list[str] = []
    rejected: list[Rejection] = []
    section_account: str | None = None
    # the record that must come next before a section or the report may close: its footer
    section_open = section_footed = report_footed = False
    section_rows = report_rows = file_rows = 0
    seen: set[str] = set()
    for line, raw, fields in records:
        kind = fields[0].strip()
        if "FF" in seen:
            raise FileRejected(f"{path}: line {line}: a {kind} record after the file footer (FF)")
        if kind == "SH":
            if section_open:
                raise FileRejected(f"{path}: line {line}: a section header (SH) before the last section's count (SC)")
            section_open, section_footed, section_rows, columns = True, False, 0, None
            section_account = (fields[3].strip() or None) if len(fields) > 3 else None
        elif kind == "CH":
            columns = [_column_name(name) for name in fields[1:]]
            missing = [key for key in required if key not in columns]
            repeated = sorted({name for name in columns if name and columns.count(name) > 1})
            if missing or repeated:
                problem = f"lacks required column(s) {', '.join(missing)}" if missing else (
                    f"names column(s) {', '.join(repeated)} more than once"
                )  # fmt: skip
                raise FileRejected(f"{path}: line {line} (column header, CH) {problem}")
            keys.extend(name for name in columns if name not in keys)
        elif kind == "SB":
            if not section_open or section_footed or columns is None:
                raise FileRejected(f"{path}: line {line}: a body row (SB) outside a section's columns (SH, CH ... SF)")
            section_rows, report_rows, file_rows = section_rows + 1, report_rows + 1, file_rows + 1
            values = fields[1:]
            if len(values) != len(columns):
                reason = f"malformed row: expected {len(columns)} fields (as the CH row names), found {len(values)}"
                rejected.append((line, raw, None, reason))
                continue
            row: dict[str, str | None] = {name: value or None for name, value in zip(columns, values, strict=True)}
            problem = _amount_problem(row)
            if problem:
                rejected.append((line, raw, *problem))
                continue
            row[SECTION_ACCOUNT_KEY] = section_account
            rows.append(row)
            positions.append(line)
            raw_records.append(raw)
        elif kind == "SF":
            if not section_open:
                raise FileRejected(f"{path}: line {line}: a section footer (SF) outside a section")
            section_footed = True
        elif kind == "SC":
            if not section_footed:
                raise FileRejected(f"{path}: line {line}: a section record count (SC) without its section footer (SF)")
            _check_count(path, line, kind, _count(path, line, kind, fields), section_rows, "section")
            section_open = section_footed = False
        elif kind == "RF":
            report_footed = True
        elif kind == "RC":
            if not report_footed:
                raise FileRejected(f"{path}: line {line}: a report record count (RC) without its report footer (RF)")
            _check_count(path, line, kind, _count(path, line, kind, fields), report_rows, "report")
        elif kind == "FF":
            _check_count(path, line, kind, _count(path, line, kind, fields), file_rows, "file")
        elif kind not in ("RH", "FH"):
            raise FileRejected(f"{path}: line {line}: unknown record type '{kind}' (expected RH, FH, SH, CH, SB, ...)")
        seen.add(kind)
    lacking = [label for kind, label in COUNT_RECORDS.items() if kind in ("RC", "FF") and kind not in seen]
    if section_open:
        lacking.insert(0, "its last section's footer and count (SF, SC)")
    if lacking:
        raise FileRejected(
            f"{path}: the file ends without {', '.join(lacking)}: it is truncated, so nothing from it was loaded"
        )
    return text_frame(rows, keys, positions, raw_records), rejected_frame(rejected)
