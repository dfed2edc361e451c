"""Loading landed files into raw tables: parse, cast, validate, quarantine, write atomically.

A file is read with pyarrow (CSV, in the dialect its source config declares), DuckDB's JSON
functions (JSON lists and JSON Lines, nested paths, exploded arrays), polars (fixed-width
records) or the statement readers (camt.053, MT940, BAI2, ...) into text columns; the field
rules of the source's config (trim, case, default, map, regex) turn each text into the text it
is cast from, and polars casts it (amounts in major units made minor units, signed from a
debit/credit column) and checks it; the rows are validated against the source's pandera
contract. Rows that fail go to `raw.quarantine` with the file, row, field and reason; the rest
go to the raw table. Both writes and the file's entry in `raw.ingested_files` happen in one
transaction, so a failure leaves nothing half-written, and a file whose content was ingested
before is skipped. A zip archive is unpacked first and each of its files ingested as one
(`dagster_project.ingest.archives`).
"""

import codecs
import csv
import hashlib
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandera.errors
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from dagster_project.currencies.iso4217 import currencies as iso4217_currencies
from dagster_project.ingest.archives import is_zip_archive
from dagster_project.ingest.archives import unpack as unpack_archive
from dagster_project.lib.contracts import LINEAGE_COLUMNS, dtype_of, raw_contract
from dagster_project.lib.pan import mask_frame
from dagster_project.lib.readers.bai2 import read_bai2
from dagster_project.lib.readers.camt053 import camt053_check, camt053_movement, camt054_check, camt054_movement
from dagster_project.lib.readers.common import REJECTED_ROWS_SCHEMA, FileRejected, StatementCheck, statement_frame
from dagster_project.lib.readers.date_formats import decide_format, parsed_column
from dagster_project.lib.readers.mt940 import read_mt940, read_mt942
from dagster_project.lib.readers.paypal_settlement import read_paypal_settlement
from dagster_project.lib.readers.running_balance import running_balance_statements
from dagster_project.lib.source_configs import FORMATS, ReaderOptions, display_path, regex_group_index
from dagster_project.lib.sources import SOURCES, Field, Source, currency_minor_units

TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.fZ")
# a "utc_timestamp" may also come without an offset, and then it is UTC
UTC_TIMESTAMP_FORMATS = (*TIMESTAMP_FORMATS, "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f")
DATE_FORMAT = "%Y-%m-%d"
# UTC offsets of the time zone abbreviations exports write after a local time (a format's
# trailing %Z); CST is North American Central time, as PayPal writes it
TIME_ZONE_OFFSETS = {
    "UTC": "+0000", "GMT": "+0000", "WET": "+0000", "WEST": "+0100", "BST": "+0100",
    "CET": "+0100", "CEST": "+0200", "EET": "+0200", "EEST": "+0300", "MSK": "+0300",
    "HST": "-1000", "AKST": "-0900", "AKDT": "-0800", "PST": "-0800", "PDT": "-0700",
    "MST": "-0700", "MDT": "-0600", "CST": "-0600", "CDT": "-0500", "EST": "-0500", "EDT": "-0400",
    "JST": "+0900", "KST": "+0900", "HKT": "+0800", "SGT": "+0800", "AWST": "+0800",
    "ACST": "+0930", "ACDT": "+1030", "AEST": "+1000", "AEDT": "+1100", "NZST": "+1200", "NZDT": "+1300",
}  # fmt: skip
DEFAULT_OPTIONS = ReaderOptions()
CAMT053_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}")
CAMT054_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.\d{2}")


@dataclass(frozen=True)
class IngestResult:
    source_name: str
    path: str
    file_id: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    skipped: bool = False


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- reading: every field as text, with its row number ------------------------------------


def _python_encoding(options: ReaderOptions) -> str:
    """The codec a file is decoded with: UTF-8 drops a byte order mark."""
    return "utf-8-sig" if options.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else options.encoding


def _encoding_name(options: ReaderOptions) -> str:
    return "UTF-8" if _python_encoding(options) == "utf-8-sig" else options.encoding


def _csv_header(path: Path, options: ReaderOptions = DEFAULT_OPTIONS) -> list[str]:
    """The names on the header line (after `header_row` lines), stripped; a file that is not
    text in its encoding is rejected first."""
    _check_text(path, options)
    with open(path, encoding=_python_encoding(options), newline="") as handle:
        for _ in range(options.header_row):
            handle.readline()
        header_line = handle.readline()
    dialect = {"delimiter": options.delimiter}
    dialect |= {"quotechar": options.quote_char} if options.quote_char else {"quoting": csv.QUOTE_NONE}
    header = next(iter(csv.reader([header_line], **dialect)), [])
    return [name.strip() for name in header]


def _check_text(path: Path, options: ReaderOptions) -> None:
    """Reject a file that is not text in its encoding, naming the line: pyarrow cannot hand a
    malformed row it cannot decode to the handler that quarantines it."""
    decoder = codecs.getincrementaldecoder(_python_encoding(options))()
    line, offset = 1, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            pending = len(decoder.getstate()[0])  # the bytes of a character split across chunks
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                at = max(0, error.start - pending)
                line += chunk.count(b"\n", 0, at)
                raise FileRejected(
                    f"{path}: line {line} is not {_encoding_name(options)} text ({error.reason} at byte {offset + at})"
                ) from None
            line += chunk.count(b"\n")
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise FileRejected(f"{path}: ends inside a character ({error.reason})") from None


def _header_label(options: ReaderOptions) -> str:
    return f"line {options.header_row + 1} (header)"


