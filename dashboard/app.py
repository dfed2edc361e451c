"""The finance dashboard: `recon dashboard` serves it (streamlit run dashboard/app.py).

Layout only: every figure comes from dashboard/data.py, read from the warehouse's read-only
snapshot, never from the warehouse itself (a run may be writing it).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple
from datetime import date
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from dagster_project.lib.snapshot import SnapshotError, open_snapshot
from dashboard import data

st.set_page_config(page_title="Reconciliation · Finance", page_icon=":material/account_balance:", layout="wide")

MONEY_COLUMNS = (
    "amount",
    "amount_at_stake",
    "matched_amount",
    "open_amount",
    "exception_amount",
    "matched",
    "open",
    "in_exception",
    "at_stake_unresolved",
    "balance",
    "debit",
    "credit",
    "difference",
    "fee",
)


# ---- the snapshot ------------------------------------------------------------------------


@st.cache_data(show_spinner="Reading the reconciliation snapshot ...", max_entries=4)
def load(path: str, version: int) -> data.DashboardData:
    """Read once per snapshot file version (its mtime): a new run's snapshot is read again."""
    return data.load_snapshot(Path(path))


@contextmanager
def snapshot_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_snapshot(path)
    try:
        yield connection
    finally:
        connection.close()


@st.cache_data(max_entries=64)
def figure_entries(path: str, version: int, figure: tuple) -> pd.DataFrame:
    keys = ("business_date", "profile_id", "rule_name", "side", "currency")
    with snapshot_connection(Path(path)) as connection:
        return data.figure_entries(connection, dict(zip(keys, figure, strict=True)))


@st.cache_data(max_entries=64)
def exception_detail(path: str, version: int, exception_id: str) -> dict:
    with snapshot_connection(Path(path)) as connection:
        return data.exception_detail(connection, exception_id)


@st.cache_data(max_entries=64)
def balances(path: str, version: int, account_id: str, as_of: date, known_at: date | None) -> tuple:
    with snapshot_connection(Path(path)) as connection:
        return (
            data.account_balance(connection, account_id, as_of, known_at),
            data.account_daily_balances(connection, account_id),
        )


@st.cache_data(max_entries=16)
def chain_flows(path: str, version: int, filters: tuple, entry_type: str) -> pd.DataFrame:
    with snapshot_connection(Path(path)) as connection:
        return data.chain_flows(connection, data.Filters(*filters), entry_type)


@st.cache_data(max_entries=16)
def trial_balance(
    path: str, version: int, business_date: date, profiles: tuple[str, ...], currency: str | None
) -> pd.DataFrame:
    with snapshot_connection(Path(path)) as connection:
        return data.trial_balance(connection, business_date, profiles, currency)


# ---- pieces ------------------------------------------------------------------------------


