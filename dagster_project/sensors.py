"""A sensor on the landing folder: new files trigger a reconciliation of the latest day."""

import dagster as dg

from dagster_project.jobs import reconcile_job
from dagster_project.lib.home import ReconHome
from dagster_project.lib.landing import landing_fingerprint
from dagster_project.partitions import daily_partitions


@dg.sensor(
    job=reconcile_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a reconciliation when files land under RECON_HOME/landing.",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    fingerprint = landing_fingerprint(ReconHome.from_env().landing)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new landed files")
    if not fingerprint:
        return dg.SkipReason("the landing folder is empty")
    partition_key = daily_partitions.get_last_partition_key()
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"landing-{fingerprint}", partition_key=partition_key)],
        cursor=fingerprint,
    )
