"""The dbt project as Dagster assets, partitioned by business date; dbt tests are asset checks."""

import contextlib
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project.lib.home import ReconHome
from dagster_project.lib.progress import progress
from dagster_project.partitions import daily_partitions, window_vars
from dagster_project.resources import prepare_manifest


class ReconDbtTranslator(DagsterDbtTranslator):
    """Sources are the raw tables the ingest assets write; models are grouped by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "configuration"
        path = dbt_resource_props.get("fqn", [])
        return path[1] if len(path) > 2 else "reconciliation"


MANIFEST = prepare_manifest(ReconHome.from_env())


def _progress_line(raw_event: Any) -> str | None:
    if not raw_event.is_result_event:
        return None
    data = raw_event.raw_event["data"]
    node = data["node_info"]
    kind, _, name = node["unique_id"].partition(".")
    name = name.split(".", 1)[-1]
    return f"{kind:<6} {name[:60]:<60} {node['node_status']:<8} {data.get('execution_time', 0):.2f}s"


@dbt_assets(
    manifest=MANIFEST,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=ReconDbtTranslator(),
)
def recon_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    window = context.partition_time_window
    variables = window_vars(window.start, window.end)
    progress("dbt", f"build for business dates [{variables['min_date']}, {variables['max_date']})")
    # unit tests check the rules' logic at development time (`make test`), not on each run
    invocation = dbt.cli(
        ["build", "--vars", json.dumps(variables), "--exclude-resource-type", "unit_test"],
        context=context,
    )
    echo = io.StringIO()
    with contextlib.redirect_stdout(echo):
        for raw_event in invocation.stream_raw_events():
            line = _progress_line(raw_event)
            if line:
                progress("dbt", line)
            yield from raw_event.to_default_asset_events(
                manifest=invocation.manifest,
                dagster_dbt_translator=invocation.dagster_dbt_translator,
                context=context,
                target_path=invocation.target_path,
                project=invocation.project,
            )
