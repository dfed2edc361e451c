"""The one place where UDFs are registered on a DuckDB connection."""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
from duckdb.sqltypes import DOUBLE, VARCHAR, DuckDBPyType

from python_udfs.references import normalize_reference
from python_udfs.similarity import jaro_winkler_similarity, token_set_similarity


@dataclass(frozen=True)
class Udf:
    name: str
    function: Callable
    parameters: list[DuckDBPyType]
    return_type: DuckDBPyType


UDFS: tuple[Udf, ...] = (
    Udf("normalize_reference", normalize_reference, [VARCHAR], VARCHAR),
    Udf("token_set_similarity", token_set_similarity, [VARCHAR, VARCHAR], DOUBLE),
    Udf("jaro_winkler_similarity", jaro_winkler_similarity, [VARCHAR, VARCHAR], DOUBLE),
)


def register_udfs(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Register every UDF on ``connection`` (idempotent) and return it."""
    registered = {
        row[0]
        for row in connection.execute(
            "select function_name from duckdb_functions() where function_type = 'scalar'"
        ).fetchall()
    }
    for udf in UDFS:
        if udf.name in registered:
            continue
        connection.create_function(
            udf.name,
            udf.function,
            udf.parameters,
            udf.return_type,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
    return connection
