"""Ingestion channels that run inside Dagster: the scheduled SFTP pull.

The pull only lands files; the landing sensor notices them and requests the reconciliation.
Webhooks need nothing here: the receiver (`recon serve-webhooks`) lands its micro-batches in the
same landing zone, where the same sensor picks them up.
"""

import dagster as dg

from dagster_project.lib.home import ReconHome
from dagster_project.lib.sftp import config_path, pull, schedule_cron
from dagster_project.resources import WarehouseResource


class SftpPullConfig(dg.Config):
    remote: str | None = None


@dg.op(description="Fetch new files from the SFTP remotes of RECON_HOME/sftp.yml and land them.")
def sftp_pull(context: dg.OpExecutionContext, config: SftpPullConfig, warehouse: WarehouseResource) -> None:
    results = pull(warehouse.home(), config.remote)
    for result in results:
        context.log.info(result.summary())
    landed = [str(path) for result in results for path in result.landed]
    context.add_output_metadata({"files_landed": len(landed), "landed": landed})


@dg.job(description="Pull the configured SFTP remotes (RECON_HOME/sftp.yml).")
def sftp_pull_job() -> None:
    sftp_pull()


def build_sftp_schedule(home: ReconHome) -> dg.ScheduleDefinition:
    """Running by default only where sftp.yml exists, at the cron it names."""
    configured = config_path(home).exists()
    return dg.ScheduleDefinition(
        name="sftp_pull_schedule",
        job=sftp_pull_job,
        cron_schedule=schedule_cron(home),
        default_status=dg.DefaultScheduleStatus.RUNNING if configured else dg.DefaultScheduleStatus.STOPPED,
        description="Pulls the SFTP remotes of RECON_HOME/sftp.yml; stopped unless that file exists.",
    )


sftp_pull_schedule = build_sftp_schedule(ReconHome.from_env())
