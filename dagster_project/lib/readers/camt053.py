"""The self-check of an ISO 20022 camt.053 statement (the statement itself is read in
`ingest._read_camt053`): its opening booked balance (OPBD, or PRCD, the previous statement's
closing) plus its booked entries is its closing booked balance (CLBD). Pending (PDNG) and
information-only (INFO) entries move no booked balance, so they are left out."""

import re
from decimal import Decimal

from dagster_project.lib.readers.common import StatementBalance

DECIMAL = re.compile(r"[+-]?\d+(\.\d+)?")
BOOKED = "BOOK"
NOT_BOOKED = ("PDNG", "INFO", "FUTR")


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text.strip()) if text is not None and DECIMAL.fullmatch(text.strip()) else None


def camt053_balance(statement_values: dict[str, str | None]) -> StatementBalance:
    """What a statement claims, from the values its entries carry (balances signed)."""
    label = f"statement '{statement_values.get('Stmt/Id')}'"
    if statement_values.get("Stmt/Acct/Id"):
        label += f" of account '{statement_values['Stmt/Acct/Id']}'"
    return StatementBalance(
        label=label,
        currency=statement_values.get("Stmt/Acct/Ccy"),
        opening=_decimal(statement_values.get("Bal[OPBD]/Amt")),
        closing=_decimal(statement_values.get("Bal[CLBD]/Amt")),
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
