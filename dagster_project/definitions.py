"""The Dagster definitions of the reconciliation warehouse."""

import dagster as dg

from dagster_project.assets.dbt import recon_dbt_assets
from dagster_project.assets.ingest import bookkeeping_tables, ingest_assets
from dagster_project.assets.reports import daily_reconciliation_report
from dagster_project.channels import sftp_pull_job, sftp_pull_schedule
from dagster_project.checks import contract_checks
from dagster_project.jobs import reconcile_job
from dagster_project.resources import WarehouseResource, dbt_resource
from dagster_project.schedules import nightly_reconciliation
from dagster_project.sensors import (
    alerts_after_reconciliation,
    alerts_on_failed_reconciliation,
    dashboard_snapshot_after_reconciliation,
    landing_sensor,
)

defs = dg.Definitions(
    assets=[*ingest_assets, *bookkeeping_tables, recon_dbt_assets, daily_reconciliation_report],
    asset_checks=contract_checks,
    jobs=[reconcile_job, sftp_pull_job],
    schedules=[nightly_reconciliation, sftp_pull_schedule],
    sensors=[
        landing_sensor,
        alerts_after_reconciliation,
        alerts_on_failed_reconciliation,
        dashboard_snapshot_after_reconciliation,
    ],
    resources={"dbt": dbt_resource(), "warehouse": WarehouseResource()},
)
