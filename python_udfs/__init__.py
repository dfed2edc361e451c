"""Python UDFs for the reconciliation warehouse.

Every UDF is a pure, vectorized function over Arrow arrays. ``register_udfs`` is the single
entry point that puts them on a DuckDB connection: the dbt-duckdb plugin, Dagster and the tests
all call it, so a rule that works in one place works in all of them.
"""

from python_udfs.registry import UDFS, register_udfs

__all__ = ["UDFS", "register_udfs"]
