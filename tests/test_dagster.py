"""The Dagster definitions: they load, and schedule, sensor and partitions are wired."""

import warnings
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.lib.home import ReconHome


@pytest.fixture
def defs(home: ReconHome) -> dg.Definitions:
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    from dagster_project.definitions import defs as definitions

    return definitions


def test_assets_checks_and_job_load(defs: dg.Definitions) -> None:
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {"raw/shopify_orders", "raw/stripe_balance_transactions", "stg_shopify__orders",
            "int_matches_assigned", "mart_daily_reconciliation", "fct_ledger_entry_versions"} <= keys  # fmt: skip
    job = defs.resolve_job_def("reconcile_job")
    assert job.partitions_def is not None
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert "pandera_contract" in checks
    assert any(name.startswith("assert_ledger_transactions_balance") for name in checks)
    # every asset sits in a named group, the raw tables the ingest and `recon resolve` write too
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert [key for key, group in groups.items() if group == "default"] == []
    assert (groups["raw/quarantine"], groups["raw/resolutions"]) == ("ingest", "resolutions")


def test_schedule_reconciles_yesterday(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("nightly_reconciliation")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 10, 2, 0))
    requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2026-11-09"]


def test_landing_sensor_fires_once_per_change(defs: dg.Definitions, home: ReconHome, tmp_path: Path) -> None:
    sensor = defs.resolve_sensor_def("landing_sensor")
    instance = dg.DagsterInstance.ephemeral()
    first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    assert first.run_requests == [] and first.skip_message
    landed = home.landing / "shopify_orders" / "acme_eu" / "orders.csv"
    landed.parent.mkdir(parents=True)
    landed.write_text("Name\n#1\n")
    fired = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    assert len(fired.run_requests) == 1
    again = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs, cursor=fired.cursor))
    assert again.run_requests == []


def test_a_command_line_run_is_in_the_homes_event_log(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`recon demo` ran the job through Dagster: its run and every asset it materialized are in
    the home's instance, stored by the pooled event log, where `recon dev` shows them."""
    from dagster_project.event_log import PooledSqliteEventLogStorage

    home = ReconHome(demo_home)
    monkeypatch.setenv("DAGSTER_HOME", str(home.dagster_home))
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        runs = instance.get_runs(dg.RunsFilter(job_name="reconcile_job"))  # newest first
        run = runs[-1]  # the demo's (another test may re-run a day of the demo home)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        materialized = {
            record.event_log_entry.dagster_event.asset_key.to_user_string()
            for record in instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=10_000
            ).records
        }
        assert {"raw/shopify_orders", "fct_matches", "fct_ledger_entry_versions"} <= materialized
        # the index the UI reads an asset's history from
        latest = instance.get_latest_materialization_event(dg.AssetKey("fct_matches"))
        assert latest is not None and latest.run_id in {r.run_id for r in runs}
