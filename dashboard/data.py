"""The finance dashboard's data: plain functions over the warehouse snapshot.

The listings are the command line's (``dagster_project.lib.queries`` and ``ledger``), read once
per snapshot; the dashboard's filters (organization, merchant, profile, currency, business
dates) and aggregates (match rate, exceptions by age, the chain funnel) are applied to them
here, so that app.py only lays them out and tests can check every figure without a browser.

Money stays exact: amounts are the listings' decimal strings in each currency's units, summed
as Decimal per currency and never across currencies. Floats appear only where a chart needs a
bar's height.
"""

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dagster_project.lib import ledger, queries
from dagster_project.lib.home import ReconHome
from dagster_project.lib.resolutions import resolution_log
from dagster_project.lib.snapshot import SnapshotInfo, open_snapshot, read_info, snapshot_path

ALL = "All"
UNRESOLVED = ("OPEN", "ASSIGNED")
# the age buckets of open exceptions follow the severity_age_days thresholds (dbt_project.yml)
AGE_BUCKETS = ((0, "0-2 days"), (3, "3-6 days"), (7, "7-29 days"), (30, "30+ days"))
SEVERITIES = ("critical", "high", "medium", "low")


def default_snapshot() -> Path:
    """The snapshot of the current RECON_HOME's warehouse."""
    return snapshot_path(ReconHome.from_env().warehouse)


