"""Ingest assets: one per source, loading every newly landed file into its raw table."""

import dagster as dg

from dagster_project.lib.ingest import (
    FileRejected,
    describe,
    ensure_raw_schema,
    ingest_file,
    landed_files,
)
from dagster_project.lib.progress import progress
from dagster_project.lib.sources import SOURCES, Source
from dagster_project.partitions import daily_partitions
from dagster_project.resources import WarehouseResource


def raw_asset_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey(["raw", source.raw_table])


def build_ingest_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(source),
        group_name="ingest",
        description=f"Raw rows of {source.description}; bad rows go to raw.quarantine.",
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"duckdb", "polars"},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
        home = warehouse.home()
        loaded = quarantined = skipped = 0
        rejected: list[str] = []
        with warehouse.connect() as connection:
            ensure_raw_schema(connection)
            for path, profile_id in landed_files(home.landing, source.name):
                try:
                    result = ingest_file(connection, path, source.name, profile_id)
                except FileRejected as error:
                    rejected.append(str(error))
                    context.log.error(f"rejected {error}")
                    continue
                if result.skipped:
                    skipped += 1
                    continue
                loaded += result.rows_loaded
                quarantined += result.rows_quarantined
                summary = describe(result)
                context.log.info(summary)
                progress("ingest", summary)
        context.add_output_metadata(
            {
                "rows_loaded": loaded,
                "rows_quarantined": quarantined,
                "files_skipped_as_already_ingested": skipped,
                "files_rejected": len(rejected),
            }
        )
        for reason in rejected:
            progress("ingest", f"REJECTED {reason}")

    return _ingest


ingest_assets = [build_ingest_asset(source) for source in SOURCES.values()]


# the raw tables written beside the sources' own: by every ingest, and by `recon resolve`
bookkeeping_tables = [
    dg.AssetSpec(
        dg.AssetKey(["raw", "ingested_files"]),
        group_name="ingest",
        description="Every file an ingest read, with its rows read, loaded and quarantined (written by each ingest).",
        kinds={"duckdb"},
    ),
    dg.AssetSpec(
        dg.AssetKey(["raw", "quarantine"]),
        group_name="ingest",
        description="The rows an ingest rejected, each with its file, line, field and reason.",
        kinds={"duckdb"},
    ),
    dg.AssetSpec(
        dg.AssetKey(["raw", "bank_statements"]),
        group_name="ingest",
        description=(
            "Every bank statement of an ingested file, with the check of its claim (balances, interim totals, "
            "transaction summary, control total, running balance) against the lines loaded from it (written by "
            "each ingest of bank statements, notifications and PayPal activity downloads)."
        ),
        kinds={"duckdb"},
    ),
    dg.AssetSpec(
        dg.AssetKey(["raw", "resolutions"]),
        group_name="resolutions",
        description="The operators' resolutions of exceptions, appended by `recon resolve`.",
        kinds={"duckdb"},
    ),
]
