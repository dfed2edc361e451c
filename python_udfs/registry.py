"""The one place where UDFs are registered on a DuckDB connection."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import duckdb
from duckdb.sqltypes import BIGINT, DOUBLE, INTEGER, VARCHAR, DuckDBPyType

from python_udfs.fx import fx_convert
from python_udfs.references import normalize_reference
from python_udfs.similarity import jaro_winkler_similarity, token_set_similarity


@dataclass(frozen=True)
class Udf:
    name: str
    function: Callable
    parameters: list[DuckDBPyType]
    return_type: DuckDBPyType


# names DuckDB does not use itself: its own jaro_winkler_similarity is case- and punctuation-sensitive
UDFS: tuple[Udf, ...] = (
    Udf("normalize_reference", normalize_reference, [VARCHAR], VARCHAR),
    Udf("similarity_token_set", token_set_similarity, [VARCHAR, VARCHAR], DOUBLE),
    Udf("similarity_jaro_winkler", jaro_winkler_similarity, [VARCHAR, VARCHAR], DOUBLE),
    # amount_minor, from_minor_units, to_minor_units, from_units_per_eur, to_units_per_eur
    Udf("fx_convert", fx_convert, [BIGINT, INTEGER, INTEGER, VARCHAR, VARCHAR], BIGINT),
)


_SCALAR_FUNCTIONS = "select function_name from duckdb_functions() where function_type = 'scalar'"


@cache
def _builtin_functions() -> frozenset[str]:
    """The scalar functions DuckDB itself defines, from a fresh connection."""
    with duckdb.connect() as fresh:
        return frozenset(row[0] for row in fresh.execute(_SCALAR_FUNCTIONS).fetchall())


def register_udfs(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Register every UDF on ``connection`` (idempotent) and return it. A name DuckDB itself
    uses is refused: the built-in would silently win."""
    registered = {row[0] for row in connection.execute(_SCALAR_FUNCTIONS).fetchall()}
    for udf in UDFS:
        if udf.name in _builtin_functions():
            raise ValueError(f"UDF name {udf.name!r} is a DuckDB built-in function; give the UDF another name")
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