PERCENT_COLUMNS = ("match_rate", "share")


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    key: str,
    money: Iterable[str] = MONEY_COLUMNS,
    hidden: Iterable[str] = (),
) -> None:
    """A table with amounts grouped by thousands and right-aligned, and its CSV download (every
    column, exact amounts)."""
    shown = data.for_display(frame, money)
    config = {column: st.column_config.TextColumn(alignment="right") for column in money if column in shown}
    config |= {column: st.column_config.NumberColumn(format="percent") for column in PERCENT_COLUMNS if column in shown}
    st.dataframe(
        shown,
        hide_index=True,
        key=key,
        column_config=config,
        column_order=[column for column in shown.columns if column not in set(hidden)],
        height="auto" if len(shown) <= 12 else 440,
    )
    st.download_button(
        "Download CSV",
        data=lambda: data.csv_bytes(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
        on_click="ignore",
    )


def choice(label: str, options: list[str], key: str, names: dict[str, str] | None = None) -> str | None:
    """A select box with "All" first; a value no longer offered (a level above changed) falls back to All."""
    offered = [data.ALL, *options]
    if st.session_state.get(key) not in offered:
        st.session_state[key] = data.ALL
    names = names or {}
    picked = st.selectbox(
        label, offered, key=key, format_func=lambda v: v if v == data.ALL else f"{v} · {names.get(v, v)}"
    )
    return None if picked == data.ALL else picked


def money_line(amounts: dict, minor_units: dict[str, int]) -> str:
    return "  ·  ".join(data.money(amount, currency, minor_units) for currency, amount in amounts.items()) or "-"


# ---- page --------------------------------------------------------------------------------

snapshot = data.default_snapshot()
try:
    version = snapshot.stat().st_mtime_ns
    loaded = load(str(snapshot), version)
except (FileNotFoundError, SnapshotError, duckdb.Error) as error:
    st.title("Reconciliation")
    st.error(
        f"No reconciliation data to show yet ({error}). Run `recon run` (or `recon demo`), then start "
        "`recon dashboard` again."
    )
    st.stop()

minor_units = loaded.minor_units

with st.sidebar:
    st.header("Filters")
    profiles = loaded.profiles
    organization = choice(
        "Organization",
        data.tenancy_options(profiles, None, None)["organization"],
        "organization",
        dict(zip(profiles["organization_id"], profiles["organization_name"], strict=True)),
    )
    merchant = choice(
        "Merchant",
        data.tenancy_options(profiles, organization, None)["merchant"],
        "merchant",
        dict(zip(profiles["merchant_id"], profiles["merchant_name"], strict=True)),
    )
    profile = choice(
        "Profile",
        data.tenancy_options(profiles, organization, merchant)["profile"],
        "profile",
        dict(zip(profiles["profile_id"], profiles["profile_name"], strict=True)),
    )
    currency = choice("Currency", loaded.currencies, "currency")
    first, last = (
        (loaded.business_dates[0], loaded.business_dates[-1]) if loaded.business_dates else (date.today(),) * 2
    )
    picked = st.date_input(
        "Business dates", value=(first, last), min_value=first, max_value=last, key="dates", format="YYYY-MM-DD"
    )
    start, end = (tuple(picked) + (None, None))[:2] if isinstance(picked, tuple | list) else (picked, picked)
    filters = data.Filters(organization, merchant, profile, currency, start, end or start)
    st.divider()
    info = loaded.info
    st.caption(
        f"Data as of **{info.warehouse_written_at:%Y-%m-%d %H:%M} UTC** (the last run that wrote the "
        f"warehouse); snapshot taken {info.taken_at:%Y-%m-%d %H:%M} UTC. A new run's data shows on the "
        "next interaction."
    )
    st.button("Check for new data", icon=":material/refresh:", key="refresh")

st.title("Reconciliation")
tenancy = profiles[profiles["profile_id"] == filters.profile].to_dict("records")
scope = " · ".join(
    part
    for part in (
        tenancy[0]["organization_id"] if tenancy else filters.organization or "all organizations",
        tenancy[0]["merchant_id"] if tenancy else filters.merchant,
        filters.profile,
        filters.currency,
        f"{filters.start} to {filters.end}" if filters.start else None,
    )
    if part
)
st.caption(f"Business dates and figures for {scope}")

figures = data.kpis(loaded, filters)
top = st.columns(4)
top[0].metric(
    "Match rate",
    data.format_rate(figures.match_rate),
    help="Source-side entries (orders, charges, payouts, ...) matched, over all of them, as `recon status` counts.",
    border=True,
)
top[1].metric("Entries matched", f"{figures.matched_entries:,} of {figures.source_entries:,}", border=True)
top[2].metric(
    "Open exceptions",
    f"{figures.unresolved:,}",
    help=f"Not resolved yet: {figures.open_exceptions} OPEN, {figures.assigned_exceptions} ASSIGNED.",
    border=True,
)
top[3].metric("Critical or high", f"{figures.urgent_exceptions:,}", help="Open exceptions by severity.", border=True)
money_row = st.columns(2)
money_row[0].metric("Amount at stake in open exceptions", money_line(figures.at_stake, minor_units), border=True)
money_row[1].metric("Matched amount", money_line(figures.matched_amount, minor_units), border=True)

overview, exceptions_tab, drilldown, chains_tab, balances_tab = st.tabs(
    ["Overview", "Exceptions", "Drill-down", "Chain funnel", "Balances"]
)

# ---- overview ----------------------------------------------------------------------------

with overview:
    left, right = st.columns(2)
    with left:
        st.subheader("Match rate over time")
        trend = data.match_rate_by_day(loaded, filters)
        if trend.empty:
            st.info("No source entries within the filters.")
        else:
            chart = (
                alt.Chart(trend.assign(business_date=pd.to_datetime(trend["business_date"])))
                .mark_line(point=True)
                .encode(
                    x=alt.X(
                        "business_date:T",
                        title="Business date",
                        axis=alt.Axis(format="%b %d", tickCount={"interval": "day", "step": 1}),
                    ),
                    y=alt.Y(
                        "match_rate:Q", title="Match rate", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
                    ),
                    color=alt.Color("profile_id:N", title="Profile"),
                    tooltip=[
                        "business_date:T",
                        "profile_id:N",
                        "entries:Q",
                        "matched:Q",
                        alt.Tooltip("match_rate:Q", format=".1%"),
                    ],
                )
            )
            st.altair_chart(chart)
    with right:
        st.subheader("Open exceptions by age")
        open_now = data.open_exceptions(loaded, filters)
        by_age = data.exceptions_by_age(open_now)
        if by_age.empty:
            st.success("No open exceptions within the filters.")
        else:
            chart = (
                alt.Chart(by_age)
                .mark_bar()
                .encode(
                    x=alt.X(
                        "age_bucket:N",
                        title="Age",
                        sort=[name for _, name in data.AGE_BUCKETS],
                        axis=alt.Axis(labelAngle=0),
                    ),
                    y=alt.Y("sum(exceptions):Q", title="Open exceptions"),
                    color=alt.Color("category:N", title="Category"),
                    tooltip=["age_bucket:N", "category:N", "currency:N", "exceptions:Q", "amount_at_stake:N"],
                )
            )
            st.altair_chart(chart)
    st.subheader("Money by currency")
    st.caption("Source side: matched, still waiting for a counterpart, in exception; and at stake in open exceptions.")
    table(data.money_by_currency(loaded, filters), "money_by_currency", key="money_by_currency")
    st.subheader("Daily reconciliation")
    st.caption("Per profile, business date, rule, side and currency. Pick a row in Drill-down to see its entries.")
    table(data.daily_figures(loaded, filters), "daily_reconciliation", key="daily")

# ---- exceptions --------------------------------------------------------------------------

with exceptions_tab:
    everything = data.exceptions(loaded, filters)
    a, b, c = st.columns(3)
    statuses = a.multiselect("Status", ["OPEN", "ASSIGNED", "RESOLVED"], default=list(data.UNRESOLVED), key="status")
    categories = b.multiselect("Category", sorted(set(everything["category"])), key="category", placeholder="All")
    severities = c.multiselect("Severity", list(data.SEVERITIES), key="severity", placeholder="All")
    chosen = data.exceptions(loaded, filters, statuses, categories or None, severities or None)
    st.caption(
        f"Besides these, {loaded.quarantined:,} rows were rejected at the door (invalid input); "
        "`recon quarantine` lists them with file, row and reason."
    )
    left, right = st.columns(2)
    with left:
        st.subheader("By category")
        by_category = data.exceptions_by_category(chosen)
        if not by_category.empty:
            st.altair_chart(
                alt.Chart(by_category)
                .mark_bar()
                .encode(
                    y=alt.Y("category:N", title=None, sort="-x"),
                    x=alt.X("sum(exceptions):Q", title="Exceptions"),
                    color=alt.Color("currency:N", title="Currency"),
                    tooltip=["category:N", "currency:N", "exceptions:Q", "amount_at_stake:N"],
                )
            )
        table(by_category, "exceptions_by_category", key="exceptions_by_category")
    with right:
        st.subheader("By age")
        table(data.exceptions_by_age(chosen), "exceptions_by_age", key="exceptions_by_age")
    st.subheader(f"Exceptions ({len(chosen):,})")
    table(chosen, "exceptions", key="exceptions")

    st.subheader("Exception detail")
    if chosen.empty:
        st.info("No exception within the filters.")
    else:
        labels = {
            row["exception_id"]: (
                f"{row['exception_id'][:12]} · {row['category']} · {row['severity']} · {row['status']} · "
                f"{row['profile_id']} · {row['business_date']} · "
                f"{data.money(data.to_decimal(row['amount_at_stake']), row['currency'], minor_units)}"
            )
            for row in chosen.to_dict("records")
        }
        if st.session_state.get("exception") not in labels:
            st.session_state["exception"] = next(iter(labels))
        picked_id = st.selectbox("Exception", list(labels), format_func=labels.get, key="exception")
        row = chosen[chosen["exception_id"] == picked_id].to_dict("records")[0]
        detail = exception_detail(str(snapshot), version, picked_id)
        facts = st.columns(4)
        facts[0].metric("Status", row["status"], border=True)
        facts[1].metric("Severity", row["severity"], border=True)
        facts[2].metric("Age", f"{row['age_days']} days", border=True)
        facts[3].metric(
            "At stake", data.money(data.to_decimal(row["amount_at_stake"]), row["currency"], minor_units), border=True
        )
        st.markdown(
            f"**{row['category']}** under rule `{row['rule_name']}`"
            + (f", found by identifier `{row['identifier_name']}`" if row.get("identifier_name") else "")
            + (f"; failed check `{row['failed_check']}`" if row.get("failed_check") else "")
            + (f" on `{row['failed_field']}`" if row.get("failed_field") else "")
            + (f": expected `{row['expected']}`, actual `{row['actual']}`" if row.get("expected") else "")
        )
        st.markdown("Records: " + ", ".join(f"`{record}`" for record in (row["records"] or [])))
        if isinstance(row.get("checks"), list | tuple) and row["checks"]:
            st.markdown("Match rules: " + "; ".join(f"`{check}`" for check in row["checks"]))
        if row["status"] == "RESOLVED":
            st.success(f"Resolved by {row['resolved_by']} ({row['resolution_action']}).")
        else:
            st.caption("Resolve it from the command line; the next `recon run` applies it:")
            st.code(data.resolve_command(row), language="bash")
        st.markdown("**Resolutions log**")
        table(detail["resolutions"], f"resolutions_{picked_id[:12]}", key="resolutions")
        st.markdown(
            "**Ledger history**: every version of "
            + (", ".join(f"`{t}`" for t in detail["transactions"]) or "no transaction (no expectation)")
        )
        table(detail["history"], f"ledger_history_{picked_id[:12]}", key="history", money=())

# ---- drill-down --------------------------------------------------------------------------

with drilldown:
    daily = data.daily_figures(loaded, filters)
    if daily.empty:
        st.info("No reconciliation figures within the filters.")
    else:
        days = sorted(set(daily["business_date"]), reverse=True)
        if st.session_state.get("drill_date") not in days:
            st.session_state["drill_date"] = days[0]
        day = st.selectbox("Business date", days, key="drill_date")
        of_day = daily[daily["business_date"] == day].to_dict("records")
        keyed = {"|".join(str(row[k]) for k in ("profile_id", "rule_name", "side", "currency")): row for row in of_day}
        if st.session_state.get("figure") not in keyed:
            # the figure that most needs a look: most exceptions, then most entries
            st.session_state["figure"] = max(keyed, key=lambda k: (keyed[k]["exceptions"], keyed[k]["entries"]))
        figure_key = st.selectbox(
            "Daily figure", list(keyed), format_func=lambda k: data.figure_label(keyed[k]), key="figure"
        )
        figure = keyed[figure_key]
        counts = st.columns(5)
        counts[0].metric("Entries", figure["entries"], border=True)
        counts[1].metric("Matched", figure["matched"], border=True)
        counts[2].metric("Open", figure["open"], border=True)
        counts[3].metric("Exceptions", figure["exceptions"], border=True)
        counts[4].metric("Match rate (figure)", data.format_rate(figure["match_rate"]), border=True)
        entries = figure_entries(
            str(snapshot),
            version,
            tuple(figure[k] for k in ("business_date", "profile_id", "rule_name", "side", "currency")),
        )
        st.caption(
            "Each entry with its outcome and why: the counterpart and the identifier that found it, the "
            "match rules with expected vs actual values, or the exception's category and failed check."
        )
        table(
            entries,
            f"entries_{day}_{figure['profile_id']}_{figure['rule_name']}",
            key="entries",
            hidden=("profile_id", "business_date", "rule_name", "side"),
        )

# ---- chain funnel ------------------------------------------------------------------------

with chains_tab:
    entry_type = st.radio("Flows starting with", ["order", "refund"], horizontal=True, key="entry_type")
    steps = data.funnel(loaded, filters, entry_type)
    if steps.empty:
        st.info("No flows within the filters.")
    else:
        st.subheader("How far flows got along their chain")
        st.caption("Order -> charge (processor clearing) -> payout (in transit) -> bank credit, per channel.")
        chart = (
            alt.Chart(steps.assign(label=steps["step"].astype(str) + ". " + steps["reached"]))
            .mark_bar()
            .encode(
                y=alt.Y("label:N", title=None, sort=None),
                x=alt.X("flows:Q", title="Flows"),
                color=alt.Color("channel:N", title="Channel"),
                row=alt.Row("channel:N", title=None),
                tooltip=[
                    "channel:N",
                    "reached:N",
                    "flows:Q",
                    alt.Tooltip("share:Q", format=".1%"),
                    "waiting_here:Q",
                    "stopped_here:Q",
                ],
            )
            .resolve_scale(y="independent")
            .properties(height=alt.Step(28))
        )
        st.altair_chart(chart)
        table(steps, f"funnel_{entry_type}", key="funnel")
        st.subheader("Where unfinished flows are")
        table(data.chain_stops(loaded, filters, entry_type), f"chain_stops_{entry_type}", key="chain_stops")
        st.subheader("Flows")
        flows = chain_flows(str(snapshot), version, astuple(filters), entry_type)
        total = data.flow_count(loaded, filters, entry_type)
        if total > len(flows):
            st.caption(
                f"The first {len(flows):,} of {total:,} flows: those that stopped, then those waiting, "
                "oldest first. `recon chains` lists them all."
            )
        table(flows, f"chains_{entry_type}", key="chains")

# ---- balances ----------------------------------------------------------------------------

with balances_tab:
    accounts = data.accounts(loaded, filters)
    if accounts.empty:
        st.info("No accounts within the filters.")
    else:
        a, b, c = st.columns([3, 1, 1])
        ids = list(accounts["account_id"])
        if st.session_state.get("account") not in ids:
            st.session_state["account"] = data.default_account(accounts, loaded.profiles)
        account_id = a.selectbox("Account", ids, key="account")
        last_day = loaded.business_dates[-1] if loaded.business_dates else date.today()
        as_of = b.date_input("Balance at the end of", value=last_day, key="as_of", format="YYYY-MM-DD")
        known = c.toggle("As the books showed it at", key="bitemporal")
        known_at = c.date_input("Known at", value=last_day, key="known_at", format="YYYY-MM-DD") if known else None
        at_date, series = balances(str(snapshot), version, account_id, as_of, known_at)
        chosen_account = accounts[accounts["account_id"] == account_id].to_dict("records")[0]
        st.caption(
            f"{chosen_account['purpose']} account of {chosen_account['profile_id']} in {chosen_account['currency']}, "
            f"{chosen_account['normal_side']}-normal: balances are on its normal side."
        )
        cells = st.columns(len(at_date))
        for cell, line in zip(cells, at_date.to_dict("records"), strict=True):
            cell.metric(
                f"{line['status'].title()} balance",
                data.money(data.to_decimal(line["balance"]), line["currency"], minor_units),
                border=True,
            )
        table(at_date, f"balance_{account_id}_{as_of}", key="balance", hidden=("balance_minor",))
        st.subheader("Closing balance per business day")
        if not series.empty:
            units = minor_units.get(chosen_account["currency"], 2)
            plotted = series.assign(
                business_date=pd.to_datetime(series["business_date"]),
                closing=[int(v) / 10**units for v in series["closing_normal_minor"]],
            )
            st.altair_chart(
                alt.Chart(plotted)
                .mark_line(point=True, interpolate="step-after")
                .encode(
                    x=alt.X(
                        "business_date:T",
                        title="Business date",
                        axis=alt.Axis(format="%b %d", tickCount={"interval": "day", "step": 1}),
                    ),
                    y=alt.Y("closing:Q", title=f"Closing ({chosen_account['currency']})"),
                    color=alt.Color("status:N", title="Status"),
                    tooltip=["business_date:T", "status:N", "closing:Q"],
                )
            )
        table(
            series,
            f"daily_balances_{account_id}",
            key="daily_balances",
            money=("opening", "debits", "credits", "closing"),
            hidden=("opening_minor", "debits_minor", "credits_minor", "closing_minor", "closing_normal_minor"),
        )
        st.subheader(f"Trial balance at the end of {as_of} (posted)")
        within = tuple(data.profiles_within(loaded, filters))
        table(
            trial_balance(str(snapshot), version, as_of, within, filters.currency),
            f"trial_balance_{as_of}",
            key="trial",
            hidden=("debit_minor", "credit_minor"),
        )
