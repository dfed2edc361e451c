"""The daily reconciliation reports (CSV, JSON, XLSX, PDF per profile), written after dbt has
built the marts for the partition's business dates."""

from datetime import timedelta

import dagster as dg

from dagster_project.lib.progress import progress
from dagster_project.lib.reports import write_reports
from dagster_project.partitions import daily_partitions
from dagster_project.resources import WarehouseResource

REPORT_DEPS = [
    dg.AssetKey(["mart_daily_reconciliation"]),
    dg.AssetKey(["fct_exceptions"]),
    dg.AssetKey(["mart_daily_balances"]),
]


@dg.asset(
    key=dg.AssetKey(["reports", "daily_reconciliation_report"]),
    deps=REPORT_DEPS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="reports",
    description="The daily reconciliation report of each profile, in RECON_HOME/reports/<date>/.",
)
def daily_reconciliation_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    home = warehouse.home()
    window = context.partition_time_window
    day, end = window.start.date(), window.end.date()
    written = []
    with warehouse.connect(read_only=True) as connection:
        while day < end:
            written += write_reports(
                connection, day, home.reports / day.isoformat(), ground_truth=home.demo / "ground_truth.csv"
            )
            day += timedelta(days=1)
    progress("report", f"wrote {len(written)} report files under {home.reports}")
    return dg.MaterializeResult(metadata={"files": len(written), "directory": str(home.reports)})
