"""Asset checks: the pandera contract of every raw table, and its quarantine."""

import dagster as dg
import pandera.errors
import polars as pl

from dagster_project.assets.ingest import raw_asset_key
from dagster_project.lib.contracts import raw_contract
from dagster_project.lib.sources import SOURCES, Source
from dagster_project.lib.warehouse import table_exists
from dagster_project.resources import WarehouseResource


def build_contract_check(source: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_asset_key(source),
        name="pandera_contract",
        description=f"Every row of raw.{source.raw_table} satisfies its pandera contract.",
        blocking=True,
    )
    def _contract(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as connection:
            if not table_exists(connection, "raw", source.raw_table):
                return dg.AssetCheckResult(passed=True, metadata={"rows": 0})
            frame = pl.from_arrow(connection.sql(f"select * from raw.{source.raw_table}").to_arrow_table())
            quarantined = connection.execute(
                "select count(*) from raw.quarantine where source_name = ?", [source.name]
            ).fetchall()[0][0]
        assert isinstance(frame, pl.DataFrame)
        try:
            raw_contract(source).validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as errors:
            return dg.AssetCheckResult(
                passed=False,
                metadata={"failures": str(errors.failure_cases.head(20))},
            )
        return dg.AssetCheckResult(
            passed=True,
            metadata={"rows": frame.height, "rows_quarantined": int(quarantined)},
        )

    return _contract


contract_checks = [build_contract_check(source) for source in SOURCES.values()]
