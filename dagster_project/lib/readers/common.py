"""What the statement readers share with the ingest step: the file-level rejection, the shape
of quarantined rows, and the check of the claim every bank statement makes about itself."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

# the shape of rows on their way to raw.quarantine, whichever check rejected them
REJECTED_ROWS_SCHEMA = {"_source_row": pl.Int64, "_raw_record": pl.String, "field": pl.String, "reason": pl.String}


class FileRejected(Exception):
    """A file that cannot be read at all: not the format it was landed as, undecodable, binary,
    truncated, missing columns. A bank statement that contradicts itself is no such file: it is
    loaded and flagged (see StatementCheck)."""


# a quarantined row: (row, raw record, field, reason)
Rejection = tuple[int, str, str, str]


def text_frame(
    rows: list[dict[str, str | None]], keys: list[str], positions: list[int], records: list[str]
) -> pl.DataFrame:
    """The text columns a reader hands the ingest step: `_source_row`, `_raw_record` and one
    column per field key."""
    columns = {key: [row.get(key) for row in rows] for key in keys}
    return pl.DataFrame(
        {"_source_row": positions, "_raw_record": records, **columns},
        schema={"_source_row": pl.Int64, "_raw_record": pl.String, **dict.fromkeys(keys, pl.String)},
    )


def rejected_frame(rejected: list[Rejection]) -> pl.DataFrame:
    return pl.DataFrame(rejected, schema=REJECTED_ROWS_SCHEMA, orient="row")


def decode_text(path: Path, data: bytes, format_name: str) -> str:
    """A statement's text: UTF-8, or else ISO 8859-1, which European banks still send (an
    8859-1 file never fails to decode, so a binary file is recognised by its NUL bytes)."""
    if b"\x00" in data:
        raise FileRejected(f"{path}: binary content (NUL bytes) where {format_name} text was expected")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def yymmdd_date(text: str) -> date | None:
    """A YYMMDD date, as both SWIFT and BAI write them (years 80-99 are the 1900s), or None when
    there is no such day."""
    if not re.fullmatch(r"\d{6}", text):
        return None
    year = int(text[:2])
    try:
        return date(year + (1900 if year >= 80 else 2000), int(text[2:4]), int(text[4:]))
    except ValueError:
        return None


# what a statement's check found: its lines add up, they do not, or there is nothing to check
# them against (a total not given, a balance that cannot be read)
BALANCED, OUT_OF_BALANCE, NOT_CHECKED = "balanced", "out_of_balance", "not_checked"


@dataclass
class StatementCheck:
    """One statement of a file and the claim it makes about its lines: they add up to
    `expected` (a closing less an opening balance, a control total less the account's summary
    amounts, an interim report's sums of debits and credits) and, when it says so, there are
    `expected_count` of them.

    The claim is checked against the lines that were loaded, not merely read: a line
    quarantined at the door (by the reader, or later by a cast or the contract) leaves its
    statement short, and that is as much a reason for finance to look as a bank's own mistake.
    A statement that does not add up is kept with its lines and flagged, never refused: its
    sibling statements in the same file are no less true for it.
    """

    position: int  # 1 for the file's first statement
    line: int  # where it starts in the file (for camt.053: the position of its first entry)
    label: str  # how errors and reasons name it
    statement_id: str | None
    account_id: str | None
    currency: str | None
    # balances (MT940, camt.053), interim_totals (MT942), control_total (BAI2), running_balance
    # (an export that writes the balance after each row, PayPal's activity download)
    check_kind: str
    statement_number: str | None = None
    statement_date: date | None = None
    opening: Decimal | None = None
    closing: Decimal | None = None
    expected: Decimal | None = None
    expected_count: int | None = None
    # why there is no claim to check (expected is None); None when there is one
    not_checked: str | None = None
    # every line of the statement (its row in the file), loaded or not
    rows: list[int] = field(default_factory=list)
    # what each line counted by the claim adds to it; None when its amount or side is unreadable
    contributions: dict[int, Decimal | None] = field(default_factory=dict)
    # what the claim's arithmetic does not cover: a multi-part statement whose parts do not chain
    problems: list[str] = field(default_factory=list)

    def add(self, row: int, contribution: Decimal | None, *, counted: bool = True) -> None:
        """A line of the statement and, when the claim counts it, what it adds."""
        self.rows.append(row)
        if counted:
            self.contributions[row] = contribution

    def result(self, loaded_rows: set[int]) -> dict[str, object]:
        """The check against the lines that were loaded, as a row of raw.bank_statements."""
        rows_loaded = sum(row in loaded_rows for row in self.rows)
        counted = [row for row in self.contributions if row in loaded_rows]
        unreadable = [row for row in counted if self.contributions[row] is None]
        loaded_total = sum((self.contributions[row] or Decimal(0) for row in counted), Decimal(0))
        quarantined = len(self.rows) - rows_loaded
        status, difference, reason = NOT_CHECKED, None, self.not_checked
        if reason is None and unreadable:
            reason = f"what line {unreadable[0]} adds cannot be read, so the statement cannot be proven"
        if reason is None and self.expected is not None:
            difference = self.expected - loaded_total
            findings = []
            if difference != 0:
                findings.append(self._arithmetic(loaded_total, difference, quarantined))
            if self.expected_count is not None and len(counted) != self.expected_count:
                findings.append(f"it gives {self.expected_count} lines, but {len(counted)} were loaded")
            findings += self.problems
            status = OUT_OF_BALANCE if findings else BALANCED
            reason = "; ".join(findings) or None
            if findings and quarantined:
                reason = f"{reason} ({quarantined} of its {len(self.rows)} lines quarantined)"
        amounts = {
            "opening_balance": self.opening,
            "closing_balance": self.closing,
            "expected_total": self.expected,
            "loaded_total": loaded_total,
            "difference": difference,
        }
        inexact = next((value for value in amounts.values() if value is not None and not _fits(value)), None)
        if inexact is not None:
            # the warehouse keeps amounts as decimal(18, 4): one that does not fit is not rounded
            # into it, and a statement whose arithmetic cannot be kept exactly is not judged
            status, difference = NOT_CHECKED, None
            reason = (
                f"its amount {inexact} cannot be kept exactly (at most {AMOUNT_INTEGER_DIGITS} digits before the "
                f"decimal point and {AMOUNT_DECIMAL_PLACES} after it), so it is not checked"
            )
            amounts = dict.fromkeys(amounts)
        return {
            "statement_position": self.position,
            "statement_row": self.line,
            "statement_id": self.statement_id,
            "statement_number": self.statement_number,
            "account_id": self.account_id,
            "currency": self.currency,
            "statement_date": self.statement_date,
            "check_kind": self.check_kind,
            **amounts,
            "rows_read": len(self.rows),
            "rows_loaded": rows_loaded,
            "rows_quarantined": quarantined,
            "loaded_rows": sorted(row for row in self.rows if row in loaded_rows),
            "check_status": status,
            "reason": None if reason is None else f"{self.label}: {reason}",
        }

    def _arithmetic(self, loaded_total: Decimal, difference: Decimal, quarantined: int) -> str:
        currency = f" {self.currency}" if self.currency else ""
        lines = "its loaded lines" if quarantined else "its lines"
        if self.check_kind in ("balances", "running_balance") and self.opening is not None and self.closing is not None:
            computed = self.opening + loaded_total
            return (
                f"does not balance: opening balance {self.opening}{currency} + {lines} {loaded_total} = "
                f"{computed}{currency}, but its closing balance is {self.closing}{currency} (a difference of "
                f"{difference})"
            )
        return (
            f"does not add up: {lines} add up to {loaded_total}{currency}, but it states {self.expected}{currency} "
            f"(a difference of {difference})"
        )


# the warehouse's amounts: decimal(18, 4)
AMOUNT_DECIMAL_PLACES = 4
AMOUNT_INTEGER_DIGITS = 14


def _fits(amount: Decimal) -> bool:
    """Whether an amount is kept exactly as decimal(18, 4)."""
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** AMOUNT_INTEGER_DIGITS:
        return False
    # 1.50000 fits (it is 1.5000), 1.00005 does not
    return amount == amount.quantize(Decimal(1).scaleb(-AMOUNT_DECIMAL_PLACES))


# the shape of raw.bank_statements rows on their way to the warehouse
STATEMENT_COLUMNS = {
    "statement_position": pl.Int64,
    "statement_row": pl.Int64,
    "statement_id": pl.String,
    "statement_number": pl.String,
    "account_id": pl.String,
    "currency": pl.String,
    "statement_date": pl.Date,
    "check_kind": pl.String,
    "opening_balance": pl.Decimal(18, 4),
    "closing_balance": pl.Decimal(18, 4),
    "expected_total": pl.Decimal(18, 4),
    "loaded_total": pl.Decimal(18, 4),
    "difference": pl.Decimal(18, 4),
    "rows_read": pl.Int64,
    "rows_loaded": pl.Int64,
    "rows_quarantined": pl.Int64,
    "loaded_rows": pl.List(pl.Int64),
    "check_status": pl.String,
    "reason": pl.String,
}


def statement_frame(statements: list[StatementCheck], loaded_rows: set[int]) -> pl.DataFrame:
    """The checks of a file's statements against the rows that were loaded from it."""
    return pl.DataFrame([s.result(loaded_rows) for s in statements], schema=STATEMENT_COLUMNS)
