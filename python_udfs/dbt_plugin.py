"""dbt-duckdb plugin: registers the project's UDFs on every connection dbt opens."""

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from python_udfs.registry import register_udfs


class Plugin(BasePlugin):
    def configure_connection(self, conn: Any) -> None:
        register_udfs(conn)
