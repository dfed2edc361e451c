"""RECON_HOME: the one directory that holds everything the product writes.

Two homes never share a file: landing zone, warehouse, dbt's target and logs, reports and
Dagster's storage all live below the home directory.
"""

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

CHECKOUT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = CHECKOUT_ROOT / "dbt_project"
DEFAULT_HOME = CHECKOUT_ROOT / ".recon_home"


@dataclass(frozen=True)
class ReconHome:
    root: Path

    @classmethod
    def from_env(cls) -> "ReconHome":
        return cls(Path(os.environ.get("RECON_HOME") or DEFAULT_HOME).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "recon.duckdb"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def demo(self) -> Path:
        return self.root / "demo"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt" / "target"

    @property
    def dbt_logs(self) -> Path:
        return self.root / "dbt" / "logs"

    @property
    def manifest(self) -> Path:
        return self.dbt_target / "manifest.json"

    @property
    def dbt_configured(self) -> Path:
        """What dbt reads the configured sources from (declarations and a macro), written from
        the source configs by `ensure`; dbt_project.yml adds its folders to the project's."""
        return self.root / "dbt" / "configured"

    @property
    def first_business_date_file(self) -> Path:
        """The earliest business date this home's runs have asked for, where the daily
        partitions start (unless RECON_START_DATE says otherwise)."""
        return self.dagster_home / "first_business_date"

    def first_business_date(self) -> date | None:
        try:
            return date.fromisoformat(self.first_business_date_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def record_first_business_date(self, day: date) -> None:
        """Move the partitions' start back to ``day`` (never forward): a history older than the
        start is reconciled without a setting."""
        known = self.first_business_date()
        if known is None or day < known:
            self.first_business_date_file.parent.mkdir(parents=True, exist_ok=True)
            staged = self.first_business_date_file.with_suffix(".tmp")
            staged.write_text(day.isoformat() + "\n")
            staged.replace(self.first_business_date_file)

    def ensure(self) -> "ReconHome":
        for directory in (
            self.landing,
            self.warehouse.parent,
            self.reports,
            self.dagster_home,
            self.dbt_target,
            self.dbt_logs,
        ):
            directory.mkdir(parents=True, exist_ok=True)
        dagster_yaml = self.dagster_home / "dagster.yaml"
        if not dagster_yaml.exists():
            dagster_yaml.write_text(
                "telemetry:\n  enabled: false\n"
                "# Dagster's SQLite event log with pooled connections (dagster_project/event_log.py)\n"
                "event_log_storage:\n  module: dagster_project.event_log\n  class: PooledSqliteEventLogStorage\n"
            )
        # imported here: the sources are read from their configs, which need this module
        from dagster_project.lib.source_configs import write_dbt_files
        from dagster_project.lib.sources import SOURCES

        write_dbt_files(self.dbt_configured, SOURCES.values())
        return self

    def environment(self) -> dict[str, str]:
        """Environment variables that point dbt and Dagster at this home."""
        return {
            "RECON_HOME": str(self.root),
            "DAGSTER_HOME": str(self.dagster_home),
            "DBT_TARGET_PATH": str(self.dbt_target),
            "DBT_LOG_PATH": str(self.dbt_logs),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }

    def activate(self) -> "ReconHome":
        """Create the home and export its environment to this process and its children."""
        self.ensure()
        os.environ.update(self.environment())
        return self
