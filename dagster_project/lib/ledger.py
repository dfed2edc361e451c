"""The ledger's read side: the chart of accounts, point-in-time balances, the trial balance and
the history of a transaction.

A balance is bi-temporal: at effective time ``as_of`` (when the money moved) as the ledger was
known at ``known_at`` (when it was recorded; default: now). It is read from the daily
checkpoints (``fct_balance_day_totals``: one row per account, status, effective date and run)
of the days before ``as_of``'s date, plus that day's own movements up to ``as_of``
(``fct_balance_movements``), so a query reads an account's days, never the whole ledger.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from dagster_project.lib.queries import rows

STATUSES = ("POSTED", "PENDING", "EXPECTED")


class LedgerError(ValueError):
    """A question the ledger cannot answer as asked (unknown account or transaction, bad time)."""


@dataclass(frozen=True)
class Account:
    account_id: str
    profile_id: str
    currency: str
    normal_side: str
    minor_units: int
    timezone: str


def parse_moment(text: str) -> datetime | date:
    """A command-line time: a date (``2026-11-03``: a business day) or an ISO timestamp (UTC
    unless it carries an offset). A bad value raises LedgerError naming it."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise LedgerError(f"not a date or timestamp: {text!r} (use 2026-11-03 or 2026-11-03T18:00:00Z)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _utc(moment: datetime | date, zone: str) -> datetime:
    """A timestamp as naive UTC (the ledger's effective and recorded times); a date is the end
    of that business day in the profile's time zone."""
    if isinstance(moment, datetime):
        return moment
    next_midnight = datetime.combine(moment + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return next_midnight.astimezone(UTC).replace(tzinfo=None) - timedelta(microseconds=1)


def account(connection: duckdb.DuckDBPyConnection, account_id: str) -> Account:
    found = connection.execute(
        """
        select accounts.account_id, accounts.profile_id, accounts.currency, accounts.normal_side,
            coalesce(currencies.minor_units, 2), coalesce(profiles.timezone, 'UTC')
        from marts.dim_accounts as accounts
        left join config.currencies as currencies on currencies.currency_code = accounts.currency
        left join config.profiles as profiles on profiles.profile_id = accounts.profile_id
        where accounts.account_id = ?
        """,
        [account_id],
    ).fetchall()
    if not found:
        near = connection.execute(
            "select account_id from marts.dim_accounts order by jaro_winkler_similarity(account_id, ?) desc limit 3",
            [account_id],
        ).fetchall()
        hint = ", ".join(row[0] for row in near)
        raise LedgerError(f"unknown account {account_id!r}; accounts are <profile>:<name>:<currency>, e.g. {hint}")
    return Account(*found[0])


def format_minor(amount_minor: int, minor_units: int) -> str:
    """An exact decimal string of a minor-unit amount: 123456 with 2 digits is 1234.56."""
    sign = "-" if amount_minor < 0 else ""
    digits = str(abs(amount_minor)).rjust(minor_units + 1, "0")
    if minor_units == 0:
        return sign + digits
    return f"{sign}{digits[:-minor_units]}.{digits[-minor_units:]}"


_BALANCE = """
select
    coalesce((
        select sum(amount_minor) from marts.fct_balance_day_totals
        where account_id = $account and status = $status
            and effective_date < $as_of_date and recorded_at <= $known_at
    ), 0)
    + coalesce((
        select sum(amount_minor) from marts.fct_balance_movements
        where account_id = $account and status = $status
            and effective_date = $as_of_date and effective_at <= $as_of and recorded_at <= $known_at
    ), 0)
"""


def balance(
    connection: duckdb.DuckDBPyConnection,
    account_id: str,
    as_of: datetime | date,
    known_at: datetime | date | None = None,
    statuses: tuple[str, ...] = STATUSES,
) -> list[dict[str, Any]]:
    """The balance of ``account_id`` per status at ``as_of`` as known at ``known_at`` (now when
    None), on the account's normal side (a CREDIT-normal account's credit balance is
    positive)."""
    found = account(connection, account_id)
    as_of_utc = _utc(as_of, found.timezone)
    known_at_utc = _utc(known_at, found.timezone) if known_at is not None else datetime(9999, 12, 31)
    result = []
    for status in statuses:
        (debit_positive,) = connection.execute(
            _BALANCE,
            {
                "account": account_id,
                "status": status.upper(),
                "as_of_date": as_of_utc.date(),
                "as_of": as_of_utc,
                "known_at": known_at_utc,
            },
        ).fetchall()[0]  # fetched to the end: the connection is free for the caller's next query
        amount = int(debit_positive) if found.normal_side == "DEBIT" else -int(debit_positive)
        result.append(
            {
                "account_id": account_id,
                "status": status.upper(),
                "as_of": as_of_utc.isoformat(sep=" "),
                "known_at": known_at_utc.isoformat(sep=" ") if known_at is not None else "now",
                "normal_side": found.normal_side,
                "balance_minor": amount,
                "balance": format_minor(amount, found.minor_units),
                "currency": found.currency,
            }
        )
    return result


def accounts(connection: duckdb.DuckDBPyConnection, profile: str | None) -> list[dict[str, Any]]:
    return rows(
        connection,
        """
        select organization_id, merchant_id, profile_id, account_id, account_name, currency, purpose,
            normal_side, case when is_default then 'default' else 'profile' end as defined_by, description
        from marts.dim_accounts
        where ? is null or profile_id = ?
        order by profile_id, account_name, currency
        """,
        [profile, profile],
    )


def trial_balance(
    connection: duckdb.DuckDBPyConnection, business_date: date, profile: str | None, status: str = "POSTED"
) -> list[dict[str, Any]]:
    """Every account's closing balance at the end of ``business_date`` (its latest day on or
    before it), debit and credit balances apart, then a total line per profile and currency
    whose difference is zero."""
    lines = rows(
        connection,
        """
        with latest as (
            select * from marts.mart_daily_balances
            where business_date <= $date and status = $status and ($profile is null or profile_id = $profile)
            qualify row_number() over (partition by account_id order by business_date desc) = 1
        )
        select latest.profile_id, latest.currency, latest.account_id, latest.purpose, latest.normal_side,
            greatest(latest.closing_minor, 0) as debit_minor, greatest(-latest.closing_minor, 0) as credit_minor,
            coalesce(currencies.minor_units, 2) as minor_units
        from latest
        left join config.currencies as currencies on currencies.currency_code = latest.currency
        where latest.closing_minor <> 0
        order by latest.profile_id, latest.currency, latest.account_id
        """,
        {"date": business_date, "status": status.upper(), "profile": profile},
    )
    result: list[dict[str, Any]] = []
    totals: dict[tuple[str, str], list[int]] = {}
    for line in lines:
        units = line.pop("minor_units")
        key = (line["profile_id"], line["currency"])
        total = totals.setdefault(key, [0, 0, units])
        total[0] += line["debit_minor"]
        total[1] += line["credit_minor"]
        result.append(
            {
                **line,
                "debit": format_minor(line["debit_minor"], units),
                "credit": format_minor(line["credit_minor"], units),
            }
        )
    for (profile_id, currency), (debits, credits, units) in sorted(totals.items()):
        result.append(
            {
                "profile_id": profile_id,
                "currency": currency,
                "account_id": "TOTAL",
                "purpose": "",
                "normal_side": "",
                "debit_minor": debits,
                "credit_minor": credits,
                "debit": format_minor(debits, units),
                "credit": format_minor(credits, units),
                "difference": format_minor(debits - credits, units),
            }
        )
    return result


def transaction_history(connection: duckdb.DuckDBPyConnection, transaction_id: str) -> list[dict[str, Any]]:
    """Every version of a transaction with its entries, oldest first."""
    history = rows(
        connection,
        """
        select version, transaction_status, entry_index, account_id, direction, amount_minor, currency, status,
            fx_rate, effective_at, recorded_at, rule_name, source_entry_id, target_entry_id,
            run_window_start, run_window_end
        from marts.fct_ledger_entry_versions
        where transaction_id = ?
        order by version, entry_index
        """,
        [transaction_id],
    )
    if not history:
        near = connection.execute(
            "select distinct transaction_id from marts.fct_ledger_entry_versions where transaction_id ilike ? limit 3",
            [f"%{transaction_id.removeprefix('txn|')}%"],
        ).fetchall()
        hint = f"; did you mean {', '.join(row[0] for row in near)}?" if near else ""
        raise LedgerError(f"unknown transaction {transaction_id!r}{hint}")
    return history
