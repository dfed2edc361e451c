"""The self-check of an export that writes the balance after each row (PayPal's activity download).

Within a file, per currency, the balance after the previous row that moved it plus this row's
amount is this row's balance, the way a bank statement's opening balance plus its movements is
its closing one. So a file is checked as bank statements are: each currency's balance in it is
one statement (`check_kind` running_balance) whose lines are the file's rows in that currency.
Its claim is what its balances say the rows moved; it holds when every balance follows from the
one before it. A break (a row read wrong, one missing from the download, a balance PayPal
misprinted) does not refuse the file: its rows load, and its statement is recorded out of
balance, naming the first line that breaks, the expected and the found balance. The statement's
difference is what the balances say moved less what the rows moved: a row missing from the file
shows as its amount, a single misprinted balance (which the next row's balance corrects) as none,
though the statement is flagged all the same.

A row that does not move the balance (PayPal's Memo rows: authorizations, pending payments not
yet received) is a line of its statement that adds nothing. A row whose balance or amount cannot
be proven (no balance given, PayPal's "...", or a row quarantined for any reason) restarts the
chain after it: the file is not checked across it, since nothing says what it did to the
balance, and the quarantine already lists the row. PayPal lists its activity oldest first; a
file listed newest first is checked in that order.

The chain is found with column expressions over the file's rows (each row against the one before
it in its currency); the statements are then built from the rows that take part in it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from dagster_project.lib.readers.common import StatementCheck

CHECK_KIND = "running_balance"
OLDEST_FIRST, NEWEST_FIRST = "oldest first", "newest first"


@dataclass(frozen=True)
class RunningBalanceResult:
    """What the check of one running balance field settled about a file."""

    order: str  # the order the rows were checked in (oldest first unless only newest first adds up)
    rows_checked: int  # rows whose balance was checked against the one before it
    breaks: int  # of them, those whose balance does not follow
    statements: list[StatementCheck]


def _ordered(rows: pl.DataFrame, *, newest_first: bool) -> pl.DataFrame:
    """The rows that can take part in the chain, in the order it is read, each with its run (a
    stretch of rows in one currency whose balances each follow from the one before, unless the
    file breaks) and the balance it follows from (`previous`, on line `previous_row`)."""
    segment = ["_segment", "per"]
    return (
        rows.sort("row", descending=newest_first)
        # an unknown row starts a new segment: no row is checked against one before it
        .with_columns((~pl.col("known")).cum_sum().alias("_segment"))
        .filter(pl.col("known") & pl.col("moves"))
        # a balance proves the chain only with the amount that led to it
        .with_columns(pl.when(pl.col("amount").is_not_null()).then(pl.col("balance")).alias("_proven"))
        .with_columns(
            pl.col("_proven").shift(1).over(segment).alias("previous"),
            pl.col("row").shift(1).over(segment).alias("previous_row"),
            pl.col("balance_text").shift(1).over(segment).alias("previous_text"),
        )
        .filter(pl.col("_proven").is_not_null())
        # a row with no proven balance before it opens a run
        .with_columns(pl.col("previous").is_null().cum_sum().over("per").alias("run"))
        .with_columns(
            pl.when(pl.col("previous").is_not_null()).then(pl.col("previous") + pl.col("amount")).alias("expected")
        )
    )


def _breaks(chain: pl.DataFrame) -> pl.DataFrame:
    return chain.filter(pl.col("expected").is_not_null() & (pl.col("expected") != pl.col("balance")))


def _decimals(text: str | None, mark: str) -> int:
    """How many decimal places a number is written with (its decimal mark given)."""
    return len(text.rpartition(mark)[2]) if text and mark in text else 0


def _money(value: Any, places: int) -> Decimal:
    """A balance or an amount as read (a decimal, or an integer) as a Decimal with the decimal
    places the file writes (exact: none of its values has more)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places))


def _break_reason(
    found: dict[str, Any], breaks: pl.DataFrame, balance_label: str, amount_label: str, places: int, mark: str
) -> str:
    expected, balance = _money(found["expected"], places), _money(found["balance"], places)
    shown = expected.quantize(Decimal(1).scaleb(-_decimals(found["balance_text"], mark)))
    later = breaks.filter(pl.col("row") != found["row"])["row"].to_list()
    more = ""
    if later:
        lines = ", ".join(str(row) for row in later[:5]) + (", ..." if len(later) > 5 else "")
        more = f"; it breaks again at {len(later)} more line(s) ({lines})"
    return (
        f"its running balance breaks at line {found['row']}: {found['previous_text']} (line {found['previous_row']}) "
        f"+ {amount_label} {found['amount_text']} = {shown}, but the line's {balance_label} is "
        f"{found['balance_text']} (a difference of {balance - expected}){more}"
    )


