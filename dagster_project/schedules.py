"""Each night, reconcile yesterday."""

import dagster as dg

from dagster_project.jobs import reconcile_job

nightly_reconciliation = dg.build_schedule_from_partitioned_job(
    reconcile_job,
    hour_of_day=2,
    minute_of_hour=0,
    name="nightly_reconciliation",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
