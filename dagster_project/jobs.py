"""The reconciliation job: ingest what landed, then build the dbt project for a window."""

import dagster as dg

reconcile_job = dg.define_asset_job(
    "reconcile_job",
    selection=dg.AssetSelection.all(),
    description="Ingest newly landed files and reconcile the partition's business dates.",
)
