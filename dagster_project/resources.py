"""Resources: the dbt CLI pointed at the project, and the warehouse under RECON_HOME."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.lib.home import DBT_PROJECT_DIR, ReconHome
from dagster_project.lib.warehouse import connect

DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=DBT_EXECUTABLE,
    )


def _newest_project_file(home: ReconHome) -> float:
    """When the project last changed: its files, and those written for the configured sources."""
    return max(
        path.stat().st_mtime
        for directory in (DBT_PROJECT_DIR, home.dbt_configured)
        for pattern in ("**/*.sql", "**/*.yml", "**/*.csv")
        for path in directory.glob(pattern)
        if "target" not in path.relative_to(directory).parts
    )


def prepare_manifest(home: ReconHome) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files."""
    home.activate()
    manifest = home.manifest
    if manifest.exists() and manifest.stat().st_mtime >= _newest_project_file(home):
        return manifest
    completed = subprocess.run(
        [DBT_EXECUTABLE, "parse", "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **home.environment()},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
    return manifest


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse of the current RECON_HOME, with the UDFs registered."""

    def home(self) -> ReconHome:
        return ReconHome.from_env().activate()

    def connect(self, read_only: bool = False):
        return connect(self.home().warehouse, read_only=read_only)
