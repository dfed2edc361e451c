"""The check of an ISO 20022 camt.053 statement (the statement itself is read in
`ingest._read_camt053`): its opening booked balance (OPBD, or PRCD, the previous statement's
closing) plus its booked entries is its closing booked balance (CLBD). Pending (PDNG) and
information-only (INFO) entries move no booked balance, so they add nothing."""

import re
from datetime import date
from decimal import Decimal

from dagster_project.lib.readers.common import StatementCheck

DECIMAL = re.compile(r"[+-]?\d+(\.\d+)?")
BOOKED = "BOOK"
NOT_BOOKED = ("PDNG", "INFO", "FUTR")


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text.strip()) if text is not None and DECIMAL.fullmatch(text.strip()) else None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def camt053_check(
    position: int, first_entry: int, statement_values: dict[str, str | None], problem: str | None
) -> StatementCheck:
    """What a statement claims, from the values its entries carry (balances signed); `problem`
    is why its balances cannot be read, if they cannot."""
    label = f"statement '{statement_values.get('Stmt/Id')}'"
    if statement_values.get("Stmt/Acct/Id"):
        label += f" of account '{statement_values['Stmt/Acct/Id']}'"
    opening = _decimal(statement_values.get("Bal[OPBD]/Amt"))
    closing = _decimal(statement_values.get("Bal[CLBD]/Amt"))
    not_checked = problem
    if not_checked is None and (opening is None or closing is None):
        not_checked = "it gives no opening (OPBD, PRCD) or no closing (CLBD) booked balance"
    return StatementCheck(
        position=position,
        line=first_entry,
        label=label,
        statement_id=statement_values.get("Stmt/Id"),
        account_id=statement_values.get("Stmt/Acct/Id"),
        currency=statement_values.get("Stmt/Acct/Ccy"),
        check_kind="balances",
        statement_date=_date(statement_values.get("Bal[CLBD]/Dt")),
        opening=opening,
        closing=closing,
        expected=None if not_checked or opening is None or closing is None else closing - opening,
        not_checked=not_checked,
    )


def camt053_movement(entry_values: dict[str, str | None]) -> Decimal | None:
    """What an entry adds to the booked balance (+ credit, - debit, 0 when not booked), or None
    when its amount, side or status cannot be read."""
    status = (entry_values.get("Sts") or "").strip().upper()
    if status in NOT_BOOKED:
        return Decimal(0)
    amount = _decimal(entry_values.get("Amt"))
    side = entry_values.get("CdtDbtInd")
    if status != BOOKED or amount is None or amount < 0 or side not in ("CRDT", "DBIT"):
        return None
    return amount if side == "CRDT" else -amount
