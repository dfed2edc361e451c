"""Sensors: new files on the landing folder trigger a reconciliation of the latest day; a finished
reconciliation sends the alerts it calls for and refreshes the dashboard's snapshot."""

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


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[reconcile_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a reconciliation: alerts (alerts.yml) on new exceptions and low match rates.",
)
def alerts_after_reconciliation(context: dg.RunStatusSensorContext) -> dg.SkipReason | None:
    from dagster_project.lib.alerts import send_new_alerts

    report = send_new_alerts(ReconHome.from_env())
    context.log.info(f"alerts: {len(report.delivered)} delivered, {len(report.dead_lettered)} dead-lettered")
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[reconcile_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a reconciliation: the dashboard's read-only snapshot of the marts.",
)
def dashboard_snapshot_after_reconciliation(context: dg.RunStatusSensorContext) -> None:
    from dagster_project.lib.snapshot import refresh_after_run

    context.log.info(refresh_after_run(ReconHome.from_env().warehouse))


@dg.run_failure_sensor(
    monitored_jobs=[reconcile_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A failed reconciliation: alerts (alerts.yml) to the endpoints with on_failed_run.",
)
def alerts_on_failed_reconciliation(context: dg.RunFailureSensorContext) -> None:
    from dagster_project.lib.alerts import run_failed_alert, send_run_failed

    run = context.dagster_run
    start, end = run.tags.get("dagster/asset_partition_range_start"), run.tags.get("dagster/asset_partition_range_end")
    window = run.tags.get("dagster/partition") or (f"{start}..{end}" if start else None)
    alert = run_failed_alert(run.run_id, run.job_name, context.failure_event.message or "the run failed", window)
    send_run_failed(ReconHome.from_env(), alert)
