"""Pandera contracts for the raw tables, built from the source declarations."""

import pandera.polars as pa
import polars as pl

from dagster_project.lib.sources import Source, known_currencies

_DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "decimal": pl.Decimal(18, 4),
    "integer": pl.Int64(),
    "timestamp": pl.Datetime("us"),
    "utc_timestamp": pl.Datetime("us"),
    "unix_timestamp": pl.Datetime("us"),
    "date": pl.Date(),
    "json": pl.String(),
    "currency": pl.String(),
}

LINEAGE_COLUMNS: dict[str, pl.DataType] = {
    "_profile_id": pl.String(),
    "_file_id": pl.String(),
    "_source_file": pl.String(),
    "_source_row": pl.Int64(),
    "_ingested_at": pl.Datetime("us"),
    "_raw_hash": pl.String(),
}


def dtype_of(field_type: str) -> pl.DataType:
    return _DTYPES[field_type]


def raw_contract(source: Source) -> pa.DataFrameSchema:
    """What every row of a source's raw table must satisfy."""
    columns: dict[str, pa.Column] = {}
    for f in source.fields:
        checks = []
        if f.type == "currency":
            checks.append(pa.Check.isin(sorted(known_currencies())))
        if f.allowed:
            checks.append(pa.Check.isin(list(f.allowed)))
        if f.non_negative:
            checks.append(pa.Check.ge(0))
        columns[f.column] = pa.Column(_DTYPES[f.type], checks=checks, nullable=not f.required)
    for name, dtype in LINEAGE_COLUMNS.items():
        columns[name] = pa.Column(dtype, nullable=False)
    return pa.DataFrameSchema(columns, name=f"raw.{source.raw_table}", strict=True)
