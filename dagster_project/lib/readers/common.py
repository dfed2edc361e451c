"""What the statement readers share with the ingest step: the file-level rejection, the shape
of quarantined rows, and the self-check every bank statement carries."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

# the shape of rows on their way to raw.quarantine, whichever check rejected them
REJECTED_ROWS_SCHEMA = {"_source_row": pl.Int64, "_raw_record": pl.String, "field": pl.String, "reason": pl.String}


class FileRejected(Exception):
    """A file that cannot be read at all (undecodable, truncated, missing columns), or a bank
    statement that contradicts itself (its balances or control totals do not add up)."""


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


@dataclass
class StatementBalance:
    """A statement's claim about itself: its opening balance plus the credits less the debits
    it lists is its closing balance.

    A movement whose amount or side cannot be read is quarantined, and then the statement cannot
    be proven either way: it is not checked, and the quarantined line explains any difference.
    """

    label: str
    currency: str | None
    opening: Decimal | None
    closing: Decimal | None
    credits: Decimal = Decimal(0)
    debits: Decimal = Decimal(0)
    unreadable_rows: list[int] = field(default_factory=list)

    def add(self, row: int, movement: Decimal | None) -> None:
        """Count a movement: + a credit, - a debit, None when its amount or side is unreadable."""
        if movement is None:
            self.unreadable_rows.append(row)
        elif movement >= 0:
            self.credits += movement
        else:
            self.debits -= movement

    def check(self, path: Path) -> None:
        """Raise FileRejected when the statement does not add up."""
        if self.opening is None or self.closing is None or self.unreadable_rows:
            return
        computed = self.opening + self.credits - self.debits
        if computed == self.closing:
            return
        currency = f" {self.currency}" if self.currency else ""
        raise FileRejected(
            f"{path}: {self.label} does not balance: opening balance {self.opening}{currency} + credits "
            f"{self.credits} - debits {self.debits} = {computed}{currency}, but its closing balance is "
            f"{self.closing}{currency} (a difference of {self.closing - computed}); nothing from the file "
            "was loaded: ask the bank for a corrected statement"
        )
