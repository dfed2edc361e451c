"""The self-check of an export that writes the balance after each row (PayPal's activity download).

Within a file, per currency, the balance after the previous row that moved it plus this row's
amount is this row's balance, the way a bank statement's opening balance plus its movements is
its closing one. A file that breaks it is rejected whole, naming the line, the expected and the
found balance: a row read wrong, or one missing from the file, makes every later balance wrong,
and nothing says which row to trust.

A row that does not move the balance (PayPal's Memo rows: authorizations, pending payments not
yet received) is left out. A row whose balance or amount cannot be proven (no balance given,
PayPal's "...", or a row quarantined for any reason) restarts the chain after it: the file is
not checked across it, and the quarantined row explains any difference. PayPal lists its
activity oldest first; a file listed newest first is checked in that order.

The check is one pass of column expressions over the file's rows (each row against the one
before it in its currency), not a loop over them.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from dagster_project.lib.readers.common import FileRejected


def _chain(rows: pl.DataFrame, *, newest_first: bool) -> pl.DataFrame:
    """Every row that can be checked, with the balance it follows from (`previous`, on line
    `previous_row`) and the one that gives (`expected`)."""
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
        .filter(pl.col("previous").is_not_null() & pl.col("_proven").is_not_null())
        .with_columns((pl.col("previous") + pl.col("amount")).alias("expected"))
    )


def _first_break(chain: pl.DataFrame) -> dict[str, Any] | None:
    breaks = chain.filter(pl.col("expected") != pl.col("balance"))
    return None if breaks.is_empty() else breaks.row(0, named=True)


def _decimals(text: str | None) -> int:
    return len(text.rpartition(".")[2]) if text and "." in text else 0


def check_running_balance(path: Path, balance_label: str, amount_label: str, rows: pl.DataFrame) -> tuple[str, int]:
    """("oldest first" or "newest first", rows checked), or FileRejected naming the file, the
    line, the expected and the found balance.

    ``rows`` holds every row of the file: `row` (its line), `known` (false for a row quarantined
    or rejected: its effect is unknown), `moves` (false for a row that does not move the balance),
    `per` (the balance it belongs to, its currency), `amount` and `balance` (typed as the
    source's fields are, null when not given) and the texts they were read from, `amount_text`
    and `balance_text`.
    """
    forward = _chain(rows, newest_first=False)
    found = _first_break(forward)
    if found is None:
        return "oldest first", forward.height
    backward = _chain(rows, newest_first=True)
    if _first_break(backward) is None:
        return "newest first", backward.height
    expected, balance = Decimal(found["expected"]), Decimal(found["balance"])
    shown = expected.quantize(Decimal(1).scaleb(-_decimals(found["balance_text"])))
    per = f" of {found['per']}" if found["per"] else ""
    raise FileRejected(
        f"{path}: line {found['row']}: field '{balance_label}': the running balance{per} breaks: "
        f"{found['previous_text']} (line {found['previous_row']}) + {amount_label} {found['amount_text']} = {shown}, "
        f"but the line's {balance_label} is {found['balance_text']} (a difference of {balance - expected:f}; nor "
        "does the file add up read newest first); nothing from the file was loaded: download the activity again"
    )