def _statement(
    position: int,
    per: str | None,
    members: pl.DataFrame,
    chain: pl.DataFrame,
    breaks: pl.DataFrame,
    *,
    balance_label: str,
    amount_label: str,
    account_id: str | None,
    either_order: bool,
    decimal_mark: str,
) -> StatementCheck:
    """The statement of one currency's balance: every row in that currency is a line of it, the
    rows of the chain count their amounts, and the claim is what the chain's balances moved."""
    label = f"the {per} running balance" if per else "the running balance"
    known_dates = members.filter(pl.col("known"))["date"].drop_nulls()
    statement_date = known_dates.max() if not known_dates.is_empty() else None
    assert statement_date is None or isinstance(statement_date, date)
    texts = members.filter(pl.col("known")).select(pl.concat_list("balance_text", "amount_text").explode())
    places = max((_decimals(text, decimal_mark) for text in texts.to_series().to_list()), default=0)
    runs = (
        chain.group_by("run", maintain_order=True)
        .agg(
            pl.col("balance").first().alias("first_balance"),
            pl.col("amount").first().alias("first_amount"),
            pl.col("balance").last().alias("closing"),
        )
        .to_dicts()
    )
    # each run opens where its first row's balance was before that row
    openings = [_money(run["first_balance"], places) - _money(run["first_amount"], places) for run in runs]
    closings = [_money(run["closing"], places) for run in runs]
    links = chain.filter(pl.col("previous").is_not_null()).height
    check = StatementCheck(
        position=position,
        line=members["row"].min(),  # type: ignore[arg-type]
        label=f"{label} (field '{balance_label}', line {members['row'].min()})",
        statement_id=None,
        account_id=account_id,
        currency=per,
        check_kind=CHECK_KIND,
        statement_date=statement_date,
        # one run is one statement's arithmetic; across a row that cannot be proven there is
        # no one opening and closing that the lines join
        opening=openings[0] if len(runs) == 1 else None,
        closing=closings[0] if len(runs) == 1 else None,
        expected=sum((c - o for o, c in zip(openings, closings, strict=True)), Decimal(0)) if links else None,
        not_checked=None if links else "no balance in it follows from an earlier one, so there is nothing to check",
    )
    amounts = dict(zip(chain["row"].to_list(), chain["amount"].to_list(), strict=True))
    for row in members["row"].to_list():
        if row in amounts:
            check.add(row, _money(amounts[row], places))
        else:
            check.add(row, None, counted=False)
    if not breaks.is_empty():
        found = breaks.row(0, named=True)
        reason = _break_reason(found, breaks, balance_label, amount_label, places, decimal_mark)
        check.problems.append(reason + ("" if either_order else "; nor does it add up read newest first"))
    return check


def running_balance_statements(
    balance_label: str, amount_label: str, rows: pl.DataFrame, *, account_id: str | None, decimal_mark: str = "."
) -> RunningBalanceResult:
    """The check of a file's running balance, one statement per currency.

    ``rows`` holds every row of the file: `row` (its line), `known` (false for a row quarantined
    or rejected: its effect is unknown), `moves` (false for a row that does not move the
    balance), `per` (the balance it belongs to, its currency), `amount` and `balance` (typed as
    the source's fields are, null when not given), the texts they were read from, `amount_text`
    and `balance_text`, and `date` (the day the row is dated, or null). ``account_id`` is the
    account the balance is kept on; ``decimal_mark`` how the file writes decimals.
    """
    forward = _ordered(rows, newest_first=False)
    order, chain = OLDEST_FIRST, forward
    if not _breaks(forward).is_empty():
        backward = _ordered(rows, newest_first=True)
        if _breaks(backward).is_empty():
            order, chain = NEWEST_FIRST, backward
    breaks = _breaks(chain)
    either_order = order == NEWEST_FIRST or breaks.is_empty()
    statements = []
    # a currency none of whose rows could be read is no balance the file gives
    currencies = rows.filter(pl.col("known")).group_by("per").agg(pl.col("row").min()).sort("row")["per"].to_list()
    for position, per in enumerate(currencies, start=1):
        in_currency = pl.col("per").is_null() if per is None else pl.col("per") == per
        statements.append(
            _statement(
                position,
                per,
                rows.filter(in_currency).sort("row"),
                chain.filter(in_currency),
                breaks.filter(in_currency),
                balance_label=balance_label,
                amount_label=amount_label,
                account_id=account_id,
                either_order=either_order,
                decimal_mark=decimal_mark,
            )
        )
    checked = chain.filter(pl.col("previous").is_not_null()).height
    return RunningBalanceResult(order, checked, breaks.height, statements)
