"""The check of an ISO 20022 camt.053 statement (the statement itself is read in
`ingest._read_camt`): its opening booked balance (OPBD, or PRCD, the previous statement's
closing) plus its booked entries is its closing booked balance (CLBD). Pending (PDNG) and
information-only (INFO) entries move no booked balance, so they add nothing.

A camt.054 notification, read by the same code (its entries are shaped as a statement's), has
no balances: it is checked against its transaction summary when it gives one."""

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


# --- camt.054 notifications --------------------------------------------------------------------

# the notification's transaction summary (TxsSummry), as the reader carries it on each entry
NET_TOTAL, NET_SIDE = "TxsSummry/TtlNetNtry/Amt", "TxsSummry/TtlNetNtry/CdtDbtInd"
ENTRY_COUNT = "TxsSummry/TtlNtries/NbOfNtries"
CREDIT_SUM, CREDIT_COUNT = "TxsSummry/TtlCdtNtries/Sum", "TxsSummry/TtlCdtNtries/NbOfNtries"
DEBIT_SUM, DEBIT_COUNT = "TxsSummry/TtlDbtNtries/Sum", "TxsSummry/TtlDbtNtries/NbOfNtries"


def _count(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


def camt054_check(
    position: int, first_entry: int, notification_values: dict[str, str | None], problem: str | None
) -> StatementCheck:
    """What a notification claims about its entries. It has no balances: only its transaction
    summary, when it gives one, says what its entries add up to (the net of them all, or its
    credits less its debits) and how many there are; without one it is not checked."""
    label = f"notification '{notification_values.get('Ntfctn/Id')}'"
    if notification_values.get("Ntfctn/Acct/Id"):
        label += f" of account '{notification_values['Ntfctn/Acct/Id']}'"
    given = {key: notification_values.get(key) for key in (NET_TOTAL, CREDIT_SUM, DEBIT_SUM)}
    unreadable = next((key for key, text in given.items() if text is not None and _decimal(text) is None), None)
    net, credits, debits = (_decimal(text) for text in given.values())
    side = notification_values.get(NET_SIDE)
    expected = expected_count = None
    problems: list[str] = []
    not_checked = problem
    if not_checked is None and unreadable is not None:
        not_checked = f"its total {unreadable} '{given[unreadable]}' cannot be read as an amount"
    elif not_checked is None and net is not None and side not in ("CRDT", "DBIT"):
        found = f"'{side}'" if side else "missing"
        not_checked = f"the side of its net total ({NET_SIDE}) is {found}, not CRDT or DBIT"
    elif not_checked is None and net is not None:
        net = net if side == "CRDT" else -net
        expected, expected_count = net, _count(notification_values.get(ENTRY_COUNT))
        if credits is not None and debits is not None and credits - debits != net:
            problems.append(
                f"its summary contradicts itself: credits {credits} less debits {debits} are not its net {net}"
            )
    elif not_checked is None and credits is not None and debits is not None:
        # the two sides together cover every entry; one side alone says nothing of the other
        expected = credits - debits
        counts = [_count(notification_values.get(key)) for key in (CREDIT_COUNT, DEBIT_COUNT)]
        expected_count = None if None in counts else sum(c for c in counts if c is not None)
    elif not_checked is None:
        not_checked = (
            "a notification has no balances, and it gives no totals (TxsSummry: TtlNetNtry, or TtlCdtNtries and "
            "TtlDbtNtries) to check its entries against"
        )
    created = notification_values.get("Ntfctn/CreDtTm")
    return StatementCheck(
        position=position,
        line=first_entry,
        label=label,
        statement_id=notification_values.get("Ntfctn/Id"),
        account_id=notification_values.get("Ntfctn/Acct/Id"),
        currency=notification_values.get("Ntfctn/Acct/Ccy"),
        check_kind="transaction_summary",
        statement_date=_date(created[:10]) if created else None,
        expected=expected,
        expected_count=expected_count,
        not_checked=not_checked,
        problems=problems,
    )


def camt054_movement(entry_values: dict[str, str | None]) -> Decimal | None:
    """What an entry adds to its notification's totals (+ credit, - debit, whatever its status:
    the summary counts every entry the notification reports), or None when its amount or side
    cannot be read."""
    amount = _decimal(entry_values.get("Amt"))
    side = entry_values.get("CdtDbtInd")
    if amount is None or amount < 0 or side not in ("CRDT", "DBIT"):
        return None
    return amount if side == "CRDT" else -amount
