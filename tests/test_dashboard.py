"""The finance dashboard: the warehouse snapshot it reads, its figures against the marts (computed
here independently with SQL), the Streamlit app under AppTest on the demo warehouse, and an
exception found on the dashboard, resolved from the command line and seen resolved after a run."""

import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dagster_project.lib.snapshot import (
    SnapshotError,
    WarehouseBusy,
    open_snapshot,
    read_info,
    refresh_after_run,
    snapshot_path,
    take_snapshot,
)
from dashboard import data
from tests.conftest import recon

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


# ---- helpers -----------------------------------------------------------------------------


def snapshot_of(home: Path) -> Path:
    return snapshot_path(home / "warehouse" / "recon.duckdb")


def query(home: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """SQL on the home's warehouse itself (not the snapshot), read-only."""
    with duckdb.connect(str(home / "warehouse" / "recon.duckdb"), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def minor_units(home: Path) -> dict[str, int]:
    return dict(query(home, "select currency_code, minor_units from config.currencies"))


def money(minor: int, currency: str, units: dict[str, int]) -> str:
    amount = Decimal(int(minor)).scaleb(-units[currency])
    return f"{currency} {amount:,.{units[currency]}f}"


def expected_match_rate(home: Path, profile: str | None) -> str:
    matched, entries = query(
        home,
        """
        select sum(matched_entries), sum(entries) from marts.mart_daily_reconciliation
        where side = 'source' and ($1 is null or profile_id = $1)
        """,
        [profile],
    )[0]
    return f"{matched / entries:.1%}"


def expected_open_exceptions(home: Path, profile: str | None) -> int:
    return query(
        home,
        """
        select count(*) from marts.fct_exceptions
        where exception_status <> 'RESOLVED' and ($1 is null or profile_id = $1)
        """,
        [profile],
    )[0][0]


def expected_at_stake(home: Path, profile: str | None) -> str:
    units = minor_units(home)
    totals = query(
        home,
        """
        select currency, sum(amount_at_stake_minor) from marts.fct_exceptions
        where exception_status <> 'RESOLVED' and ($1 is null or profile_id = $1)
        group by currency order by currency
        """,
        [profile],
    )
    return "  ·  ".join(money(total, currency, units) for currency, total in totals)


def app(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("RECON_HOME", str(home))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def table_with(at: AppTest, *columns: str, exact: bool = False) -> pd.DataFrame:
    """The one table shown with these columns (and no others, when exact)."""
    found = [
        frame.value
        for frame in at.dataframe
        if (set(columns) == set(frame.value.columns) if exact else set(columns) <= set(frame.value.columns))
    ]
    assert len(found) == 1, f"{len(found)} tables with columns {columns}"
    return found[0]


# ---- the snapshot ------------------------------------------------------------------------


def small_warehouse(path: Path, rows: int) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute("create schema if not exists config")
        connection.execute("create schema if not exists raw")
        connection.execute("create schema if not exists staging")
        connection.execute("create or replace table marts.fct_things as select range as id from range(?)", [rows])
        connection.execute("create or replace table marts.fct_ledger_entries as select 1 as ledger_entry_id")
        connection.execute(
            "create or replace table config.currencies as select 'EUR' as currency_code, 2 as minor_units"
        )
        connection.execute("create or replace table raw.resolutions as select 1 as resolution_id")
        connection.execute("create or replace table raw.stripe_balance_transactions as select 1 as id")
        connection.execute("create or replace view staging.stg_things as select 1 as id")


def test_snapshot_copies_the_finance_tables_and_is_replaced_whole(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse" / "recon.duckdb"
    warehouse.parent.mkdir()
    small_warehouse(warehouse, 3)
    info = take_snapshot(warehouse)
    assert info.path == tmp_path / "warehouse" / "snapshot" / "recon.duckdb"
    with open_snapshot(info.path) as connection:
        tables = set(
            connection.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
        )
        assert {row[0] for row in tables} == {
            "marts.fct_things",
            "config.currencies",
            "raw.resolutions",
            "snapshot.info",
        }
        assert connection.execute("select count(*) from marts.fct_things").fetchall() == [(3,)]
        stored = read_info(connection, info.path)
    assert stored.tables == 3
    assert stored.warehouse_written_at == datetime.fromtimestamp(warehouse.stat().st_mtime, UTC).replace(tzinfo=None)
    assert stored.taken_at >= stored.warehouse_written_at

    # a reader keeps the snapshot it opened while the next one replaces it
    reader = open_snapshot(info.path)
    try:
        small_warehouse(warehouse, 5)
        take_snapshot(warehouse)
        assert reader.execute("select count(*) from marts.fct_things").fetchall() == [(3,)]
    finally:
        reader.close()
    with open_snapshot(info.path) as connection:
        assert connection.execute("select count(*) from marts.fct_things").fetchall() == [(5,)]
    assert sorted(p.name for p in info.path.parent.iterdir()) == ["recon.duckdb"]


def test_snapshot_is_not_taken_while_a_run_holds_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "recon.duckdb"
    small_warehouse(warehouse, 2)
    before = take_snapshot(warehouse)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "c.execute('create or replace table marts.fct_things as select range as id from range(9)'); "
            "print('holding', flush=True); sys.stdin.read(); c.close()",
            str(warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseBusy, match="held by another process"):
            take_snapshot(warehouse)
        assert "keeps its previous snapshot" in refresh_after_run(warehouse)
    finally:
        holder.communicate(input="", timeout=60)
    with open_snapshot(before.path) as connection:
        assert connection.execute("select count(*) from marts.fct_things").fetchall() == [(2,)]
    assert "snapshot of 3 tables" in refresh_after_run(warehouse)
    with open_snapshot(before.path) as connection:
        assert connection.execute("select count(*) from marts.fct_things").fetchall() == [(9,)]


def test_a_snapshot_of_the_warehouse_as_it_is_is_not_taken_again(tmp_path: Path) -> None:
    # a command-line run takes the snapshot, then the Dagster sensor that saw the run asks again
    warehouse = tmp_path / "recon.duckdb"
    small_warehouse(warehouse, 2)
    assert "snapshot of 3 tables" in refresh_after_run(warehouse)
    first = snapshot_path(warehouse).stat().st_ino
    assert "is current" in refresh_after_run(warehouse)
    assert snapshot_path(warehouse).stat().st_ino == first
    # the next run writes the warehouse: the snapshot is taken again, of the new data
    time.sleep(0.01)
    small_warehouse(warehouse, 4)
    assert "snapshot of 3 tables" in refresh_after_run(warehouse)
    assert snapshot_path(warehouse).stat().st_ino != first
    with open_snapshot(snapshot_path(warehouse)) as connection:
        assert connection.execute("select count(*) from marts.fct_things").fetchall() == [(4,)]


def test_snapshot_needs_a_reconciled_warehouse(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no warehouse"):
        take_snapshot(tmp_path / "recon.duckdb")
    with duckdb.connect(str(tmp_path / "recon.duckdb")) as connection:
        connection.execute("create schema raw")
        connection.execute("create table raw.shopify_orders as select 1 as id")
    with pytest.raises(SnapshotError, match="not been reconciled"):
        take_snapshot(tmp_path / "recon.duckdb")
    assert not snapshot_path(tmp_path / "recon.duckdb").exists()
    with pytest.raises(SnapshotError, match="no snapshot"):
        open_snapshot(snapshot_path(tmp_path / "recon.duckdb"))


# ---- pure helpers ------------------------------------------------------------------------


def test_money_keeps_each_currencys_decimals_and_never_mixes_currencies() -> None:
    units = {"EUR": 2, "JPY": 0, "KWD": 3}
    frame = pd.DataFrame(
        {"currency": ["EUR", "JPY", "EUR", "KWD", "EUR"], "amount": ["0.10", "1500", "0.20", "1.005", "1234.5"]}
    )
    totals = data.sum_by_currency(frame, "amount")
    assert totals == {"EUR": Decimal("1234.80"), "JPY": Decimal(1500), "KWD": Decimal("1.005")}
    assert [data.money(totals[c], c, units) for c in totals] == ["EUR 1,234.80", "JPY 1,500", "KWD 1.005"]
    assert data.grouped("-1234567.50") == "-1,234,567.50" and data.grouped(None) == ""


def test_age_buckets_follow_the_severity_thresholds() -> None:
    assert [data.age_bucket(age) for age in (0, 2, 3, 6, 7, 29, 30, 400)] == [
        "0-2 days",
        "0-2 days",
        "3-6 days",
        "3-6 days",
        "7-29 days",
        "7-29 days",
        "30+ days",
        "30+ days",
    ]


def test_filters_cascade_organization_merchant_profile() -> None:
    profiles = pd.DataFrame(
        {
            "organization_id": ["o1", "o1", "o2"],
            "merchant_id": ["m1", "m2", "m3"],
            "profile_id": ["p1", "p2", "p3"],
        }
    )
    assert data.tenancy_options(profiles, None, None) == {
        "organization": ["o1", "o2"],
        "merchant": ["m1", "m2", "m3"],
        "profile": ["p1", "p2", "p3"],
    }
    assert data.tenancy_options(profiles, "o1", None)["merchant"] == ["m1", "m2"]
    assert data.tenancy_options(profiles, "o1", "m2")["profile"] == ["p2"]
    rows = profiles.assign(
        business_date=[date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)], currency=["EUR", "USD", "EUR"]
    )
    kept = data.Filters(organization="o1", currency="EUR", start=date(2026, 11, 1), end=date(2026, 11, 1)).apply(rows)
    assert list(kept["profile_id"]) == ["p1"]
    assert list(data.Filters(start=date(2026, 11, 2)).apply(rows)["profile_id"]) == ["p2", "p3"]


def test_csv_download_is_the_table_with_exact_amounts() -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "amount": ["1234.50", "7"], "checks": [["x ok", "y FAILED"], None]})
    assert data.csv_bytes(frame).decode() == "id,amount,checks\na,1234.50,x ok; y FAILED\nb,7,\n"


# ---- figures against the marts -----------------------------------------------------------


@pytest.fixture(scope="module")
def demo_data(demo_home: Path) -> data.DashboardData:
    assert snapshot_of(demo_home).exists(), "`recon demo` writes the dashboard's snapshot at the end of its run"
    return data.load_snapshot(snapshot_of(demo_home))


@pytest.mark.parametrize("profile", [None, "acme_eu", "globex_us"])
def test_figures_equal_the_marts(demo_home: Path, demo_data: data.DashboardData, profile: str | None) -> None:
    filters = data.Filters(profile=profile)
    figures = data.kpis(demo_data, filters)
    assert data.format_rate(figures.match_rate) == expected_match_rate(demo_home, profile)
    assert figures.unresolved == expected_open_exceptions(demo_home, profile) > 0
    units = minor_units(demo_home)
    assert "  ·  ".join(data.money(v, c, units) for c, v in figures.at_stake.items()) == expected_at_stake(
        demo_home, profile
    )

    # one business day's match rate
    day, matched, entries = query(
        demo_home,
        """
        select business_date, sum(matched_entries), sum(entries) from marts.mart_daily_reconciliation
        where side = 'source' and ($1 is null or profile_id = $1)
        group by business_date order by business_date limit 1
        """,
        [profile],
    )[0]
    trend = data.match_rate_by_day(demo_data, filters)
    of_day = trend[trend["business_date"] == day]
    assert (int(of_day["matched"].sum()), int(of_day["entries"].sum())) == (matched, entries)

    # open exceptions per category, and per age bucket
    per_category = dict(
        query(
            demo_home,
            """
            select category, count(*) from marts.fct_exceptions
            where exception_status <> 'RESOLVED' and ($1 is null or profile_id = $1) group by category
            """,
            [profile],
        )
    )
    by_category = data.exceptions_by_category(data.open_exceptions(demo_data, filters))
    assert by_category.groupby("category")["exceptions"].sum().to_dict() == per_category
    by_age = data.exceptions_by_age(data.open_exceptions(demo_data, filters))
    older = query(
        demo_home,
        """
        select count(*) from marts.fct_exceptions
        where exception_status <> 'RESOLVED' and age_days >= 3 and ($1 is null or profile_id = $1)
        """,
        [profile],
    )[0][0]
    assert int(by_age[by_age["age_bucket"] != "0-2 days"]["exceptions"].sum()) == older

    # the N-way funnel: orders -> charge / payment -> payout -> bank credit, per channel
    expected_funnel = {
        (channel, step): count
        for channel, *counts in query(
            demo_home,
            """
            select rules.target_account_name,
                count(*),
                count(*) filter (where legs_completed >= 1),
                count(*) filter (where legs_completed >= 2),
                count(*) filter (where legs_completed >= 3)
            from marts.mart_chain_progress as chains
            inner join marts.dim_rules as rules
                on rules.rule_name = coalesce(chains.rule_path[1], chains.stopped_at_rule)
            where entry_type = 'order' and ($1 is null or profile_id = $1)
            group by all
            """,
            [profile],
        )
        for step, count in enumerate(counts)
        if count
    }
    steps = data.funnel(demo_data, filters)
    assert {(row["channel"], row["step"]): row["flows"] for row in steps.to_dict("records")} == expected_funnel
    assert expected_funnel[("stripe_clearing", 3)] > 0
    assert list(steps[(steps["channel"] == "stripe_clearing")]["reached"]) == [
        "orders",
        "stripe_clearing",
        "stripe_payouts",
        "bank",
    ]

    # where unfinished flows are: counts and exact amounts per stop, from the counted flows
    units = minor_units(demo_home)
    expected_stops = {
        (status, rule, currency): (count, Decimal(amount_minor).scaleb(-units[currency]))
        for status, rule, currency, count, amount_minor in query(
            demo_home,
            """
            select chain_status, stopped_at_rule, currency, count(*), sum(amount_minor)
            from marts.mart_chain_progress
            where entry_type = 'order' and chain_status <> 'complete' and ($1 is null or profile_id = $1)
            group by all
            """,
            [profile],
        )
    }
    found_stops: dict[tuple, tuple[int, Decimal]] = {}
    for row in data.chain_stops(demo_data, filters).to_dict("records"):
        key = (row["chain_status"], row["stopped_at_rule"], row["currency"])
        count, amount = found_stops.get(key, (0, Decimal(0)))
        found_stops[key] = (count + row["flows"], amount + Decimal(row["amount"]))
    assert found_stops == expected_stops and expected_stops


def test_the_flows_listed_are_the_filtered_first_ones(demo_home: Path, demo_data: data.DashboardData) -> None:
    profile, first_day = query(
        demo_home, "select profile_id, min(business_date) from marts.mart_chain_progress group by all limit 1"
    )[0]
    filters = data.Filters(profile=profile, start=first_day, end=first_day)
    kept = query(
        demo_home,
        """
        select count(*), count(*) filter (where chain_status = 'stopped')
        from marts.mart_chain_progress
        where profile_id = ? and business_date = ? and entry_type = 'order'
        """,
        [profile, first_day],
    )[0]
    assert data.flow_count(demo_data, filters, "order") == kept[0]
    total, stopped = kept
    assert 0 < stopped < stopped + 2 < total
    with open_snapshot(snapshot_of(demo_home)) as connection:
        listed = data.chain_flows(connection, filters, "order", limit=stopped + 2)
        everything = data.chain_flows(connection, filters, "order", limit=total + 1)
    assert len(listed) == stopped + 2 and len(everything) == total
    assert set(everything["profile_id"]) == {profile} and set(everything["business_date"]) == {first_day}
    # the flows that stopped come first
    assert list(listed["chain_status"][:stopped]) == ["stopped"] * stopped
    assert "stopped" not in set(listed["chain_status"][stopped:])


def test_drilldown_and_balances_equal_the_marts(demo_home: Path, demo_data: data.DashboardData) -> None:
    # the daily figure with the most exceptions: its entries, and their outcomes, add up to it
    row = query(
        demo_home,
        """
        select business_date, profile_id, rule_name, side, currency, entries, matched_entries, open_entries,
            exception_entries
        from marts.mart_daily_reconciliation order by exception_entries desc, entries desc limit 1
        """,
    )[0]
    keys = ("business_date", "profile_id", "rule_name", "side", "currency")
    with open_snapshot(snapshot_of(demo_home)) as connection:
        entries = data.figure_entries(connection, dict(zip(keys, row[:5], strict=True)))
        counts = entries["status"].value_counts().to_dict()
        assert len(entries) == row[5] and row[8] > 0
        assert (counts.get("matched", 0), counts.get("open", 0), counts.get("exception", 0)) == row[6:9]
        explained = entries[entries["status"] == "exception"]
        assert explained["exception_category"].notna().all()

        # an account's balance at a date is the closing of the daily balances mart that day
        account, day, closing = query(
            demo_home,
            """
            select account_id, business_date, closing_normal_minor from marts.mart_daily_balances
            where status = 'POSTED' and purpose = 'bank' and closing_minor <> 0
            order by business_date desc, account_id limit 1
            """,
        )[0]
        balances = data.account_balance(connection, account, day)
        posted = balances[balances["status"] == "POSTED"].to_dict("records")[0]
        assert posted["balance_minor"] == closing
        series = data.account_daily_balances(connection, account)
        assert series[(series["business_date"] == day) & (series["status"] == "POSTED")][
            "closing_normal_minor"
        ].tolist() == [closing]


# ---- the app (Streamlit AppTest) on the demo warehouse -----------------------------------


def test_app_shows_the_demo_figures_and_follows_the_profile_filter(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(demo_home, monkeypatch)
    assert [tab.label for tab in at.tabs] == ["Overview", "Exceptions", "Drill-down", "Chain funnel", "Balances"]
    assert metric(at, "Match rate") == expected_match_rate(demo_home, None)
    assert metric(at, "Open exceptions") == f"{expected_open_exceptions(demo_home, None):,}"
    assert metric(at, "Amount at stake in open exceptions") == expected_at_stake(demo_home, None)
    # every table has its CSV download
    assert len(at.download_button) == len(at.dataframe) > 10
    assert "Data as of" in " ".join(caption.value for caption in at.sidebar.caption)

    for profile in ("globex_us", "acme_eu"):
        at.selectbox(key="profile").set_value(profile).run()
        assert not at.exception, [e.message for e in at.exception]
        assert metric(at, "Match rate") == expected_match_rate(demo_home, profile)
        assert metric(at, "Open exceptions") == f"{expected_open_exceptions(demo_home, profile):,}"
        assert metric(at, "Amount at stake in open exceptions") == expected_at_stake(demo_home, profile)
        units = minor_units(demo_home)
        expected = {
            (category, currency): (count, f"{Decimal(int(total)).scaleb(-units[currency]):,.{units[currency]}f}")
            for category, currency, count, total in query(
                demo_home,
                """
                select category, currency, count(*), sum(amount_at_stake_minor) from marts.fct_exceptions
                where exception_status <> 'RESOLVED' and profile_id = ? group by all
                """,
                [profile],
            )
        }
        shown = table_with(at, "category", "currency", "exceptions", "amount_at_stake", exact=True)
        assert {
            (r["category"], r["currency"]): (r["exceptions"], r["amount_at_stake"]) for r in shown.to_dict("records")
        } == expected
    assert metric(at, "Match rate") != expected_match_rate(demo_home, "globex_us")


def test_app_filters_cascade_and_drill_down(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app(demo_home, monkeypatch)
    organization, merchant = query(
        demo_home, "select organization_id, merchant_id from config.profiles where profile_id = 'acme_eu'"
    )[0]
    at.selectbox(key="profile").set_value("globex_us").run()
    at.selectbox(key="organization").set_value(organization).run()
    at.selectbox(key="merchant").set_value(merchant).run()
    assert not at.exception
    # globex_us is not of that merchant: the profile falls back to All, and only its profiles are offered
    assert at.selectbox(key="profile").value == data.ALL
    assert [option.split(" · ")[0] for option in at.selectbox(key="profile").options] == [data.ALL, "acme_eu"]
    assert metric(at, "Match rate") == expected_match_rate(demo_home, "acme_eu")

    # drill down from a daily figure to its entries
    day, rule, side, currency, entries, exceptions = query(
        demo_home,
        """
        select business_date, rule_name, side, currency, entries, exception_entries
        from marts.mart_daily_reconciliation where profile_id = 'acme_eu' and exception_entries > 0
        order by business_date, rule_name, side limit 1
        """,
    )[0]
    at.selectbox(key="drill_date").set_value(day).run()
    at.selectbox(key="figure").set_value(f"acme_eu|{rule}|{side}|{currency}").run()
    assert not at.exception
    assert metric(at, "Entries") == str(entries)
    shown = table_with(at, "record_id", "status", "exception_category", "checks")
    assert len(shown) == entries
    assert (shown["status"] == "exception").sum() == exceptions

    # the balance of an account on a date
    account, closing, currency = query(
        demo_home,
        """
        select account_id, closing_normal_minor, currency from marts.mart_daily_balances
        where profile_id = 'acme_eu' and status = 'POSTED' and purpose = 'processor_clearing'
            and business_date = '2026-11-03' and closing_minor <> 0
        order by account_id limit 1
        """,
    )[0]
    at.selectbox(key="account").set_value(account).run()
    at.date_input(key="as_of").set_value(date(2026, 11, 3)).run()
    assert not at.exception
    assert metric(at, "Posted balance") == money(closing, currency, minor_units(demo_home))


# ---- find an exception, resolve it from the command line, see it resolved ---------------


def test_exception_resolved_from_the_command_line_shows_resolved_after_a_run(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the session's demo home is shared: resolve on a copy
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    found = data.load_snapshot(snapshot_of(home))
    candidates = data.exceptions(found, data.Filters(profile="globex_us"), ["OPEN"], ["amount_under", "amount_over"])
    exception = candidates.sort_values("exception_id").to_dict("records")[0]
    before = snapshot_of(home).stat().st_mtime_ns

    written = json.loads(
        recon(
            home,
            "resolve",
            exception["exception_id"],
            "--action",
            "write_off",
            "--reason",
            "processor rounding, agreed with the acquirer",
            "--by",
            "finance",
            "--format",
            "json",
        ).stdout
    )
    resolution_id = written[0]["resolution_id"]
    # the marts show the world as of the run's last day: re-run the home's last business date
    recon(home, "run", "--date", str(found.business_dates[-1]))
    assert snapshot_of(home).stat().st_mtime_ns > before, "the run refreshes the dashboard's snapshot"

    after = data.load_snapshot(snapshot_of(home))
    row = after.exceptions[after.exceptions["exception_id"] == exception["exception_id"]].to_dict("records")[0]
    assert (row["status"], row["resolution_action"], row["resolved_by"]) == ("RESOLVED", "write_off", "finance")
    assert data.kpis(after, data.Filters(profile="globex_us")).unresolved == (
        data.kpis(found, data.Filters(profile="globex_us")).unresolved - 1
    )

    at = app(home, monkeypatch)
    at.selectbox(key="profile").set_value("globex_us").run()
    at.multiselect(key="status").set_value(["RESOLVED"]).run()
    at.selectbox(key="exception").set_value(exception["exception_id"]).run()
    assert not at.exception, [e.message for e in at.exception]
    listed = table_with(at, "exception_id", "status", "resolution_action")
    assert listed[listed["exception_id"] == exception["exception_id"]]["status"].tolist() == ["RESOLVED"]
    assert metric(at, "Status") == "RESOLVED"
    history = table_with(at, "transaction_id", "version", "transaction_status")
    assert f"txn|resolution|{resolution_id}" in set(history["transaction_id"])
    log = table_with(at, "resolution_id", "action", "reason")
    assert log["reason"].tolist() == ["processor rounding, agreed with the acquirer"]

    ledger_history = json.loads(
        recon(home, "ledger", "history", f"txn|resolution|{resolution_id}", "--format", "json").stdout
    )
    assert {line["status"] for line in ledger_history} == {"POSTED"}
    assert {line["account_id"].split(":")[1] for line in ledger_history} >= {"reconciliation_variance"}


def test_recon_dashboard_refuses_without_a_warehouse(tmp_path: Path) -> None:
    completed = recon(tmp_path / "empty", "dashboard", "--port", "1", check=False)
    assert completed.returncode == 1
    assert "no warehouse" in completed.stderr
