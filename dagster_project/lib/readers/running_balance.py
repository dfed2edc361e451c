"""The self-check of an export that writes the balance after each row (PayPal's activity download).

Within a file, per currency, the balance after the previous row that moved it plus this row's
amount is this row's balance, the way a bank statement's opening balance plus its movements is
its closing one. A file that breaks it is rejected whole, as a statement that does not balance
is (readers/common.py): a row read wrong, or one missing from the file, makes every later
balance wrong, and nothing says which row to trust.

A row that does not move the balance (PayPal's Memo rows: authorizations, pending payments not
yet received) is left out. A row whose balance or amount cannot be proven (no balance given,
PayPal's "...", or a row quarantined for any reason) restarts the chain after it: the file is
not checked across it, and the quarantined row explains any difference. PayPal lists its
activity oldest first; a file listed newest first is checked in that order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from dagster_project.lib.readers.common import FileRejected


@dataclass(frozen=True)
class BalanceRow:
    """One row of the file, in file order. `known` is false for a row whose effect is unknown
    (quarantined, or rejected by the reader): the chain restarts after it."""

    row: int
    known: bool
    moves: bool = True
    per: str | None = None
    amount: Decimal | None = None
    amount_text: str | None = None
    balance: Decimal | None = None
    balance_text: str | None = None


@dataclass(frozen=True)
class _Break:
    row: BalanceRow
    previous: BalanceRow
    expected: Decimal


def _first_break(rows: Sequence[BalanceRow]) -> tuple[_Break | None, int]:
    """The first row whose balance does not follow from the one before it, and how many rows
    were checked."""
    last: dict[str | None, BalanceRow | None] = {}
    checked = 0
    for row in rows:
        if not row.known:
            last.clear()
            continue
        if not row.moves:
            continue
        if row.balance is None or row.amount is None:
            last[row.per] = None
            continue
        previous = last.get(row.per)
        if previous is not None:
            assert previous.balance is not None
            expected = previous.balance + row.amount
            if expected != row.balance:
                return _Break(row, previous, expected), checked
            checked += 1
        last[row.per] = row
    return None, checked


def _decimals(text: str | None) -> int:
    return len(text.rpartition(".")[2]) if text and "." in text else 0


def check_running_balance(
    path: Path, balance_label: str, amount_label: str, rows: Sequence[BalanceRow]
) -> tuple[str, int]:
    """("oldest first" or "newest first", rows checked), or FileRejected naming the file, the
    line, the expected and the found balance."""
    found, checked = _first_break(rows)
    if found is None:
        return "oldest first", checked
    newest_first, checked_backwards = _first_break(list(reversed(rows)))
    if newest_first is None:
        return "newest first", checked_backwards
    row, previous = found.row, found.previous
    expected = found.expected.quantize(Decimal(1).scaleb(-_decimals(row.balance_text)))
    assert row.balance is not None
    per = f" of {row.per}" if row.per else ""
    raise FileRejected(
        f"{path}: line {row.row}: field '{balance_label}': the running balance{per} breaks: "
        f"{previous.balance_text} (line {previous.row}) + {amount_label} {row.amount_text} = {expected}, but the "
        f"line's {balance_label} is {row.balance_text} (a difference of {row.balance - found.expected:f}; nor does "
        "the file add up read newest first); nothing from the file was loaded: download the activity again"
    )