def _csv_rows(
    path: Path, header: list[str], options: ReaderOptions = DEFAULT_OPTIONS
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Text columns named by ``header`` plus `_source_row` (line number), and the malformed rows
    (of a file `_csv_header` has checked is text)."""
    malformed: list[tuple[int, str, str]] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        malformed.append(
            (
                row.number or -1,
                row.text,
                f"malformed row: expected {row.expected_columns} fields, found {row.actual_columns}",
            )
        )
        return "skip"

    skipped_lines = options.header_row + 1
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=False,
                skip_rows=skipped_lines,
                column_names=header,
                encoding=_python_encoding(options).removesuffix("-sig"),
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=options.delimiter,
                quote_char=options.quote_char or False,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise FileRejected(f"{path}: cannot be parsed as CSV: {error}") from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    records = frame.height + len(malformed)
    bad_lines = np.array([number for number, _, _ in malformed], dtype=np.int64)
    first = skipped_lines + 1
    good_lines = np.setdiff1d(np.arange(first, records + first, dtype=np.int64), bad_lines)
    frame = frame.with_columns(pl.Series("_source_row", good_lines[: frame.height]))
    rejected = pl.DataFrame(
        {
            "_source_row": [m[0] for m in malformed],
            "_raw_record": [m[1] for m in malformed],
            "field": [None] * len(malformed),
            "reason": [m[2] for m in malformed],
        },
        schema=REJECTED_ROWS_SCHEMA,
    )
    return frame, rejected


def _read_csv(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Text columns plus `_source_row` (line number), and the malformed rows."""
    options = source.options
    # a column without a name (a trailing comma) holds nothing a field reads; two of one name
    # would make every row ambiguous
    header = [name or f"_unnamed_{position}" for position, name in enumerate(_csv_header(path, options), start=1)]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileRejected(f"{path}: {_header_label(options)} names column(s) {', '.join(repeated)} more than once")
    missing = [f.source_key for f in source.fields if f.required and f.source_key not in header]
    if missing:
        raise FileRejected(
            f"{path}: {_header_label(options)} lacks required column(s) {', '.join(missing)}; "
            f"is this a {source.name} file?"
        )
    frame, rejected = _csv_rows(path, header, options)
    frame = frame.with_columns(
        pl.concat_str([pl.col(c).fill_null("") for c in header], separator=options.delimiter).alias("_raw_record")
    )
    return frame, rejected


# what the ECB writes in a currency's cell on a day it has no rate for it (blank reads as null)
ECB_NO_RATE = "N/A"
# the ECB publishes up to 5 decimals (GBP 0.86738); staging keeps 8, as DECIMAL(18, 8)
ECB_RATE_DECIMALS = 8


def _ecb_rate_problem(rate: pl.Expr, currency: pl.Expr) -> pl.Expr:
    """Why a published rate cannot be used, or null: it must be a positive plain decimal."""
    label = pl.format("field '{}': '{}'", currency, rate)
    return (
        pl.when(~rate.str.contains(r"^[+-]?\d+(\.\d+)?$"))
        .then(pl.format("{} is not a decimal number (units of {} per euro, e.g. 1.0824)", label, currency))
        .when(rate.str.contains(rf"\.\d{{{ECB_RATE_DECIMALS + 1},}}$"))
        .then(pl.format(f"{{}} has more than {ECB_RATE_DECIMALS} decimal places", label))
        .when(~rate.str.contains(r"[1-9]") | rate.str.starts_with("-"))
        .then(pl.format("{} must be greater than zero", label))
        .otherwise(None)
    )


def _read_ecb_rates(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row of text columns (Date, Currency, Rate) per cell of the ECB's wide file that holds a
    rate, numbered by its line; N/A and blank cells are days without a rate, not rows."""
    header = _csv_header(path)
    # the ECB ends every line with a comma, which leaves an empty last column
    columns = header[:-1] if header and header[-1] == "" else header
    currencies = columns[1:]
    if not columns or columns[0] != "Date" or not currencies or "" in currencies:
        raise FileRejected(
            f"{path}: line 1 (header) must be Date followed by one currency code per column "
            "(Date,USD,JPY,...); is this an ECB reference rates file (eurofxref-hist.csv)?"
        )
    repeated = sorted({code for code in currencies if currencies.count(code) > 1})
    if repeated:
        raise FileRejected(f"{path}: line 1 (header) names currency column(s) {', '.join(repeated)} more than once")
    wide, malformed = _csv_rows(path, header)
    cells = (
        wide.unpivot(on=currencies, index=["_source_row", "Date"], variable_name="Currency", value_name="Rate")
        .with_columns(pl.col("Date").str.strip_chars(), pl.col("Rate").str.strip_chars())
        .filter(pl.col("Rate").is_not_null() & ~pl.col("Rate").is_in(["", ECB_NO_RATE]))
        # file order: by line, then by column (the unpivot gives column after column)
        .sort("_source_row", maintain_order=True)
        .with_columns(
            pl.concat_str([pl.col("Date").fill_null(""), "Currency", "Rate"], separator=",").alias("_raw_record"),
            _ecb_rate_problem(pl.col("Rate"), pl.col("Currency")).alias("reason"),
        )
    )
    rates = cells.filter(pl.col("reason").is_null()).select("_source_row", "_raw_record", "Date", "Currency", "Rate")
    bad_rates = cells.filter(pl.col("reason").is_not_null()).select(
        "_source_row", "_raw_record", pl.col("Currency").alias("field"), "reason"
    )
    return rates, pl.concat([malformed, bad_rates], how="vertical_relaxed")


def _json_path(path: str) -> str:
    """A field's path (customer.email, lines[0].amount) as a DuckDB JSON path, every key quoted."""
    parts = []
    for segment in path.split("."):
        key, bracket, indexes = segment.partition("[")
        parts.append(f'."{key}"' + (bracket + indexes if bracket else ""))
    return "$" + "".join(parts)


_JSON_TYPE_NAMES = {
    "text": "a text", "decimal": "a number", "integer": "a whole number", "timestamp": "a timestamp",
    "utc_timestamp": "a timestamp", "unix_timestamp": "a Unix timestamp", "date": "a date",
    "currency": "a currency code",
}  # fmt: skip


class _JsonPaths:
    """The paths a source's fields read, each extracted once per row: DuckDB parses a record's
    JSON once for a list of paths (`json_extract(record, [...])`) and once per call otherwise,
    and a record carrying an expanded object is long."""

    def __init__(self, array: str | None) -> None:
        self.array = array
        self.record: list[str] = []
        self.element: list[str] = []

    def at(self, key: str) -> str:
        """The extracted JSON value at a field's path (null where the path is missing)."""
        if self.array and key.startswith(f"{self.array}[*]"):
            rest = key.removeprefix(f"{self.array}[*]").removeprefix(".")
            paths, column = self.element, "_element_values"
            path = _json_path(rest) if rest else "$"
        else:
            paths, column, path = self.record, "_record_values", _json_path(key)
        if path not in paths:
            paths.append(path)
        return f"{column}[{paths.index(path) + 1}]"

    def extracted(self) -> str:
        """The selects of the lists of extracted values."""
        selects = []
        lists = (("_record_values", "record", self.record), ("_element_values", "element", self.element))
        for column, source, paths in lists:
            if paths:
                listed = ", ".join(_sql_text(path) for path in paths)
                selects.append(f"json_extract({source}, [{listed}]) as {column}")
        return "".join(f",\n{select}" for select in selects)


def _json_value(f: Field, paths: _JsonPaths) -> str:
    """The JSON value a field reads: from the record, or from the element of the exploded array
    (`lines[*].sku`); with several paths, the first that holds a value (not missing, not null)."""
    keys = (f.source_key, *f.fallback_keys)
    if len(keys) == 1:
        return paths.at(f.source_key)
    present = [f"case when json_type({paths.at(key)}) <> 'NULL' then {paths.at(key)} end" for key in keys]
    return f"coalesce({', '.join(present)})"


def _sql_text(text: str) -> str:
    """A SQL string literal of the text."""
    return "'" + text.replace("'", "''") + "'"


def _json_text_and_problem(f: Field, value: str) -> tuple[str, str]:
    """The field's text, and why the value cannot be its text (or null). A value of the wrong
    JSON kind (an object or a list where a text, a number or a date belongs) is not turned into
    text: the row is quarantined with the reason. An expandable field reads the id of the object
    expanded in its place."""
    if f.type == "json":
        return f"json_extract_string({value}, '$')", "null"
    label = f"field '{f.source_key}'"
    expected = _JSON_TYPE_NAMES[f.type]
    if f.expandable:
        object_text = f"json_extract_string({value}, '$.id')"
        object_problem = (
            f"case when json_type(json_extract({value}, '$.id')) is distinct from 'VARCHAR' then "
            f"{_sql_text(f'{label}: an expanded object without an id text')} end"
        )
    else:
        object_text = "null"
        object_problem = _sql_text(f"{label}: a JSON object where {expected} is expected")
    text = f"""case json_type({value})
                when 'OBJECT' then {object_text}
                when 'ARRAY' then null
                else json_extract_string({value}, '$')
            end"""
    problem = f"""case json_type({value})
                when 'OBJECT' then {object_problem}
                when 'ARRAY' then {_sql_text(f"{label}: a JSON list where {expected} is expected")}
            end"""
    return text, problem


def _json_field_selects(source: Source) -> tuple[str, str, str, str]:
    """The selects of the lists of values extracted from each row, of the fields' JSON values
    (`_value:<key>`), then of their texts, one column per field, and of the first field's problem
    and its reason (`_json_field`, `_json_reason`). An element's position in the exploded array
    is read as `lines[#]`."""
    array = source.options.array
    paths = _JsonPaths(array)
    values, texts, problems = [], [], []
    for f in source.fields:
        if array and f.source_key == f"{array}[#]":
            values.append(f'null as "_value:{f.source_key}"')
            texts.append(f'cast(element_position as varchar) as "{f.source_key}"')
            continue
        values.append(f'{_json_value(f, paths)} as "_value:{f.source_key}"')
        text, problem = _json_text_and_problem(f, f'"_value:{f.source_key}"')
        texts.append(f'{text} as "{f.source_key}"')
        if problem != "null":
            problems.append((f.source_key, problem))
    field = "coalesce(" + ", ".join(f"case when {p} is not null then {_sql_text(key)} end" for key, p in problems) + ")"
    reason = "coalesce(" + ", ".join(p for _, p in problems) + ")"
    if not problems:
        field = reason = "cast(null as varchar)"
    selects = ",\n".join(values), ",\n".join(texts), f"{field} as _json_field,\n{reason} as _json_reason"
    return paths.extracted(), *selects


def _json_rows(connection: duckdb.DuckDBPyConnection, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of the `records` relation (position, raw_record, record), one per record or, with
    an `array` option, one per element of that array; a record without elements is quarantined,
    and so is a row whose value of some field is of the wrong JSON kind."""
    extracted, values, texts, problems = _json_field_selects(source)
    array = source.options.array
    empty = pl.DataFrame(schema=REJECTED_ROWS_SCHEMA)
    if array is None:
        rows_sql = f"""
            with extracted as (
                select position, raw_record{extracted}
                from records
            ),
            valued as (
                select position, raw_record, {values}
                from extracted
            )
            select position as _source_row, raw_record as _raw_record, {texts}, {problems}
            from valued
            order by position
        """
        rejected = empty
    else:
        elements = f"json_extract(record, '{_json_path(array)}[*]')"
        rows_sql = f"""
            with exploded as (
                select
                    position,
                    raw_record,
                    record,
                    unnest({elements}) as element,
                    generate_subscripts({elements}, 1) as element_position
                from records
            ),
            extracted as (
                select position, raw_record, element_position{extracted}
                from exploded
            ),
            valued as (
                select position, raw_record, element_position, {values}
                from extracted
            )
            select
                position as _source_row,
                raw_record as _raw_record,
                '{array}[' || element_position || ']' as _part,
                {texts},
                {problems}
            from valued
            order by position, element_position
        """
        rejected_table = connection.sql(
            f"""
            select
                position as _source_row,
                raw_record as _raw_record,
                '{array}' as field,
                'field ''{array}'': not a list with at least one element (each element is a row)' as reason
            from records
            where coalesce(json_array_length(json_extract(record, '{_json_path(array)}')), 0) = 0
            order by position
            """
        ).to_arrow_table()
        rejected = pl.from_arrow(rejected_table)
        assert isinstance(rejected, pl.DataFrame)
        rejected = rejected.cast(REJECTED_ROWS_SCHEMA)
    frame = pl.from_arrow(connection.sql(rows_sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.col("_source_row").cast(pl.Int64))
    wrong_kind = frame.filter(pl.col("_json_reason").is_not_null())
    if "_part" in frame.columns:
        wrong_kind = wrong_kind.with_columns(pl.format("{}: {}", "_part", "_json_reason").alias("_json_reason"))
    wrong_kind = wrong_kind.select(
        "_source_row", "_raw_record", pl.col("_json_field").alias("field"), pl.col("_json_reason").alias("reason")
    ).cast(REJECTED_ROWS_SCHEMA)
    frame = frame.filter(pl.col("_json_reason").is_null()).drop("_json_field", "_json_reason")
    return frame, pl.concat([rejected, wrong_kind], how="vertical_relaxed")


def _read_json_list(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The `data` array of an API list object, one text column per declared path."""
    connection = duckdb.connect()
    maximum_object_size = max(1 << 24, path.stat().st_size + 1)
    try:
        # the whole list is one JSON object, so it may be as large as the file; it is read once,
        # its `data` array straight into a list of records (extracting them from one huge JSON
        # value instead grows with the square of its size)
        connection.execute(
            "create temp table document as select data from read_json("
            "?, format = 'unstructured', records = true, columns = {data: 'JSON[]'}, maximum_object_size = ?)",
            [str(path), maximum_object_size],
        )
        present = connection.sql("select data is not null from document").fetchall()
        if present != [(True,)]:
            raise FileRejected(f"{path}: not one JSON list object with a 'data' array")
        connection.execute(
            """
            create temp table records as
            select position, cast(record as varchar) as raw_record, record
            from (
                select unnest(data) as record, generate_subscripts(data, 1) as position
                from document
            )
            """
        )
        return _json_rows(connection, source)
    except duckdb.Error as error:
        raise FileRejected(f"{path}: not a JSON list object with a 'data' array: {error}") from None
    finally:
        connection.close()


def _decoded_text(path: Path, options: ReaderOptions, format_name: str) -> str:
    """A text file decoded per its source's encoding; undecodable or binary content rejects it."""
    try:
        text = path.read_bytes().decode(_python_encoding(options))
    except UnicodeDecodeError as error:
        raise FileRejected(
            f"{path}: not {_encoding_name(options)} text ({error.reason} at byte {error.start})"
        ) from None
    if "\x00" in text:
        raise FileRejected(f"{path}: binary content (NUL characters) where {format_name} text was expected")
    return text


def _read_json_lines(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One record per line (JSON Lines); a blank line is no record, a line that is not a JSON
    object is quarantined with its line number."""
    lines = _decoded_text(path, source.options, "JSON Lines").split("\n")
    numbered = pa.table(
        {
            "line_number": pa.array(range(1, len(lines) + 1), pa.int64()),
            "line": pa.array([line.removesuffix("\r") for line in lines], pa.string()),
        }
    )
    connection = duckdb.connect()
    try:
        connection.register("numbered_lines", numbered)
        connection.execute(
            """
            create temp table checked as
            select
                line_number,
                line,
                case
                    when not json_valid(line) then 'not valid JSON'
                    when json_type(cast(line as json)) <> 'OBJECT' then 'not a JSON object'
                end as reason
            from numbered_lines
            where trim(line) <> ''
            """
        )
        connection.execute(
            """
            create temp table records as
            select line_number as position, line as raw_record, cast(line as json) as record
            from checked
            where reason is null
            """
        )
        frame, rejected = _json_rows(connection, source)
        bad_lines = pl.from_arrow(
            connection.sql(
                """
                select line_number as _source_row, line as _raw_record, null as field, 'line ' || line_number
                    || ': ' || reason || ' (one JSON object per line)' as reason
                from checked
                where reason is not null
                order by line_number
                """
            ).to_arrow_table()
        )
        assert isinstance(bad_lines, pl.DataFrame)
    except duckdb.Error as error:
        raise FileRejected(f"{path}: cannot be read as JSON Lines: {error}") from None
    finally:
        connection.close()
    rejected = pl.concat([rejected, bad_lines.cast(REJECTED_ROWS_SCHEMA)], how="vertical_relaxed")
    return frame, rejected


def _read_fixed_width(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per detail line of a fixed-width file, numbered by its line; each field is the
    text at its start and length (characters, the first is 1). With record types, a header
    record's fields are carried onto the detail lines after it, a trailer is skipped, and a line
    of an unknown record type is quarantined."""
    options = source.options
    lines = _decoded_text(path, options, "fixed-width").split("\n")
    frame = (
        pl.DataFrame({"_raw_record": [line.removesuffix("\r") for line in lines]}, schema={"_raw_record": pl.String})
        .with_row_index("_source_row", offset=1)
        .with_columns(pl.col("_source_row").cast(pl.Int64))
        .filter(pl.col("_raw_record").str.strip_chars() != "")
    )

    def text_at(f: Field) -> pl.Expr:
        assert f.start is not None and f.length is not None
        return pl.col("_raw_record").str.slice(f.start - 1, f.length)

    empty = pl.DataFrame(schema=REJECTED_ROWS_SCHEMA)
    detail_code = options.detail_record_type
    if detail_code is None:
        rows = frame.select("_source_row", "_raw_record", *(text_at(f).alias(f.source_key) for f in source.fields))
        return rows, empty
    assert options.record_type_start is not None and options.record_type_length is not None
    roles = dict(options.record_types)
    code = pl.col("_raw_record").str.slice(options.record_type_start - 1, options.record_type_length)
    frame = frame.with_columns(code.alias("_record_type"))
    end = options.record_type_start + options.record_type_length - 1
    unknown = frame.filter(~pl.col("_record_type").is_in(list(roles))).select(
        "_source_row",
        "_raw_record",
        pl.lit(None, pl.String).alias("field"),
        pl.format(
            f"unknown record type '{{}}' (positions {options.record_type_start}-{end}); known: {', '.join(roles)}",
            pl.col("_record_type"),
        ).alias("reason"),
    )
    rows = frame.filter(pl.col("_record_type") == detail_code)
    for header_code in [c for c, role in options.record_types if role == "header"]:
        carried = [f for f in source.fields if f.record_type == header_code]
        if not carried:
            continue
        # every line belongs to the last header of its type above it
        frame = frame.with_columns((pl.col("_record_type") == header_code).cum_sum().alias("_header"))
        headers = frame.filter(pl.col("_record_type") == header_code).select(
            "_header", *(text_at(f).alias(f.source_key) for f in carried)
        )
        rows = (
            rows.join(frame.select("_source_row", "_header"), on="_source_row")
            .join(headers, on="_header", how="left")
            .drop("_header")
        )
    detail_fields = [f for f in source.fields if f.record_type is None]
    rows = rows.with_columns(text_at(f).alias(f.source_key) for f in detail_fields).sort("_source_row")
    rows = rows.select("_source_row", "_raw_record", *(f.source_key for f in source.fields))
    return rows, unknown


def _local_name(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local_name(child) == name]


def _find_all(element: ET.Element, path: str) -> list[ET.Element]:
    """Every element down a '/'-separated path of local names, whatever their namespace."""
    found = [element]
    for name in path.split("/"):
        found = [child for parent in found for child in _children(parent, name)]
    return found


def _text_at(element: ET.Element, *paths: str) -> str | None:
    """The first non-blank text found down the first path that has one."""
    for path in paths:
        for found in _find_all(element, path):
            if found.text and found.text.strip():
                return found.text.strip()
    return None


def _camt053_date(element: ET.Element, path: str) -> str | None:
    """A date given as `<Dt>` or, failing that, the date part of `<DtTm>`."""
    date_time = _text_at(element, f"{path}/DtTm")
    return _text_at(element, f"{path}/Dt") or (date_time[:10] if date_time else None)


def _camt053_statement(statement: ET.Element) -> tuple[dict[str, str | None], tuple[str, str] | None]:
    """The statement's values carried on each of its entries, and (field, reason) if they are unusable."""
    values: dict[str, str | None] = {
        "Stmt/Id": _text_at(statement, "Id"),
        "Stmt/Acct/Id": _text_at(statement, "Acct/Id/IBAN", "Acct/Id/Othr/Id"),
        "Stmt/Acct/Ccy": _text_at(statement, "Acct/Ccy"),
    }
    balances = {_text_at(balance, "Tp/CdOrPrtry/Cd"): balance for balance in reversed(_children(statement, "Bal"))}
    # the opening balance is OPBD, or PRCD (the previous statement's closing) when a bank sends that
    for label, balance in (("OPBD", balances.get("OPBD", balances.get("PRCD"))), ("CLBD", balances.get("CLBD"))):
        amount = indicator = None
        if balance is not None:
            amount, indicator = _text_at(balance, "Amt"), _text_at(balance, "CdtDbtInd")
            if amount is not None and indicator not in ("CRDT", "DBIT"):
                found = f"'{indicator}'" if indicator else "missing"
                return values, (f"Bal[{label}]/CdtDbtInd", f"balance {label}: CdtDbtInd is {found}, not CRDT or DBIT")
        values[f"Bal[{label}]/Amt"] = f"-{amount}" if amount is not None and indicator == "DBIT" else amount
        values[f"Bal[{label}]/Dt"] = _camt053_date(balance, "Dt") if balance is not None else None
    return values, None


def _camt053_entry(entry: ET.Element) -> dict[str, str | None]:
    amounts = _find_all(entry, "Amt")
    domain = [_text_at(entry, f"BkTxCd/Domn/{path}") for path in ("Cd", "Fmly/Cd", "Fmly/SubFmlyCd")]
    lines = _find_all(entry, "NtryDtls/TxDtls/RmtInf/Ustrd")
    remittance = [line.text.strip() for line in lines if line.text and line.text.strip()]
    return {
        "NtryRef": _text_at(entry, "NtryRef"),
        "Amt": amounts[0].text if amounts else None,
        "Amt/@Ccy": amounts[0].get("Ccy") if amounts else None,
        "CdtDbtInd": _text_at(entry, "CdtDbtInd"),
        # a code of its own from version 001.08 on, the element's text before
        "Sts": _text_at(entry, "Sts/Cd", "Sts/Prtry", "Sts"),
        "BookgDt/Dt": _text_at(entry, "BookgDt/Dt"),
        "BookgDt/DtTm": _text_at(entry, "BookgDt/DtTm"),
        "ValDt": _camt053_date(entry, "ValDt"),
        "AcctSvcrRef": _text_at(entry, "AcctSvcrRef"),
        "BkTxCd": "/".join(code for code in domain if code) or _text_at(entry, "BkTxCd/Prtry/Cd"),
        "TxDtls/Refs/EndToEndId": _text_at(entry, "NtryDtls/TxDtls/Refs/EndToEndId"),
        "TxDtls/RmtInf/Ustrd": " ".join(remittance) or None,
        # the debtor's name moved under Pty in version 001.08
        "TxDtls/RltdPties/Dbtr/Nm": _text_at(
            entry, "NtryDtls/TxDtls/RltdPties/Dbtr/Nm", "NtryDtls/TxDtls/RltdPties/Dbtr/Pty/Nm"
        ),
        "AddtlNtryInf": _text_at(entry, "AddtlNtryInf"),
    }


def _camt054_notification(notification: ET.Element) -> tuple[dict[str, str | None], tuple[str, str] | None]:
    """The notification's values carried on each of its entries: its id, time, account and
    transaction summary (TxsSummry, as versions 001.02 and 001.08 on write it). A notification
    has no balances, and a summary it gives is only checked, so nothing here makes its entries
    unusable."""
    return {
        "Ntfctn/Id": _text_at(notification, "Id"),
        "Ntfctn/CreDtTm": _text_at(notification, "CreDtTm"),
        "Ntfctn/Acct/Id": _text_at(notification, "Acct/Id/IBAN", "Acct/Id/Othr/Id"),
        "Ntfctn/Acct/Ccy": _text_at(notification, "Acct/Ccy"),
        "TxsSummry/TtlNtries/NbOfNtries": _text_at(notification, "TxsSummry/TtlNtries/NbOfNtries"),
        "TxsSummry/TtlNetNtry/Amt": _text_at(
            notification, "TxsSummry/TtlNtries/TtlNetNtry/Amt", "TxsSummry/TtlNtries/TtlNetNtryAmt"
        ),
        "TxsSummry/TtlNetNtry/CdtDbtInd": _text_at(
            notification, "TxsSummry/TtlNtries/TtlNetNtry/CdtDbtInd", "TxsSummry/TtlNtries/CdtDbtInd"
        ),
        "TxsSummry/TtlCdtNtries/NbOfNtries": _text_at(notification, "TxsSummry/TtlCdtNtries/NbOfNtries"),
        "TxsSummry/TtlCdtNtries/Sum": _text_at(notification, "TxsSummry/TtlCdtNtries/Sum"),
        "TxsSummry/TtlDbtNtries/NbOfNtries": _text_at(notification, "TxsSummry/TtlDbtNtries/NbOfNtries"),
        "TxsSummry/TtlDbtNtries/Sum": _text_at(notification, "TxsSummry/TtlDbtNtries/Sum"),
    }, None


@dataclass(frozen=True)
class _CamtMessage:
    """One of the ISO 20022 bank-to-customer cash management messages the camt reader reads:
    they differ in their namespace, their elements and the claim a report makes about its
    entries, not in the shape of the entries (Ntry)."""

    name: str  # camt.053
    source: str  # the built-in source of its format
    described: str
    namespace: re.Pattern[str]
    document: str  # the message element under Document
    report: str  # the element that holds the entries
    report_values: Callable[[ET.Element], tuple[dict[str, str | None], tuple[str, str] | None]]
    check: Callable[[int, int, dict[str, str | None], str | None], StatementCheck]
    movement: Callable[[dict[str, str | None]], Decimal | None]


CAMT053 = _CamtMessage(
    "camt.053", "camt053", "bank statement", CAMT053_NAMESPACE, "BkToCstmrStmt", "Stmt",
    _camt053_statement, camt053_check, camt053_movement,
)  # fmt: skip
CAMT054 = _CamtMessage(
    "camt.054", "camt054", "debit/credit notification", CAMT054_NAMESPACE, "BkToCstmrDbtCdtNtfctn", "Ntfctn",
    _camt054_notification, camt054_check, camt054_movement,
)  # fmt: skip


def _read_camt053(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]:
    """One row of text columns per statement entry (Ntry), numbered by its position in the file,
    and each statement's check."""
    return _read_camt(path, source, CAMT053)


def _read_camt054(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]:
    """One row of text columns per notification entry (Ntry), numbered by its position in the
    file, and each notification's check."""
    return _read_camt(path, source, CAMT054)


def _read_camt(
    path: Path, source: Source, message: _CamtMessage
) -> tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]:
    """The entries of every report (a camt.053 Stmt, a camt.054 Ntfctn) of a file of ``message``,
    each carrying its report's values, and each report's check."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise FileRejected(f"{path}: not UTF-8 XML (it contains NUL bytes)")
    # entities can expand without bound or reach outside the file; a statement needs neither
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise FileRejected(f"{path}: contains a DTD or entity declaration (<!DOCTYPE/<!ENTITY), which is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise FileRejected(f"{path}: not well-formed XML: {error}") from None
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if namespace and not message.namespace.fullmatch(namespace):
        # a sibling message landed as the wrong source is named, so it can be landed again
        other = next((m for m in (CAMT053, CAMT054) if m.namespace.fullmatch(namespace)), None)
        hint = f"; it is a {other.name} {other.described}: ingest it as source '{other.source}'" if other else ""
        raise FileRejected(
            f"{path}: namespace '{namespace}' is not {message.name} "
            f"(urn:iso:std:iso:20022:tech:xsd:{message.name}.001.NN){hint}"
        )
    documents = [element for element in (root, *root) if _local_name(element) == message.document]
    if not documents:
        raise FileRejected(
            f"{path}: no {message.document} element under <{_local_name(root)}>; "
            f"is this a {message.name} {message.described}?"
        )
    columns: dict[str, list[str | None]] = {f.source_key: [] for f in source.fields}
    positions: list[int] = []
    records: list[str] = []
    rejected: list[tuple[int, str, str, str]] = []
    checks: list[StatementCheck] = []
    position = 0
    for statement_position, statement in enumerate(_children(documents[0], message.report), start=1):
        statement_values, problem = message.report_values(statement)
        check = message.check(statement_position, position + 1, statement_values, problem[1] if problem else None)
        checks.append(check)
        for entry in _children(statement, "Ntry"):
            position += 1
            values = {**statement_values, **_camt053_entry(entry)}
            check.add(position, message.movement(values))
            # the entry as the quarantine shows it and its hash is taken from: without the
            # namespace, indentation or surrounding whitespace, so the same entry sent again
            # (in another version's namespace, indented otherwise) hashes the same
            for element in entry.iter():
                element.tag = _local_name(element)
                element.text = element.text.strip() or None if element.text else None
                element.tail = None
            record = ET.tostring(entry, encoding="unicode")
            if problem:
                rejected.append((position, record, *problem))
                continue
            for key, column in columns.items():
                column.append(values.get(key))
            positions.append(position)
            records.append(record)
    frame = pl.DataFrame(
        {"_source_row": positions, "_raw_record": records, **columns},
        schema={"_source_row": pl.Int64, "_raw_record": pl.String, **dict.fromkeys(columns, pl.String)},
    )
    rejected_frame = pl.DataFrame(rejected, schema=REJECTED_ROWS_SCHEMA, orient="row")
    return frame, rejected_frame, checks


READERS: dict[str, Callable[[Path, Source], tuple[pl.DataFrame, pl.DataFrame]]] = {
    "csv": _read_csv,
    "json_list": _read_json_list,
    "json_lines": _read_json_lines,
    "fixed_width": _read_fixed_width,
    "ecb_rates_csv": _read_ecb_rates,
    "paypal_stl": read_paypal_settlement,
}
# bank statements: their readers also give each statement's claim about its lines, which is
# checked against the lines that were loaded
STATEMENT_READERS: dict[str, Callable[[Path, Source], tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]]] = {
    "camt053": _read_camt053,
    "camt054": _read_camt054,
    "mt940": read_mt940,
    "mt942": read_mt942,
    "bai2": read_bai2,
}
assert set(READERS) | set(STATEMENT_READERS) == set(FORMATS), "every format a config may name has a reader"


# --- casting and validation ----------------------------------------------------------------


def _text(f: Field) -> pl.Expr:
    """The field's text as read from the file (kept apart from its typed column)."""
    return pl.col(f"_text:{f.source_key}")


def _trimmed(text: pl.Expr, trim: bool | str) -> pl.Expr:
    if trim is True:
        return text.str.strip_chars()
    if trim is False:
        return text
    return text.str.strip_chars(trim)


def _blank_is_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.strip_chars() == "").then(None).otherwise(text)


def _own_text_present(f: Field) -> pl.Expr:
    """Whether the row gives the field a value: its own column is not blank, or it has a default."""
    if f.default is not None:
        return pl.lit(True)
    own = _text(f).str.strip_chars()
    return own.is_not_null() & (own != "") & ~own.is_in(list(f.null_values))


def _field_text(f: Field) -> pl.Expr:
    """The text the field's value is read from: its column's, trimmed, followed by those it is
    joined with; blank is null, and so is a text the field declares means no value."""
    text = _trimmed(_text(f), f.trim)
    if f.null_values:
        text = pl.when(text.is_in(list(f.null_values))).then(None).otherwise(text)
    if f.joined_with:
        parts = [text, *(pl.col(f"_text:{key}").str.strip_chars() for key in f.joined_with)]
        text = pl.concat_str(parts, separator=" ", ignore_nulls=True)
    return _blank_is_null(text)


def _text_before_map(f: Field) -> pl.Expr:
    """The field text in its case, or its default when it is missing."""
    text = _field_text(f)
    if f.case == "upper":
        text = text.str.to_uppercase()
    elif f.case == "lower":
        text = text.str.to_lowercase()
    if f.default is not None:
        text = text.fill_null(pl.lit(f.default, pl.String))
    return text


def _mapped_text(f: Field) -> pl.Expr:
    """The text after the enum mapping: an unmapped value is null (and quarantined) unless the
    field has a map_default."""
    text = _text_before_map(f)
    if not f.map:
        return text
    default = pl.lit(f.map_default, pl.String) if f.map_default is not None else None
    return text.replace_strict(dict(f.map), default=default, return_dtype=pl.String)


def _prepared_text(f: Field) -> pl.Expr:
    """The text the value is cast from, every text rule applied: trim, case, default, map, regex."""
    text = _mapped_text(f)
    if f.regex:
        text = text.str.extract(f.regex, regex_group_index(f.regex))
    return _blank_is_null(text) if f.map or f.regex else text


def _number_text(f: Field, text: pl.Expr) -> pl.Expr:
    """A number's text in plain form (-1234.56): thousands separators between groups of three
    digits dropped, a decimal comma made a point. A decimal_comma number with a point left in it
    is no number (null)."""
    point = "," if f.decimal_comma else r"\."
    if f.thousands_separator:
        separator = re.escape(f.thousands_separator)
        grouped = text.str.contains(rf"^[+-]?\d{{1,3}}({separator}\d{{3}})+({point}\d*)?$")
        text = pl.when(grouped).then(text.str.replace_all(separator, "")).otherwise(text)
    if f.decimal_comma:
        text = (
            pl.when(text.str.contains(".", literal=True)).then(None).otherwise(text.str.replace(",", ".", literal=True))
        )
    return text


_MAJOR_AMOUNT = r"^([+-]?)(\d+)(?:\.(\d*))?$"
_MAXIMUM_MINOR_DIGITS = 4


def _minor_units_digits(currency: pl.Expr) -> pl.Expr:
    return currency.replace_strict(currency_minor_units(), default=None, return_dtype=pl.Int64)


def _major_units_parts(f: Field, text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(sign, whole units, significant decimals) of an amount written in major units."""
    number = _number_text(f, text)
    return (
        number.str.extract(_MAJOR_AMOUNT, 1),
        number.str.extract(_MAJOR_AMOUNT, 2),
        number.str.extract(_MAJOR_AMOUNT, 3).fill_null("").str.strip_chars_end("0"),
    )


def _minor_units(f: Field, text: pl.Expr, currency: pl.Expr) -> pl.Expr:
    """An amount in major units of the row's currency as exact integer minor units (12.3 EUR is
    1230), null when it has more decimals than the currency or no known currency."""
    sign, whole, decimals = _major_units_parts(f, text)
    digits = _minor_units_digits(currency)
    padded = pl.concat_str([decimals, pl.lit("0" * _MAXIMUM_MINOR_DIGITS)]).str.slice(0, digits)
    fraction = pl.when(digits > 0).then(padded.cast(pl.Int64, strict=False)).otherwise(0)
    minor = whole.cast(pl.Int64, strict=False) * pl.lit(10, pl.Int64).pow(digits) + fraction
    fits = decimals.str.len_chars() <= digits
    return pl.when(fits).then(pl.when(sign == "-").then(-minor).otherwise(minor)).otherwise(None)


def _with_zone_offset(text: pl.Expr) -> pl.Expr:
    """A trailing time zone abbreviation replaced by its UTC offset (null if it is unknown)."""
    zone = text.str.extract(r"\s([A-Za-z]{1,5})$", 1)
    offset = zone.str.to_uppercase().replace_strict(TIME_ZONE_OFFSETS, default=None, return_dtype=pl.String)
    return pl.when(zone.is_null()).then(text).otherwise(pl.concat_str([text.str.replace(r"[A-Za-z]+$", ""), offset]))


def _parse_timestamp(text: pl.Expr, fmt: str, time_zone: str | None = None) -> pl.Expr:
    """A timestamp in UTC, without its zone; a format's trailing %Z reads a zone abbreviation,
    and a time without an offset is local to ``time_zone`` (UTC when none is given). On the
    night clocks go back, an hour that happens twice is taken the first time."""
    if fmt.endswith("%Z"):
        text, fmt = _with_zone_offset(text), fmt[:-2] + "%z"
    parsed = text.str.to_datetime(fmt, strict=False, time_unit="us")
    # a literal Z ends a time in UTC
    if time_zone and "%z" not in fmt and not fmt.endswith("Z"):
        parsed = parsed.dt.replace_time_zone(time_zone, ambiguous="earliest", non_existent="null")
    return parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)


def _cast_expression(f: Field, source: Source) -> pl.Expr:
    text = _prepared_text(f)
    if f.type == "decimal":
        value = _number_text(f, text).cast(dtype_of("decimal"), strict=False)
    elif f.type == "integer" and f.units == "major":
        assert f.currency_field is not None
        value = _minor_units(f, text, _cast_expression(source.field_of(f.currency_field), source))
    elif f.type == "integer":
        value = _number_text(f, text).cast(pl.Int64, strict=False)
    elif f.type in ("timestamp", "utc_timestamp"):
        # a time without an offset is read as UTC (or the field's time zone), so only a
        # "utc_timestamp" or a field with a time zone lists such formats by default
        naive_allowed = f.type == "utc_timestamp" or f.time_zone is not None
        formats = f.formats or (UTC_TIMESTAMP_FORMATS if naive_allowed else TIMESTAMP_FORMATS)
        return pl.coalesce([_parse_timestamp(text, fmt, f.time_zone) for fmt in formats])
    elif f.type == "date":
        return pl.coalesce([text.str.to_date(fmt, strict=False) for fmt in f.formats or (DATE_FORMAT,)])
    elif f.type == "unix_timestamp":
        return pl.from_epoch(text.cast(pl.Int64, strict=False), time_unit="s").cast(pl.Datetime("us"))
    elif f.type == "currency":
        return text.str.to_uppercase() if source.lowercase_currency else text
    else:
        return text
    if f.sign_from is not None:
        side = _cast_expression(source.field_of(f.sign_from.field), source)
        value = pl.when(side.is_in(list(f.sign_from.debit))).then(-value).otherwise(value)
    return value


_TYPE_DESCRIPTIONS = {
    "decimal": "a decimal number",
    "integer": "a whole number",
    "timestamp": "a timestamp (e.g. 2026-11-01 10:15:32 +0100)",
    "utc_timestamp": "a timestamp (e.g. 2026-11-01 10:15:32, UTC unless an offset is given)",
    "unix_timestamp": "a Unix timestamp in seconds",
    "date": "a date (YYYY-MM-DD)",
}
# how a declared format is shown in an error: %m/%d/%Y %H:%M:%S %Z -> MM/DD/YYYY HH:MM:SS ZONE
_FORMAT_PARTS = {
    "%Y": "YYYY", "%m": "MM", "%d": "DD", "%B": "Month",
    "%H": "HH", "%M": "MM", "%S": "SS", "%z": "+HHMM", "%Z": "ZONE",
}  # fmt: skip


def _type_description(f: Field) -> str:
    described = _TYPE_DESCRIPTIONS.get(f.type, f.type)
    if f.type == "timestamp" and f.time_zone:
        described = f"a timestamp (e.g. 2026-11-01 10:15:32, {f.time_zone} time unless an offset is given)"
    if f.type == "decimal" and f.decimal_comma:
        described = "a decimal number (e.g. 1234,56)"
    if not f.formats:
        return described
    shown = []
    for fmt in f.formats:
        for directive, part in _FORMAT_PARTS.items():
            fmt = fmt.replace(directive, part)
        shown.append(fmt)
    zone = ", ZONE a time zone such as PST or CET" if any(fmt.endswith("%Z") for fmt in f.formats) else ""
    local = f", {f.time_zone} time" if f.time_zone else ""
    return f"{described.split(' (')[0]} ({' or '.join(shown)}{zone}{local})"


def _major_units_problem(f: Field, source: Source, label: str, raw: pl.Expr) -> pl.Expr:
    """Why an amount in major units cannot be made minor units, or null."""
    assert f.currency_field is not None
    currency_field = source.field_of(f.currency_field)
    currency = _cast_expression(currency_field, source)
    prepared = _prepared_text(f)
    sign, _, decimals = _major_units_parts(f, prepared)
    digits = _minor_units_digits(currency)
    example = "1234,56" if f.decimal_comma else "1234.56"
    return (
        pl.when(prepared.is_null())
        .then(None)
        .when(sign.is_null())
        .then(pl.format(f"{label}: '{{}}' is not an amount (e.g. {example})", raw))
        .when(digits.is_null())
        .then(
            pl.format(f"{label}: '{{}}' has no known currency to be read in (field '{currency_field.source_key}')", raw)
        )
        .when(decimals.str.len_chars() > digits)
        .then(pl.format(f"{label}: '{{}}' has more decimal places than {{}} has ({{}})", raw, currency, digits))
        .when(pl.col(f.column).is_null())
        .then(pl.format(f"{label}: '{{}}' is too large an amount", raw))
        .otherwise(None)
    )


def _record_date(source: Source) -> pl.Expr:
    """The day a row is dated: the first of the source's `record_date` columns that has a value
    (a timestamp's UTC day; the withdrawal dates it is compared with are months), else null."""
    days = [pl.col(column).cast(pl.Date) for column in source.record_date]
    return pl.coalesce(days) if days else pl.lit(None, pl.Date)


def _currency_problem(source: Source, label: str, raw: pl.Expr, code: pl.Expr) -> pl.Expr:
    """Why a currency code cannot be booked, or null: it is not in ISO 4217, has no minor units,
    or was withdrawn before the day the record is dated (or the record has no date to tell)."""
    listed = iso4217_currencies()
    without_units = sorted(c.code for c in listed.values() if c.minor_units is None)
    withdrawn = [c for c in listed.values() if c.withdrawn]
    name = code.replace_strict({c.code: c.name for c in listed.values()}, default=None, return_dtype=pl.String)
    valid_until = code.replace_strict({c.code: c.valid_until for c in withdrawn}, default=None, return_dtype=pl.Date)
    withdrawn_in = code.replace_strict(
        {c.code: c.withdrawn_in for c in withdrawn}, default=None, return_dtype=pl.String
    )
    dated = _record_date(source)
    date_fields = " or ".join(f"'{source.field_of(column).source_key}'" for column in source.record_date)
    withdrawal = f"{label}: '{{}}' ({{}}) was withdrawn from ISO 4217 in {{}} and is valid on records dated up to {{}}"
    undated = (
        f"{withdrawal}, but this record has no date (field {date_fields})"
        if source.record_date
        else f"{withdrawal}; source '{source.name}' declares no record_date to date its records by"
    )
    return (
        pl.when(code.is_null())
        .then(None)
        .when(~code.is_in(sorted(listed)))
        .then(pl.format(f"{label}: unknown currency '{{}}' (not an ISO 4217 code)", raw))
        .when(code.is_in(without_units))
        .then(pl.format(f"{label}: '{{}}' ({{}}) has no minor units in ISO 4217 (N.A.): no amount is booked in it",
                        code, name))
        .when(valid_until.is_null())
        .then(None)
        .when(dated.is_null())
        .then(pl.format(undated, code, name, withdrawn_in, valid_until))
        .when(dated > valid_until)
        .then(
            pl.format(
                f"{withdrawal}; this record is dated {{}} (field {date_fields})",
                code, name, withdrawn_in, valid_until, dated,
            )
        )
        .otherwise(None)
    )  # fmt: skip


# the dates a record can carry: a value outside them is a broken export or a hostile one, and a
# date of year 244135 BC would make every spine of days reach back to it
EARLIEST_RECORD_DATE, LATEST_RECORD_DATE = date(1900, 1, 1), date(2199, 12, 31)
_EPOCH = date(1970, 1, 1)
_EARLIEST_SECOND = (EARLIEST_RECORD_DATE - _EPOCH).days * 86_400
_AFTER_LATEST_SECOND = (LATEST_RECORD_DATE - _EPOCH).days * 86_400 + 86_400


def _impossible_date_problem(f: Field, label: str, raw: pl.Expr, prepared: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Why a date or a time cannot be a record's: outside the years a record can be dated (a
    Unix timestamp is judged by its seconds, which would overflow a timestamp first)."""
    if f.type == "unix_timestamp":
        seconds = prepared.cast(pl.Int64, strict=False)
        impossible = seconds.is_not_null() & ~seconds.is_between(_EARLIEST_SECOND, _AFTER_LATEST_SECOND, closed="left")
    else:
        day = value.cast(pl.Date)
        impossible = day.is_not_null() & ~day.is_between(EARLIEST_RECORD_DATE, LATEST_RECORD_DATE)
    reason = f"{label}: '{{}}' is not a date a record can have (from {EARLIEST_RECORD_DATE} to {LATEST_RECORD_DATE})"
    return pl.when(impossible).then(pl.format(reason, raw)).otherwise(None)


def _problems(source: Source, typed: pl.DataFrame) -> list[tuple[str, pl.Expr]]:
    """(field, reason-or-null expression) for every check a row can fail."""
    problems: list[tuple[str, pl.Expr]] = []
    for f in source.fields:
        present = _own_text_present(f)
        raw = _field_text(f)
        prepared = _prepared_text(f)
        value = pl.col(f.column)
        label = f"field '{f.source_key}'"
        if f.map and f.map_default is None:
            before = _text_before_map(f)
            keys = [original for original, _ in f.map]
            problems.append(
                (
                    f.source_key,
                    pl.when(before.is_not_null() & ~before.is_in(keys))
                    .then(pl.format(f"{label}: '{{}}' is not one of the mapped values {', '.join(keys)}", before))
                    .otherwise(None),
                )
            )
        if f.regex and f.required:
            mapped = _mapped_text(f)
            problems.append(
                (
                    f.source_key,
                    pl.when(mapped.is_not_null() & prepared.is_null())
                    .then(pl.format(f"{label}: '{{}}' does not match the pattern {f.regex}", mapped))
                    .otherwise(None),
                )
            )
        if f.type == "decimal":
            problems.append(
                (
                    f.source_key,
                    pl.when(present & _number_text(f, prepared).str.contains(r"\.\d{5,}$"))
                    .then(pl.format(f"{label}: '{{}}' has more than 4 decimal places", raw))
                    .otherwise(None),
                )
            )
        if f.units == "major":
            problems.append((f.source_key, _major_units_problem(f, source, label, raw)))
        elif f.type in ("decimal", "integer", "timestamp", "utc_timestamp", "unix_timestamp", "date"):
            problems.append(
                (
                    f.source_key,
                    pl.when(present & prepared.is_not_null() & value.is_null())
                    .then(pl.format(f"{label}: '{{}}' is not {_type_description(f)}", raw))
                    .otherwise(None),
                )
            )
        if f.type in ("timestamp", "utc_timestamp", "unix_timestamp", "date"):
            problems.append((f.source_key, _impossible_date_problem(f, label, raw, prepared, value)))
        if f.required:
            problems.append((f.source_key, pl.when(~present).then(pl.lit(f"{label} is required")).otherwise(None)))
        if f.required_with:
            other = source.field_of(f.required_with)
            problems.append(
                (
                    f.source_key,
                    pl.when(~present & pl.col(other.column).is_not_null())
                    .then(pl.lit(f"{label} is required when '{other.source_key}' is given"))
                    .otherwise(None),
                )
            )
        if f.required_unless:
            other = source.field_of(f.required_unless)
            other_raw = _text(other).str.strip_chars()
            problems.append(
                (
                    f.source_key,
                    pl.when(~present & (other_raw.is_null() | (other_raw == "")))
                    .then(pl.lit(f"{label} is required when '{other.source_key}' is not given"))
                    .otherwise(None),
                )
            )
        if f.allowed:
            problems.append(
                (
                    f.source_key,
                    pl.when(value.is_not_null() & ~value.is_in(list(f.allowed)))
                    .then(pl.format(f"{label}: '{{}}' is not one of {', '.join(f.allowed)}", raw))
                    .otherwise(None),
                )
            )
        if f.type == "currency":
            problems.append((f.source_key, _currency_problem(source, label, raw, value)))
        if f.sign_from is not None:
            side_field = source.field_of(f.sign_from.field)
            side = pl.col(side_field.column)
            sides = [*f.sign_from.debit, *f.sign_from.credit]
            # a side the file gives but its field's rules reject is reported with that field
            rejected_side = side.is_null() & _own_text_present(side_field)
            problems.append(
                (
                    f.source_key,
                    pl.when(value.is_not_null() & ~side.is_in(sides).fill_null(False) & ~rejected_side)
                    .then(
                        pl.format(
                            f"{label}: its side '{{}}' (field '{side_field.source_key}') is neither a debit "
                            f"({', '.join(f.sign_from.debit)}) nor a credit ({', '.join(f.sign_from.credit)})",
                            side.fill_null(""),
                        )
                    )
                    .when(prepared.str.starts_with("-"))
                    .then(
                        pl.format(
                            f"{label}: '{{}}' must be unsigned: its sign comes from field '{side_field.source_key}'",
                            raw,
                        )
                    )
                    .otherwise(None),
                )
            )
        if f.non_negative:
            problems.append(
                (
                    f.source_key,
                    pl.when(value < 0).then(pl.format(f"{label}: {{}} must not be negative", raw)).otherwise(None),
                )
            )
    return problems


def _parsed_value(f: Field, text: pl.Expr, fmt: str) -> pl.Expr:
    """The field's value read with one format (null when the text is not in it)."""
    if f.type == "date":
        return text.str.to_date(fmt, strict=False)
    return _parse_timestamp(text, fmt, f.time_zone)


def _decide_formats(path: Path, source: Source, text: pl.DataFrame, profile_id: str) -> tuple[Source, dict[str, Any]]:
    """The source as this file is read: each field that detects its format per file keeps only
    the one its dates are written in (so every value of the file is read alike, and a date that
    does not fit it is quarantined as any other); and the decisions, by field."""
    decisions: dict[str, Any] = {}
    fields = []
    for index, f in enumerate(source.fields):
        if f.detect != "per_file":
            fields.append(f)
            continue
        prepared = _prepared_text(f)
        dates = text.select(
            "_source_row",
            prepared.alias("text"),
            *(_parsed_value(f, prepared, fmt).alias(parsed_column(i)) for i, fmt in enumerate(f.formats)),
        ).filter(pl.col("text").is_not_null())
        where = display_path(source.config_file) if source.config_file else f"the {source.name} source config"
        pin_hint = (
            f"declare the format of profile {profile_id}'s files on fields[{index}] ({f.source_key}) of {where}: "
            f"profile_formats: {{{profile_id}: '<one of its formats>'}}"
        )
        decision = decide_format(
            path,
            f"field '{f.source_key}'",
            f.formats,
            dates,
            pinned=dict(f.profile_formats).get(profile_id),
            pin_hint=pin_hint,
        )
        decisions[f.source_key] = decision.as_record()
        fields.append(replace(f, formats=(decision.format,), detect=None) if decision.format else f)
    return replace(source, fields=tuple(fields)), decisions


def _check_running_balances(
    source: Source, typed: pl.DataFrame, rejected: pl.DataFrame, given_keys: set[str]
) -> tuple[dict[str, Any], list[StatementCheck]]:
    """Check every running balance field of the file: what was checked, by field, and the
    statements it makes (one per currency), which are kept and flagged when they break, as a
    bank statement is, not refused."""
    decisions: dict[str, Any] = {}
    checks: list[StatementCheck] = []
    for f in source.fields:
        balance = f.running_balance
        if balance is None:
            continue
        if f.source_key not in given_keys:
            # older exports have no balance column: nothing to check, and nothing is assumed
            decisions[f.source_key] = {"running_balance": f"not checked: the file has no {f.source_key} column"}
            continue
        amount = source.field_of(balance.amount)
        columns = {
            "row": pl.col("_source_row"),
            "known": pl.col("reason").is_null(),
            "moves": (
                ~pl.col(balance.skip_field).is_in(list(balance.skip_values)).fill_null(False)
                if balance.skip_field
                else pl.lit(True)
            ),
            "per": pl.col(balance.per).cast(pl.String) if balance.per else pl.lit(None, pl.String),
            "amount": pl.col(amount.column),
            "amount_text": _field_text(amount),
            "balance": pl.col(f.column),
            "balance_text": _field_text(f),
            "date": _record_date(source),
        }
        # a line the reader rejected is a row whose effect on the balance is unknown
        unreadable = rejected.select(pl.col("_source_row").alias("row"), pl.lit(False).alias("known"))
        rows = pl.concat([typed.select(**columns), unreadable], how="diagonal_relaxed")
        result = running_balance_statements(
            f.source_key,
            amount.source_key,
            rows,
            account_id=source.default_account,
            decimal_mark="," if f.decimal_comma else ".",
        )
        decision: dict[str, Any] = {"running_balance": "checked", "rows_checked": result.rows_checked}
        decision["order"] = result.order
        if result.breaks:
            decision["breaks"] = result.breaks
        decisions[f.source_key] = decision
        # numbered after the file's other statements, as raw.bank_statements keys them
        checks += [replace(check, position=len(checks) + n) for n, check in enumerate(result.statements, start=1)]
    return decisions, checks


def parse_file(
    path: Path,
    source: Source,
    *,
    profile_id: str,
    file_id: str,
    ingested_at: datetime,
    decisions: dict[str, Any] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(raw rows that passed, quarantined rows, rows read) for one landed file. ``decisions``
    receives what the file itself settled, by field: the format its dates are written in, its
    running balance."""
    passed, quarantined, rows_read, _ = parse_file_and_statements(
        path, source, profile_id=profile_id, file_id=file_id, ingested_at=ingested_at, decisions=decisions
    )
    return passed, quarantined, rows_read


def parse_file_and_statements(
    path: Path,
    source: Source,
    *,
    profile_id: str,
    file_id: str,
    ingested_at: datetime,
    decisions: dict[str, Any] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, int, pl.DataFrame]:
    """(raw rows that passed, quarantined rows, rows read, checks of its bank statements) for one
    landed file; no checks for a file that holds no statements. ``decisions`` receives what the
    file itself settled, by field: the format its dates are written in, its running balance."""
    checks: list[StatementCheck] = []
    if source.format in STATEMENT_READERS:
        text, rejected, checks = STATEMENT_READERS[source.format](path, source)
    else:
        text, rejected = READERS[source.format](path, source)
    text, rejected = mask_frame(text), mask_frame(rejected)
    rows_read = text.height + rejected.height
    given_keys = set(text.columns)
    for f in source.fields:
        if f.source_key not in text.columns:
            text = text.with_columns(pl.lit(None, pl.String).alias(f.source_key))
    text = text.rename({f.source_key: f"_text:{f.source_key}" for f in source.fields})
    source, read_decisions = _decide_formats(path, source, text, profile_id)
    typed = text.with_columns([_cast_expression(f, source).alias(f.column) for f in source.fields])
    problems = _problems(source, typed)
    typed = typed.with_columns(
        pl.concat_str([expr for _, expr in problems], separator="; ", ignore_nulls=True).alias("reason"),
        pl.coalesce([pl.when(expr.is_not_null()).then(pl.lit(name)) for name, expr in problems]).alias("field"),
    )
    typed = typed.with_columns(pl.when(pl.col("reason") == "").then(None).otherwise(pl.col("reason")).alias("reason"))
    if "_part" in typed.columns:
        # rows exploded from one record share its row number; the reason says which part failed
        typed = typed.with_columns(pl.format("{}: {}", "_part", "reason").alias("reason"))
    balance_decisions, balance_checks = _check_running_balances(source, typed, rejected, given_keys)
    read_decisions |= balance_decisions
    checks = [*checks, *(replace(check, position=len(checks) + check.position) for check in balance_checks)]
    if decisions is not None:
        decisions.update(read_decisions)
    failed = typed.filter(pl.col("reason").is_not_null()).select("_source_row", "_raw_record", "field", "reason")
    passed = typed.filter(pl.col("reason").is_null()).with_columns(
        pl.lit(profile_id).alias("_profile_id"),
        pl.lit(file_id).alias("_file_id"),
        pl.lit(str(path)).alias("_source_file"),
        pl.lit(ingested_at).cast(pl.Datetime("us")).alias("_ingested_at"),
        pl.col("_raw_record").map_batches(_md5, return_dtype=pl.String).alias("_raw_hash"),
    )
    passed = passed.select(source.columns + list(LINEAGE_COLUMNS))
    passed, contract_failures = _enforce_contract(source, passed, text)
    quarantined = pl.concat([rejected, failed, contract_failures], how="vertical_relaxed")
    # a statement is checked against what was loaded of it: a line quarantined by a cast or
    # the contract leaves it short as much as one its reader quarantined
    statements = statement_frame(checks, set(passed["_source_row"].to_list()))
    return passed, quarantined.sort("_source_row", maintain_order=True), rows_read, statements


def _md5(values: pl.Series) -> pl.Series:
    """MD5 of every value, computed by DuckDB over the Arrow column (no Python loop)."""
    connection = duckdb.connect()
    try:
        connection.register("hash_input", pa.table({"value": values.to_arrow()}))
        hashed = connection.sql("select md5(value) as value from hash_input").to_arrow_table()
    finally:
        connection.close()
    return pl.Series(values.name, hashed.column("value"), dtype=pl.String)


def _enforce_contract(source: Source, passed: pl.DataFrame, text: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate against the pandera contract; rows it rejects join the quarantine."""
    empty = pl.DataFrame(schema=REJECTED_ROWS_SCHEMA)
    try:
        raw_contract(source).validate(passed, lazy=True)
        return passed, empty
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        if "index" not in cases.columns or cases["index"].is_null().all():
            raise
        bad = (
            cases.filter(pl.col("index").is_not_null())
            .group_by("index")
            .agg(
                pl.col("column").first().alias("field"),
                pl.format("contract {}: {} failed for {}", pl.col("column"), pl.col("check"), pl.col("failure_case"))
                .str.join("; ")
                .alias("reason"),
            )
        )
        indexed = passed.with_row_index("index")
        # the rows exploded from one record share its row number and its text
        records = text.select("_source_row", "_raw_record").unique("_source_row", keep="first", maintain_order=True)
        rejected = indexed.join(bad, on="index").join(records, on="_source_row")
        keep = indexed.join(bad, on="index", how="anti").drop("index")
        return keep, rejected.select("_source_row", "_raw_record", "field", "reason")


# --- writing -------------------------------------------------------------------------------

_DUCKDB_TYPES = {
    "text": "varchar",
    "decimal": "decimal(18, 4)",
    "integer": "bigint",
    "timestamp": "timestamp",
    "utc_timestamp": "timestamp",
    "unix_timestamp": "timestamp",
    "date": "date",
    "json": "json",
    "currency": "varchar",
}


def ensure_raw_schema(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, its tables, the quarantine and the file registry if missing."""
    connection.execute("create schema if not exists raw")
    lineage = """
        _profile_id varchar not null,
        _file_id varchar not null,
        _source_file varchar not null,
        _source_row bigint not null,
        _ingested_at timestamp not null,
        _raw_hash varchar not null
    """
    existing = set(
        connection.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
        ).fetchall()
    )
    existing_tables = {table for table, _ in existing}
    for source in SOURCES.values():
        columns = ",\n".join(f'"{f.column}" {_DUCKDB_TYPES[f.type]}' for f in source.fields)
        connection.execute(f"create table if not exists raw.{source.raw_table} ({columns}, {lineage})")
        # a field a source's config gained since its table was created is added (empty for the
        # rows loaded before); a column a config no longer declares stays, with what it held
        for f in source.fields:
            if source.raw_table in existing_tables and (source.raw_table, f.column) not in existing:
                connection.execute(
                    f'alter table raw.{source.raw_table} add column "{f.column}" {_DUCKDB_TYPES[f.type]}'
                )
    connection.execute(
        """
        create table if not exists raw.quarantine (
            file_id varchar not null,
            source_name varchar not null,
            profile_id varchar not null,
            source_file varchar not null,
            source_row bigint not null,
            field varchar,
            reason varchar not null,
            raw_record varchar,
            quarantined_at timestamp not null
        )
        """
    )
    connection.execute(
        """
        create table if not exists raw.rejected_files (
            source_name varchar not null,
            profile_id varchar not null,
            path varchar not null,
            sha256 varchar not null,
            reason varchar not null,
            rejected_at timestamp not null,
            primary key (source_name, profile_id, sha256)
        )
        """
    )
    # the operators' resolutions of exceptions: appended by `recon resolve`, never updated
    connection.execute(
        """
        create table if not exists raw.resolutions (
            resolution_id varchar primary key,
            exception_id varchar not null,
            category varchar,
            profile_id varchar,
            action varchar not null,
            reason varchar not null,
            resolved_by varchar not null,
            assignee varchar,
            resolved_at timestamp not null,
            counterpart_entry_id varchar,
            amount_minor bigint,
            currency varchar,
            expectation_id varchar,
            target_unit_id varchar,
            target_entry_id varchar,
            entry_ids varchar[] not null
        )
        """
    )
    connection.execute(
        """
        create table if not exists raw.ingested_files (
            file_id varchar primary key,
            source_name varchar not null,
            profile_id varchar not null,
            path varchar not null,
            size_bytes bigint not null,
            sha256 varchar not null,
            rows_read bigint not null,
            rows_loaded bigint not null,
            rows_quarantined bigint not null,
            ingested_at timestamp not null,
            read_decisions json
        )
        """
    )
    # what a file settled about itself (the format its dates are written in, its running
    # balance), by field; a warehouse created before the column gains it, empty for its files
    connection.execute("alter table raw.ingested_files add column if not exists read_decisions json")
    # one row per bank statement (an MT940/MT942 message, a camt.053 Stmt, a BAI2 account) of
    # an ingested file: its claim about its lines and whether the lines loaded bear it out
    connection.execute(
        """
        create table if not exists raw.bank_statements (
            file_id varchar not null,
            source_name varchar not null,
            profile_id varchar not null,
            source_file varchar not null,
            statement_position bigint not null,
            statement_row bigint not null,
            statement_id varchar,
            statement_number varchar,
            account_id varchar,
            currency varchar,
            statement_date date,
            check_kind varchar not null,
            opening_balance decimal(18, 4),
            closing_balance decimal(18, 4),
            expected_total decimal(18, 4),
            loaded_total decimal(18, 4),
            difference decimal(18, 4),
            rows_read bigint not null,
            rows_loaded bigint not null,
            rows_quarantined bigint not null,
            loaded_rows bigint[] not null,
            check_status varchar not null,
            reason varchar,
            checked_at timestamp not null,
            primary key (file_id, statement_position)
        )
        """
    )


def ingest_file(
    connection: duckdb.DuckDBPyConnection, path: Path, source_name: str, profile_id: str, *, shown_as: str | None = None
) -> IngestResult:
    """Load one landed file; skip it when the same content was ingested for this source. A zip
    archive's members are loaded each as a file of its own (see `dagster_project.ingest.archives`);
    ``shown_as`` is how lineage names such a member (`archive.zip!member.xml`), unpacked at ``path``."""
    if shown_as is None and is_zip_archive(path):
        return _ingest_archive(connection, path, source_name, profile_id)
    source_file = shown_as or str(path)
    source = SOURCES[source_name]
    sha256 = file_fingerprint(path)
    file_id = f"{source_name}:{profile_id}:{sha256[:16]}"
    already = connection.execute(
        """
        select 1 from raw.ingested_files where source_name = ? and profile_id = ? and sha256 = ?
        union all
        select 1 from raw.rejected_files where source_name = ? and profile_id = ? and sha256 = ?
        """,
        [source_name, profile_id, sha256, source_name, profile_id, sha256],
    ).fetchall()
    if already:
        return IngestResult(source_name, source_file, file_id, 0, 0, 0, skipped=True)
    ingested_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        decisions: dict[str, Any] = {}
        passed, quarantined, rows_read, statements = parse_file_and_statements(
            path, source, profile_id=profile_id, file_id=file_id, ingested_at=ingested_at, decisions=decisions
        )
    except FileRejected as rejection:
        reason = str(rejection).replace(str(path), source_file)
        # kept with its reason, and not retried until a different file lands
        connection.execute(
            "insert or ignore into raw.rejected_files values (?, ?, ?, ?, ?, ?)",
            [source_name, profile_id, source_file, sha256, reason, ingested_at],
        )
        if shown_as is None:
            raise
        raise FileRejected(reason) from None
    if shown_as is not None:
        # an archive's member: lineage and reasons name it as delivered, not where it was unpacked
        passed = passed.with_columns(pl.lit(shown_as).alias("_source_file"))
        quarantined = quarantined.with_columns(pl.col("reason").str.replace_all(str(path), shown_as, literal=True))
        if "reason" in statements.columns:
            statements = statements.with_columns(
                pl.col("reason").str.replace_all(str(path), shown_as, literal=True)
            )
    quarantine_rows = quarantined.select(
        pl.lit(file_id).alias("file_id"),
        pl.lit(source_name).alias("source_name"),
        pl.lit(profile_id).alias("profile_id"),
        pl.lit(source_file).alias("source_file"),
        pl.col("_source_row").alias("source_row"),
        pl.col("field"),
        pl.col("reason"),
        pl.col("_raw_record").alias("raw_record"),
        pl.lit(ingested_at).cast(pl.Datetime("us")).alias("quarantined_at"),
    )
    column_list = ", ".join(f'"{c}"' for c in passed.columns)
    connection.execute("begin transaction")
    try:
        connection.register("incoming_rows", passed.to_arrow())
        connection.register("incoming_quarantine", quarantine_rows.to_arrow())
        connection.execute(
            f"insert into raw.{source.raw_table} ({column_list}) select {column_list} from incoming_rows"
        )
        connection.execute("insert into raw.quarantine select * from incoming_quarantine")
        _insert_statements(connection, statements, file_id, source_name, profile_id, Path(source_file), ingested_at)
        _register_file(
            connection,
            [
                file_id,
                source_name,
                profile_id,
                source_file,
                path.stat().st_size,
                sha256,
                rows_read,
                passed.height,
                quarantine_rows.height,
                ingested_at,
                json.dumps(decisions, sort_keys=True) if decisions else None,
            ],
        )
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    finally:
        connection.unregister("incoming_rows")
        connection.unregister("incoming_quarantine")
    return IngestResult(source_name, source_file, file_id, rows_read, passed.height, quarantine_rows.height)


def _ingest_archive(
    connection: duckdb.DuckDBPyConnection, path: Path, source_name: str, profile_id: str
) -> IngestResult:
    """Load every member of a landed zip archive as a file of the source's format, each in its own
    transaction and registered under its own content (the same statement zipped and unzipped is
    loaded once). An archive refused as a whole is kept in raw.rejected_files, as a file is; a
    member its reader rejects is kept there under its own name, the others load, and the error
    names each member refused."""
    sha256 = file_fingerprint(path)
    file_id = f"{source_name}:{profile_id}:{sha256[:16]}"
    refused_before = connection.execute(
        "select 1 from raw.rejected_files where source_name = ? and profile_id = ? and sha256 = ?",
        [source_name, profile_id, sha256],
    ).fetchall()
    if refused_before:
        return IngestResult(source_name, str(path), file_id, 0, 0, 0, skipped=True)
    results: list[IngestResult] = []
    rejections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="recon-archive-") as scratch:
        try:
            members = unpack_archive(path, Path(scratch))
        except FileRejected as rejection:
            connection.execute(
                "insert or ignore into raw.rejected_files values (?, ?, ?, ?, ?, ?)",
                [source_name, profile_id, str(path), sha256, str(rejection), datetime.now(UTC).replace(tzinfo=None)],
            )
            raise
        for member in members:
            try:
                results.append(ingest_file(connection, member.path, source_name, profile_id, shown_as=member.name))
            except FileRejected as rejection:
                rejections.append(str(rejection))
    if rejections:
        loaded = len(members) - len(rejections)
        raise FileRejected(
            f"{path}: {len(rejections)} of its {len(members)} files refused, {loaded} loaded: " + " | ".join(rejections)
        )
    return IngestResult(
        source_name,
        str(path),
        file_id,
        sum(r.rows_read for r in results),
        sum(r.rows_loaded for r in results),
        sum(r.rows_quarantined for r in results),
        skipped=all(r.skipped for r in results),
    )


def _insert_statements(
    connection: duckdb.DuckDBPyConnection,
    statements: pl.DataFrame,
    file_id: str,
    source_name: str,
    profile_id: str,
    path: Path,
    checked_at: datetime,
) -> None:
    """The file's statement checks into raw.bank_statements (inside the file's transaction)."""
    if statements.is_empty():
        return
    lineage = statements.select(
        pl.lit(file_id).alias("file_id"),
        pl.lit(source_name).alias("source_name"),
        pl.lit(profile_id).alias("profile_id"),
        pl.lit(str(path)).alias("source_file"),
        pl.all(),
        pl.lit(checked_at).cast(pl.Datetime("us")).alias("checked_at"),
    )
    connection.register("incoming_statements", lineage.to_arrow())
    try:
        connection.execute("insert into raw.bank_statements by name select * from incoming_statements")
    finally:
        connection.unregister("incoming_statements")


def _register_file(connection: duckdb.DuckDBPyConnection, values: list) -> None:
    # by name: a warehouse from before a column was added has it last, not where create puts it
    connection.execute(
        """
        insert into raw.ingested_files (
            file_id, source_name, profile_id, path, size_bytes, sha256, rows_read, rows_loaded,
            rows_quarantined, ingested_at, read_decisions
        )
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        values,
    )


def landed_files(landing: Path, source_name: str) -> list[tuple[Path, str]]:
    """(path, profile) of every file landed for a source, in a stable order."""
    root = landing / source_name
    if not root.exists():
        return []
    return [
        (path, path.relative_to(root).parts[0])
        for path in sorted(root.glob("*/*"))
        if path.is_file() and not path.name.startswith(".")
    ]


def describe(result: IngestResult) -> str:
    if result.skipped:
        return f"{result.path}: already ingested, skipped"
    return (
        f"{result.path}: {result.rows_read} rows read, {result.rows_loaded} loaded, "
        f"{result.rows_quarantined} quarantined"
    )