_COMPARISONS = {"=": operator.eq, ">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Filters:
    """What the sidebar selects; None is every value. Dates are business dates, inclusive."""

    organization: str | None = None
    merchant: str | None = None
    profile: str | None = None
    currency: str | None = None
    start: date | None = None
    end: date | None = None

    def conditions(self, *, dates: bool = True, currency: bool = True) -> list[tuple[str, str, Any]]:
        """What the selection fixes, as (column, comparison, value): the tenancy levels chosen
        and, when asked, the currency and the business dates."""
        chosen = [
            ("organization_id", "=", self.organization),
            ("merchant_id", "=", self.merchant),
            ("profile_id", "=", self.profile),
        ]
        if currency:
            chosen.append(("currency", "=", self.currency))
        if dates:
            chosen += [("business_date", ">=", self.start), ("business_date", "<=", self.end)]
        return [condition for condition in chosen if condition[2] is not None]

    def apply(self, frame: pd.DataFrame, *, dates: bool = True, currency: bool = True) -> pd.DataFrame:
        """The rows of ``frame`` (with organization_id, merchant_id, profile_id and, when asked,
        business_date and currency columns) that these filters keep."""
        mask = pd.Series(True, index=frame.index)
        for column, comparison, value in self.conditions(dates=dates, currency=currency):
            mask &= _COMPARISONS[comparison](frame[column], value)
        return frame[mask].reset_index(drop=True)

    def sql(self, table: str) -> tuple[str, list[Any]]:
        """The same selection as a SQL ``where`` clause (possibly empty) over ``table``'s
        organization_id, merchant_id, profile_id, currency and business_date, with its
        parameters."""
        chosen = self.conditions()
        clauses = [f"{table}.{column} {comparison} ?" for column, comparison, _ in chosen]
        return (" where " + " and ".join(clauses)) if clauses else "", [value for _, _, value in chosen]


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows that does not depend on a selection, read once from a
    snapshot."""

    info: SnapshotInfo
    profiles: pd.DataFrame  # organization, merchant, profile with names, time zone
    minor_units: dict[str, int]
    rules: pd.DataFrame  # rule_name, source and target account names
    daily: pd.DataFrame  # queries.daily_status
    exceptions: pd.DataFrame  # queries.exceptions, with organization and merchant
    chains: pd.DataFrame  # queries.chain_groups (flows counted, not listed), with organization and merchant
    accounts: pd.DataFrame  # ledger.accounts
    quarantined: int
    business_dates: list[date] = field(default_factory=list)

    @property
    def currencies(self) -> list[str]:
        found: set[str] = set()
        for frame in (self.daily, self.exceptions, self.accounts):
            found |= set(frame["currency"].dropna())
        return sorted(found)


def _frame(rows: list[dict[str, Any]], columns: Iterable[str]) -> pd.DataFrame:
    """Rows as a DataFrame that keeps its columns when there are no rows."""
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else list(columns))
    return frame.astype(object) if frame.empty else frame


def _with_tenancy(frame: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    tenancy = profiles[["profile_id", "organization_id", "merchant_id"]]
    return frame.merge(tenancy, on="profile_id", how="left")


def load(connection: duckdb.DuckDBPyConnection, path: Path) -> DashboardData:
    """Read the listings of the snapshot open on ``connection``."""
    profiles = _frame(
        queries.rows(
            connection,
            """
            select organization_id, organization_name, merchant_id, merchant_name, profile_id, profile_name,
                reporting_currency, timezone
            from config.profiles
            order by organization_id, merchant_id, profile_id
            """,
        ),
        ["organization_id", "organization_name", "merchant_id", "merchant_name", "profile_id", "profile_name"],
    )
    minor_units = dict(connection.execute("select currency_code, minor_units from config.currencies").fetchall())
    rules = _frame(
        queries.rows(connection, "select rule_name, source_account_name, target_account_name from marts.dim_rules"),
        ["rule_name", "source_account_name", "target_account_name"],
    )
    daily = _frame(
        queries.daily_status(connection, business_date=None, profile=None),
        ["organization_id", "merchant_id", "profile_id", "business_date", "rule_name", "side", "currency"],
    )
    exceptions = _with_tenancy(
        _frame(
            queries.exceptions(connection, status=None, business_date=None, profile=None, category=None),
            ["exception_id", "category", "severity", "status", "profile_id", "business_date", "age_days", "currency"],
        ),
        profiles,
    )
    chains = _with_tenancy(
        _frame(
            queries.chain_groups(connection),
            [
                "profile_id",
                "business_date",
                "entry_type",
                "legs_completed",
                "legs",
                "chain_status",
                "stopped_at_rule",
                "exception_category",
                "currency",
                "flows",
                "amount",
            ],
        ),
        profiles,
    )
    accounts = _frame(
        ledger.accounts(connection, None), ["organization_id", "merchant_id", "profile_id", "account_id", "currency"]
    )
    quarantined = connection.execute("select count(*) from raw.quarantine").fetchall()[0][0]
    business_dates = sorted(set(daily["business_date"]))
    return DashboardData(
        info=read_info(connection, path),
        profiles=profiles,
        minor_units=minor_units,
        rules=rules,
        daily=daily,
        exceptions=exceptions,
        chains=chains,
        accounts=accounts,
        quarantined=quarantined,
        business_dates=business_dates,
    )


def load_snapshot(path: Path) -> DashboardData:
    connection = open_snapshot(path)
    try:
        return load(connection, path)
    finally:
        connection.close()


# ---- tenancy: organization -> merchant -> profile ----------------------------------------


def tenancy_options(profiles: pd.DataFrame, organization: str | None, merchant: str | None) -> dict[str, list[str]]:
    """The choices of each tenancy level given the levels above it."""
    organizations = sorted(set(profiles["organization_id"]))
    scoped = profiles if organization is None else profiles[profiles["organization_id"] == organization]
    merchants = sorted(set(scoped["merchant_id"]))
    if merchant is not None:
        scoped = scoped[scoped["merchant_id"] == merchant]
    return {"organization": organizations, "merchant": merchants, "profile": sorted(set(scoped["profile_id"]))}


# ---- money -------------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None and value == value else Decimal(0)


def money(amount: Decimal, currency: str, minor_units: dict[str, int]) -> str:
    """``EUR 1,234.56``: grouped, with the currency's own number of decimals."""
    return f"{currency} {amount:,.{minor_units.get(currency, 2)}f}"


def sum_by_currency(frame: pd.DataFrame, column: str) -> dict[str, Decimal]:
    """The exact sum of a decimal-string column per currency."""
    totals: dict[str, Decimal] = {}
    for currency, amount in zip(frame["currency"], frame[column], strict=True):
        totals[currency] = totals.get(currency, Decimal(0)) + to_decimal(amount)
    return dict(sorted(totals.items()))


def grouped(amount: Any) -> str:
    """A decimal string with thousands separators, keeping its decimals (for tables)."""
    if amount is None or amount != amount:
        return ""
    text = str(amount)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{Decimal(text):,.{decimals}f}"


# ---- overview ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    source_entries: int
    matched_entries: int
    open_exceptions: int
    assigned_exceptions: int
    urgent_exceptions: int  # critical or high, unresolved
    matched_amount: dict[str, Decimal]
    at_stake: dict[str, Decimal]

    @property
    def match_rate(self) -> float | None:
        return self.matched_entries / self.source_entries if self.source_entries else None

    @property
    def unresolved(self) -> int:
        return self.open_exceptions + self.assigned_exceptions


def format_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def kpis(data: DashboardData, filters: Filters) -> Kpis:
    """The headline figures: the source side's match rate (as `recon status` counts it),
    unresolved exceptions with the amount at stake, and the matched amount."""
    source = filters.apply(data.daily)
    source = source[source["side"] == "source"]
    unresolved = open_exceptions(data, filters)
    return Kpis(
        source_entries=int(source["entries"].sum()),
        matched_entries=int(source["matched"].sum()),
        open_exceptions=int((unresolved["status"] == "OPEN").sum()),
        assigned_exceptions=int((unresolved["status"] == "ASSIGNED").sum()),
        urgent_exceptions=int(unresolved["severity"].isin(["critical", "high"]).sum()),
        matched_amount=sum_by_currency(source, "matched_amount"),
        at_stake=sum_by_currency(unresolved, "amount_at_stake"),
    )


def match_rate_by_day(data: DashboardData, filters: Filters) -> pd.DataFrame:
    """Per business date and profile: source entries, matched, match rate."""
    source = filters.apply(data.daily)
    source = source[source["side"] == "source"]
    if source.empty:
        return pd.DataFrame(columns=["business_date", "profile_id", "entries", "matched", "match_rate"])
    daily = source.groupby(["business_date", "profile_id"], as_index=False)[["entries", "matched"]].sum()
    daily["match_rate"] = (daily["matched"] / daily["entries"]).round(4)
    return daily.sort_values(["business_date", "profile_id"]).reset_index(drop=True)


def money_by_currency(data: DashboardData, filters: Filters) -> pd.DataFrame:
    """Per currency, the source side's money matched, waiting and in exception, and the amount
    at stake in unresolved exceptions."""
    source = filters.apply(data.daily)
    source = source[source["side"] == "source"]
    stake = sum_by_currency(open_exceptions(data, filters), "amount_at_stake")
    columns = {
        "matched": sum_by_currency(source, "matched_amount"),
        "open": sum_by_currency(source, "open_amount"),
        "in_exception": sum_by_currency(source, "exception_amount"),
        "at_stake_unresolved": stake,
    }
    currencies = sorted(set().union(*columns.values()))
    return pd.DataFrame(
        [
            {"currency": currency, **{name: str(values.get(currency, Decimal(0))) for name, values in columns.items()}}
            for currency in currencies
        ],
        columns=["currency", *columns],
    )


def daily_figures(data: DashboardData, filters: Filters) -> pd.DataFrame:
    """The daily reconciliation (`recon status`) within the filters."""
    return filters.apply(data.daily)


# ---- exceptions --------------------------------------------------------------------------


def age_bucket(age_days: Any) -> str:
    age = int(age_days) if age_days is not None and age_days == age_days else 0
    label = AGE_BUCKETS[0][1]
    for lower, name in AGE_BUCKETS:
        if age >= lower:
            label = name
    return label


def exceptions(
    data: DashboardData,
    filters: Filters,
    statuses: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
    severities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The exceptions (`recon exceptions`) within the filters, with their age bucket."""
    frame = filters.apply(data.exceptions)
    if statuses is not None:
        frame = frame[frame["status"].isin(list(statuses))]
    if categories is not None:
        frame = frame[frame["category"].isin(list(categories))]
    if severities is not None:
        frame = frame[frame["severity"].isin(list(severities))]
    frame = frame.reset_index(drop=True)
    frame.insert(frame.columns.get_loc("age_days") + 1, "age_bucket", [age_bucket(a) for a in frame["age_days"]])
    return frame


def open_exceptions(data: DashboardData, filters: Filters) -> pd.DataFrame:
    """Unresolved exceptions: OPEN or ASSIGNED."""
    return exceptions(data, filters, statuses=UNRESOLVED)


def exceptions_by_age(frame: pd.DataFrame) -> pd.DataFrame:
    """Exceptions per age bucket, category and currency: how many, and the amount at stake."""
    columns = ["age_bucket", "category", "currency", "exceptions", "amount_at_stake"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for (bucket, category, currency), group in frame.groupby(["age_bucket", "category", "currency"], sort=False):
        out.append(
            {
                "age_bucket": bucket,
                "category": category,
                "currency": currency,
                "exceptions": len(group),
                "amount_at_stake": str(sum((to_decimal(a) for a in group["amount_at_stake"]), Decimal(0))),
            }
        )
    order = {name: index for index, (_, name) in enumerate(AGE_BUCKETS)}
    result = pd.DataFrame(out, columns=columns)
    result["_order"] = result["age_bucket"].map(order)
    return result.sort_values(["_order", "category", "currency"]).drop(columns="_order").reset_index(drop=True)


def exceptions_by_category(frame: pd.DataFrame) -> pd.DataFrame:
    """Exceptions per category and currency: how many, and the amount at stake."""
    columns = ["category", "currency", "exceptions", "amount_at_stake"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    out = [
        {
            "category": category,
            "currency": currency,
            "exceptions": len(group),
            "amount_at_stake": str(sum((to_decimal(a) for a in group["amount_at_stake"]), Decimal(0))),
        }
        for (category, currency), group in frame.groupby(["category", "currency"])
    ]
    return pd.DataFrame(out, columns=columns)


def transaction_id(expectation_id: str | None) -> str | None:
    """The ledger transaction of an expectation (its entries are EXPECTED until a match posts them)."""
    return f"txn|{expectation_id}" if expectation_id else None


def exception_detail(connection: duckdb.DuckDBPyConnection, exception_id: str) -> dict[str, Any]:
    """One exception as `recon exceptions` shows it, its resolutions log (who, when, why) and
    the versions of its ledger transaction."""
    found = queries.rows(
        connection,
        "select expectation_id, entry_ids from marts.fct_exceptions where exception_id = ?",
        [exception_id],
    )
    resolutions = resolution_log(connection, exception_id)
    expectation_id = (
        found[0]["expectation_id"] if found else (resolutions[-1]["expectation_id"] if resolutions else None)
    )
    transactions = [transaction_id(expectation_id)] if expectation_id else []
    transactions += [
        f"txn|resolution|{resolution['resolution_id']}"
        for resolution in resolutions
        if resolution["action"] == "write_off"
    ]
    history: list[dict[str, Any]] = []
    for transaction in transactions:
        try:
            history += [
                {"transaction_id": transaction, **line} for line in ledger.transaction_history(connection, transaction)
            ]
        except ledger.LedgerError:  # recorded, but no run has applied it yet
            continue
    return {
        "entry_ids": found[0]["entry_ids"] if found else [],
        "transactions": transactions,
        "resolutions": _frame(resolutions, ["resolution_id", "action", "reason", "resolved_by", "resolved_at"]),
        "history": _frame(
            history, ["transaction_id", "version", "transaction_status", "account_id", "direction", "amount_minor"]
        ),
    }


def resolve_command(exception: dict[str, Any]) -> str:
    """The command line that resolves this exception, with the action that fits its category."""
    category = exception.get("category")
    if category in ("amount_over", "amount_under"):
        action = "write_off"
    elif category == "missing_counterpart":
        action = "mark_received"
    else:
        action = "void"
    return f'recon resolve {exception["exception_id"]} --action {action} --reason "..."'


# ---- drill-down --------------------------------------------------------------------------


def figure_label(row: dict[str, Any]) -> str:
    rate = format_rate(row["match_rate"]) if row.get("match_rate") is not None else "-"
    return (
        f"{row['business_date']} · {row['profile_id']} · {row['rule_name']} · {row['side']} · {row['currency']}"
        f" — {row['entries']} entries, {row['matched']} matched, {row['open']} open, "
        f"{row['exceptions']} exceptions ({rate})"
    )


def figure_entries(connection: duckdb.DuckDBPyConnection, figure: dict[str, Any]) -> pd.DataFrame:
    """The entries behind one row of the daily reconciliation, each with its outcome and why."""
    found = queries.entry_outcomes(
        connection,
        business_date=figure["business_date"],
        profile=figure["profile_id"],
        rule=figure["rule_name"],
        side=figure["side"],
        currency=figure["currency"],
    )
    return _frame(found, ["record_id", "status", "exception_category", "checks", "amount", "currency"])


# ---- chain funnel ------------------------------------------------------------------------


def _first_rule(legs: Any, stopped_at_rule: Any) -> str | None:
    if isinstance(legs, str) and legs:
        return legs.split(" > ")[0]
    return stopped_at_rule if isinstance(stopped_at_rule, str) else None


def funnel(data: DashboardData, filters: Filters, entry_type: str = "order") -> pd.DataFrame:
    """The N-way funnel of the flows starting with ``entry_type`` (orders: order -> charge ->
    payout -> bank credit), per channel (the account the first leg settles in): how many flows
    reached each step, and the share of those that started."""
    columns = ["channel", "step", "reached", "flows", "share", "waiting_here", "stopped_here"]
    groups = filters.apply(data.chains)
    groups = groups[groups["entry_type"] == entry_type]
    if groups.empty:
        return pd.DataFrame(columns=columns)
    target = dict(zip(data.rules["rule_name"], data.rules["target_account_name"], strict=True))
    groups = groups.assign(
        channel=[
            target.get(_first_rule(legs, stop) or "", "(no rule)")
            for legs, stop in zip(groups["legs"], groups["stopped_at_rule"], strict=True)
        ]
    )
    out = []
    for channel, group in groups.groupby("channel", sort=True):
        started = int(group["flows"].sum())
        paths = [legs.split(" > ") if isinstance(legs, str) and legs else [] for legs in group["legs"]]
        deepest = max((len(path) for path in paths), default=0)
        for step in range(deepest + 1):
            if step == 0:
                reached = f"{entry_type}s"
            else:
                rule = next(path[step - 1] for path in paths if len(path) >= step)
                reached = target.get(rule, rule)
            at_step = group[group["legs_completed"] == step]
            flows = int(group.loc[group["legs_completed"] >= step, "flows"].sum())
            out.append(
                {
                    "channel": channel,
                    "step": step,
                    "reached": reached,
                    "flows": flows,
                    "share": round(flows / started, 4),
                    "waiting_here": int(at_step.loc[at_step["chain_status"] == "waiting", "flows"].sum()),
                    "stopped_here": int(at_step.loc[at_step["chain_status"] == "stopped", "flows"].sum()),
                }
            )
    return pd.DataFrame(out, columns=columns)


def chain_stops(data: DashboardData, filters: Filters, entry_type: str = "order") -> pd.DataFrame:
    """Where unfinished flows wait or stopped, with the money they carry per currency."""
    columns = ["chain_status", "stopped_at_rule", "exception_category", "currency", "flows", "amount"]
    groups = filters.apply(data.chains)
    groups = groups[(groups["entry_type"] == entry_type) & (groups["chain_status"] != "complete")]
    if groups.empty:
        return pd.DataFrame(columns=columns)
    out = [
        {
            "chain_status": status,
            "stopped_at_rule": rule,
            "exception_category": category if category == category else None,
            "currency": currency,
            "flows": int(group["flows"].sum()),
            "amount": str(sum((to_decimal(a) for a in group["amount"]), Decimal(0))),
        }
        for (status, rule, category, currency), group in groups.groupby(
            ["chain_status", "stopped_at_rule", "exception_category", "currency"], dropna=False
        )
    ]
    return pd.DataFrame(out, columns=columns).sort_values(["chain_status", "flows"], ascending=[True, False])


def flow_count(data: DashboardData, filters: Filters, entry_type: str | None = None) -> int:
    """How many flows (starting with ``entry_type``, or any) the filters keep."""
    groups = filters.apply(data.chains)
    if entry_type is not None:
        groups = groups[groups["entry_type"] == entry_type]
    return int(groups["flows"].sum())


FLOWS_LISTED = 1000


def chain_flows(
    connection: duckdb.DuckDBPyConnection, filters: Filters, entry_type: str | None = None, limit: int = FLOWS_LISTED
) -> pd.DataFrame:
    """The first ``limit`` flows the filters keep, read from the snapshot on demand (a warehouse
    holds a flow per order): the ones that stopped first, then those waiting, the oldest first.
    `recon chains` lists them all."""
    where, params = filters.sql("chains")
    if entry_type is not None:
        where += (" and " if where else " where ") + "chains.entry_type = ?"
        params.append(entry_type)
    found = queries.chain_listing(
        connection,
        where,
        params,
        order_by="""case chain_status when 'stopped' then 0 when 'waiting' then 1 else 2 end,
            business_date, profile_id, source_name, source_entry_id""",
        limit=limit,
    )
    return _frame(found, ["profile_id", "business_date", "record_id", "entry_type", "legs", "chain_status"])


# ---- balances ----------------------------------------------------------------------------


def accounts(data: DashboardData, filters: Filters) -> pd.DataFrame:
    """The chart of accounts within the tenancy and currency filters."""
    return filters.apply(data.accounts, dates=False)


def account_balance(
    connection: duckdb.DuckDBPyConnection,
    account_id: str,
    as_of: date,
    known_at: date | None = None,
    statuses: tuple[str, ...] = ledger.STATUSES,
) -> pd.DataFrame:
    """`recon balance`: the account's balance per status at the end of ``as_of`` (in its
    profile's time zone), as the books show it now or as they showed it at ``known_at``."""
    return _frame(
        ledger.balance(connection, account_id, as_of, known_at, statuses),
        ["account_id", "status", "as_of", "known_at", "normal_side", "balance_minor", "balance", "currency"],
    )


def account_daily_balances(connection: duckdb.DuckDBPyConnection, account_id: str) -> pd.DataFrame:
    """The account's opening, debits, credits and closing per business day and status, from
    ``mart_daily_balances``; opening and closing on the account's normal side."""
    units = ledger.account(connection, account_id).minor_units
    found = queries.rows(
        connection,
        """
        select business_date, status, currency, normal_side, opening_minor, debits_minor, credits_minor,
            closing_minor, closing_normal_minor, movement_count
        from marts.mart_daily_balances
        where account_id = ?
        order by business_date, status
        """,
        [account_id],
    )
    for line in found:
        sign = 1 if line["normal_side"] == "DEBIT" else -1
        line["opening"] = ledger.format_minor(sign * line["opening_minor"], units)
        line["debits"] = ledger.format_minor(line["debits_minor"], units)
        line["credits"] = ledger.format_minor(line["credits_minor"], units)
        line["closing"] = ledger.format_minor(line["closing_normal_minor"], units)
    return _frame(found, ["business_date", "status", "currency", "closing_normal_minor", "closing"])


def default_account(accounts: pd.DataFrame, profiles: pd.DataFrame) -> str:
    """The account to show first: a bank account in its profile's reporting currency."""
    reporting = dict(zip(profiles["profile_id"], profiles["reporting_currency"], strict=True))
    for account_id, purpose, profile_id, currency in zip(
        accounts["account_id"], accounts["purpose"], accounts["profile_id"], accounts["currency"], strict=True
    ):
        if purpose == "bank" and reporting.get(profile_id) == currency:
            return account_id
    return accounts["account_id"].iloc[0]


def trial_balance(
    connection: duckdb.DuckDBPyConnection, business_date: date, profiles: Iterable[str], currency: str | None
) -> pd.DataFrame:
    """`recon trial-balance`: every account's POSTED closing balance on a day, debits and credits
    apart, with a total line per profile and currency; of the given profiles (and currency)."""
    lines = []
    for profile in profiles:
        lines += [
            line
            for line in ledger.trial_balance(connection, business_date, profile)
            if currency is None or line["currency"] == currency
        ]
    return _frame(lines, ["profile_id", "currency", "account_id", "purpose", "debit", "credit"])


def profiles_within(data: DashboardData, filters: Filters) -> list[str]:
    """The profiles the tenancy filters keep."""
    return list(filters.apply(data.profiles, dates=False, currency=False)["profile_id"])


# ---- output ------------------------------------------------------------------------------


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV (UTF-8, lists joined with `; `), exactly as shown, for download."""
    return for_display(frame).to_csv(index=False).encode("utf-8")


def for_display(frame: pd.DataFrame, amount_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Lists joined into text; the given amount columns grouped by thousands (text, exact)."""
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].map(lambda value: isinstance(value, list | tuple)).any():
            shown[column] = shown[column].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
    for column in amount_columns:
        if column in shown.columns:
            shown[column] = shown[column].map(grouped)
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].map(lambda value: "" if value is None else value)
    return shown
