"""Source configurations: one YAML file per source, read into `Source` and `Field`.

The built-in sources are configured in `dagster_project/sources/`; a user adds a source by
writing one more file there, or in a directory named by RECON_SOURCES_DIR (several separated by
the path separator, `:` on Linux). A file declares the source's format, raw table, default
account, reader options and fields (where each comes from, the rules that turn its text into a
value, its type and checks) and, for a source without a staging model of its own, an `entry:`
block that maps its columns to the entry shape. Every key is checked when the file is loaded: a
mistake stops the load with the file and the key path, e.g.
`dagster_project/sources/my_bank.yml: fields[3].type: unknown type 'decmal'; use one of ...`.
README.md, "Adding a source", documents every key.
"""

import json
import os
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from dagster_project.lib.home import CHECKOUT_ROOT

BUILT_IN_SOURCES_DIR = Path(__file__).resolve().parents[1] / "sources"
SOURCES_DIR_VARIABLE = "RECON_SOURCES_DIR"

# "timestamp" must carry its UTC offset unless the field names a time zone; "utc_timestamp" is
# UTC unless it carries one
FIELD_TYPES = ("text", "decimal", "integer", "timestamp", "utc_timestamp", "unix_timestamp", "date", "json", "currency")
# the generic formats read any file of their kind per the config; the named ones know one
# producer's layout and only take their fields from the config
GENERIC_FORMATS = ("csv", "json_list", "json_lines", "fixed_width")
NAMED_FORMATS = ("camt053", "camt054", "mt940", "mt942", "bai2", "ecb_rates_csv", "paypal_stl")
FORMATS = GENERIC_FORMATS + NAMED_FORMATS
RECORD_ROLES = ("header", "detail", "trailer")
# how a field with several formats is read: "per_file", one format for every value of a file
DETECT_MODES = ("per_file",)
DIRECTIONS = ("DEBIT", "CREDIT")


class SourceConfigError(ValueError):
    """A source configuration that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class SignFrom:
    """The sign of an unsigned amount, from another column: negative for a debit value."""

    field: str
    debit: tuple[str, ...]
    credit: tuple[str, ...]


@dataclass(frozen=True)
class RunningBalance:
    """A balance written after each row: within a file, per value of `per`, the previous row's
    balance plus this row's `amount` is this row's balance; a row whose `skip_field` holds one
    of `skip_values` does not move it."""

    amount: str
    per: str | None = None
    skip_field: str | None = None
    skip_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    column: str
    source_key: str
    # JSON: further paths read, in order, when the first has no value (Stripe puts an e-mail in
    # billing_details.email or receipt_email)
    fallback_keys: tuple[str, ...] = ()
    # JSON: the value is an id, or the object it names expanded in its place (Stripe's
    # expandable fields), whose `id` is then read
    expandable: bool = False
    type: str = "text"
    required: bool = False
    non_negative: bool = False
    # when set, the field is required on rows where this other column has a value
    required_with: str | None = None
    # when set, the field is required on rows where this other column has no value
    required_unless: str | None = None
    # when set, the only values the field may take
    allowed: tuple[str, ...] = ()
    # when set, the texts of these other declared columns follow this one's (joined with a
    # space) before the value is cast: a timestamp exported as a date, a time and a time zone
    joined_with: tuple[str, ...] = ()
    # when set, the strptime formats the value is read with instead of its type's defaults; a
    # trailing %Z reads a time zone abbreviation (PST, CET, ...)
    formats: tuple[str, ...] = ()
    # "per_file": `formats` are the ones a file may be written in (an account's locale: month
    # or day first); the one every date of a file fits is used for the whole file, never one per
    # value (readers/date_formats.py)
    detect: str | None = None
    # with detect: the format a profile's files are declared to use, for a file whose dates fit
    # several (every day <= 12); a file that contradicts it is rejected
    profile_formats: tuple[tuple[str, str], ...] = ()
    # texts that mean the value is not given (PayPal writes "..." where a balance does not apply)
    null_values: tuple[str, ...] = ()
    # the field is a balance after each row, checked within each file (readers/running_balance.py)
    running_balance: RunningBalance | None = None
    # when set, the thousands separator a decimal may carry between groups of three digits
    thousands_separator: str | None = None
    # a decimal written with a comma before its decimals (1234,56)
    decimal_comma: bool = False
    # the IANA time zone a timestamp without an offset is local to (Europe/Berlin)
    time_zone: str | None = None
    # the text rules, applied in this order before the value is cast: trim (True: whitespace,
    # a text: those characters), case, default (for a missing value), map (an unmapped value is
    # quarantined unless map_default is set), regex (group `value`, else group 1, else the match)
    trim: bool | str = True
    case: str | None = None
    default: str | None = None
    map: tuple[tuple[str, str], ...] = ()
    map_default: str | None = None
    regex: str | None = None
    # an integer amount in minor units read from major units ("12.34" EUR is 1234) per the
    # currency in `currency_field`, or written in minor units already
    units: str | None = None
    currency_field: str | None = None
    sign_from: SignFrom | None = None
    # fixed-width files: 1-based start and length on the line of `record_type` (the detail
    # record when unset)
    start: int | None = None
    length: int | None = None
    record_type: str | None = None


@dataclass(frozen=True)
class ReaderOptions:
    """How a generic format's file is read (the named formats take none of these)."""

    delimiter: str = ","
    # None: fields are never quoted
    quote_char: str | None = '"'
    encoding: str = "utf-8"
    # lines before the header line (CSV)
    header_row: int = 0
    # JSON: the nested array whose elements become rows
    array: str | None = None
    # fixed-width: where a line's record type code is (1-based), and each code's role
    record_type_start: int | None = None
    record_type_length: int | None = None
    record_types: tuple[tuple[str, str], ...] = ()

    @property
    def detail_record_type(self) -> str | None:
        return next((code for code, role in self.record_types if role == "detail"), None)


@dataclass(frozen=True)
class EntryValue:
    """An entry field taken from a column, or a constant."""

    column: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"column": self.column, "value": self.value}


@dataclass(frozen=True)
class EntryMapping:
    """How a configured source's raw rows become entries (read by stg_configured__entries)."""

    account: str
    entry_type: EntryValue
    amount_minor: str
    currency: EntryValue
    effective_at: str
    id: tuple[str, ...] = ()
    fee_minor: str | None = None
    direction: EntryValue | None = None
    status: EntryValue | None = None
    order_ref: str | None = None
    charge_ref: str | None = None
    payout_ref: str | None = None
    customer_email: str | None = None
    description: str | None = None
    metadata: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    name: str
    format: str  # one of FORMATS, a key of ingest.READERS
    raw_table: str
    default_account: str
    description: str
    fields: tuple[Field, ...] = field(default_factory=tuple)
    lowercase_currency: bool = False
    options: ReaderOptions = field(default_factory=ReaderOptions)
    entry: EntryMapping | None = None
    # the date or timestamp columns that date a record, the first given: a withdrawn currency
    # is accepted only on a record dated while it was legal tender
    record_date: tuple[str, ...] = ()
    config_file: Path | None = field(default=None, compare=False)

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    def field_of(self, column: str) -> Field:
        return next(f for f in self.fields if f.column == column)


# --- YAML ------------------------------------------------------------------------------------


class _ConfigLoader(yaml.SafeLoader):
    """YAML as a config author means it: only true/false are booleans (Y, N, on, off, yes and
    no stay text, as a bank's codes often are), and a date stays the text it was written as."""


_BOOL_TAG, _TIMESTAMP_TAG = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"
_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ConfigLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def display_path(path: Path) -> str:
    """A config file as errors show it: relative to the checkout when it is inside it."""
    try:
        return str(path.resolve().relative_to(CHECKOUT_ROOT))
    except ValueError:
        return str(path)


# --- checking --------------------------------------------------------------------------------

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# keys separated by dots, each with optional [index], [*] (every element) or [#] (its position)
_JSON_PATH = re.compile(r"^[^.\[\]\"']+(\[(\d+|\*|#)\])*(\.[^.\[\]\"']+(\[(\d+|\*|#)\])*)*$")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")

_TOP_KEYS = (
    "name", "format", "raw_table", "default_account", "description", "lowercase_currency", "options", "fields",
    "record_date", "entry",
)  # fmt: skip
_CAST_OPTION_KEYS = ("decimal_comma", "thousands_separator", "date_formats", "timestamp_formats", "time_zone")
_OPTION_KEYS = {
    "csv": ("delimiter", "quote_char", "encoding", "header_row", *_CAST_OPTION_KEYS),
    "json_list": ("array", *_CAST_OPTION_KEYS),
    "json_lines": ("encoding", "array", *_CAST_OPTION_KEYS),
    "fixed_width": ("encoding", "record_type", "record_types", *_CAST_OPTION_KEYS),
    **{name: _CAST_OPTION_KEYS for name in NAMED_FORMATS},
}
_FIELD_KEYS = (
    "column", "source_key", "type", "required", "non_negative", "required_with", "required_unless", "allowed",
    "joined_with", "formats", "thousands_separator", "decimal_comma", "time_zone", "trim", "case", "default", "map",
    "map_default", "regex", "units", "currency_field", "sign_from", "start", "length", "record_type", "expandable",
    "detect", "profile_formats", "null_values", "running_balance",
)  # fmt: skip
_ENTRY_KEYS = (
    "account", "id", "entry_type", "amount_minor", "fee_minor", "currency", "direction", "status", "effective_at",
    "order_ref", "charge_ref", "payout_ref", "customer_email", "description", "metadata",
)  # fmt: skip
_ENTRY_REFERENCES = ("order_ref", "charge_ref", "payout_ref", "customer_email", "description")


class _Checker:
    """Reads one config document, failing with the file and the key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> SourceConfigError:
        where = f"{display_path(self.path)}: {key}: " if key else f"{display_path(self.path)}: "
        return SourceConfigError(where + message)

    def mapping(self, value: Any, key: str, known: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping of keys to values, got {_shown(value)}")
        known = tuple(known)
        for name in value:
            if name not in known:
                raise self.fail(_join(key, str(name)), f"unknown key; use one of {', '.join(known)}")
        return value

    def text(self, value: Any, key: str, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not value and not empty):
            hint = "; quote it in the YAML" if isinstance(value, int | float) and not isinstance(value, bool) else ""
            raise self.fail(key, f"expected a{'' if empty else ' non-empty'} text, got {_shown(value)}{hint}")
        return value

    def name(self, value: Any, key: str) -> str:
        text = self.text(value, key)
        if not _NAME.match(text):
            raise self.fail(key, f"'{text}' is not a name of lower-case letters, digits and _ (starting with a letter)")
        return text

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_shown(value)}")
        return value

    def integer(self, value: Any, key: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"expected a whole number of at least {minimum}, got {_shown(value)}")
        return value

    def texts(self, value: Any, key: str, *, non_empty: bool = True) -> tuple[str, ...]:
        if not isinstance(value, list) or (non_empty and not value):
            raise self.fail(key, f"expected a{' non-empty' if non_empty else ''} list of texts, got {_shown(value)}")
        return tuple(self.text(item, f"{key}[{index}]") for index, item in enumerate(value))

    def character(self, value: Any, key: str) -> str:
        text = self.text(value, key)
        if len(text) != 1:
            raise self.fail(key, f"expected one character, got '{text}'")
        return text

    def choice(self, value: Any, key: str, choices: Iterable[str], what: str) -> str:
        choices = tuple(choices)
        if value not in choices:
            raise self.fail(key, f"unknown {what} {_shown(value)}; use one of {', '.join(choices)}")
        return value

    def time_zone(self, value: Any, key: str) -> str:
        text = self.text(value, key)
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, f"unknown time zone '{text}'; use an IANA name such as Europe/Berlin") from None
        return text

    def formats(self, value: Any, key: str) -> tuple[str, ...]:
        formats = self.texts(value, key)
        for index, fmt in enumerate(formats):
            if "%" not in fmt:
                raise self.fail(f"{key}[{index}]", f"'{fmt}' is not a strftime format (e.g. %d.%m.%Y)")
        return formats


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _regex(checker: _Checker, pattern: str, key: str) -> str:
    """Check a pattern compiles for Python (which finds its groups) and for polars (which runs
    it); return it."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise checker.fail(key, f"'{pattern}' is not a regular expression: {error}") from None
    try:
        pl.Series([""], dtype=pl.String).str.extract(pattern, 0)
    except pl.exceptions.ComputeError as error:
        reason = str(error).split("\n\n")[0].replace("\n", " ")
        raise checker.fail(key, f"'{pattern}' is not a regular expression polars can run: {reason}") from None
    return pattern


def regex_group_index(pattern: str) -> int:
    """The group a regex rule extracts: the one named `value`, else the first, else the match."""
    compiled = re.compile(pattern)
    if "value" in compiled.groupindex:
        return compiled.groupindex["value"]
    return 1 if compiled.groups else 0


def _options(checker: _Checker, raw: Any, source_format: str) -> tuple[ReaderOptions, dict[str, Any]]:
    """The reader options, and the cast defaults that apply to every field."""
    document = checker.mapping(raw if raw is not None else {}, "options", _OPTION_KEYS[source_format])
    options: dict[str, Any] = {}
    if "delimiter" in document:
        options["delimiter"] = checker.character(document["delimiter"], "options.delimiter")
    if "quote_char" in document:
        quote = document["quote_char"]
        options["quote_char"] = None if quote in (False, "") else checker.character(quote, "options.quote_char")
    if "encoding" in document:
        encoding = checker.text(document["encoding"], "options.encoding")
        try:
            "".encode(encoding)
        except LookupError:
            raise checker.fail("options.encoding", f"unknown encoding '{encoding}' (e.g. utf-8, latin-1)") from None
        options["encoding"] = encoding
    if "header_row" in document:
        options["header_row"] = checker.integer(document["header_row"], "options.header_row", 0)
    if "array" in document:
        array = checker.text(document["array"], "options.array")
        if not _JSON_PATH.match(array) or "[" in array:
            raise checker.fail("options.array", f"'{array}' is not a path to an array (e.g. lines, order.lines)")
        options["array"] = array
    if "record_type" in document:
        position = checker.mapping(document["record_type"], "options.record_type", ("start", "length"))
        for name in ("start", "length"):
            if name not in position:
                raise checker.fail(f"options.record_type.{name}", "missing")
        options["record_type_start"] = checker.integer(position["start"], "options.record_type.start", 1)
        options["record_type_length"] = checker.integer(position["length"], "options.record_type.length", 1)
    if "record_types" in document:
        if "record_type" not in document:
            raise checker.fail("options.record_types", "needs options.record_type (its start and length)")
        kinds = document["record_types"]
        if not isinstance(kinds, dict) or not kinds:
            raise checker.fail(
                "options.record_types", f"expected a mapping of record type codes to roles, got {_shown(kinds)}"
            )
        record_types = []
        for code, role in kinds.items():
            key = f"options.record_types.{code}"
            code = checker.text(code, key)
            if len(code) != options["record_type_length"]:
                raise checker.fail(key, f"the code '{code}' is not {options['record_type_length']} characters long")
            record_types.append((code, checker.choice(role, key, RECORD_ROLES, "record role")))
        if [role for _, role in record_types].count("detail") != 1:
            raise checker.fail("options.record_types", "declare exactly one detail record type (its lines become rows)")
        options["record_types"] = tuple(record_types)
    elif "record_type" in document:
        raise checker.fail("options.record_types", "missing (the role of each record type code)")
    defaults: dict[str, Any] = {}
    if "decimal_comma" in document:
        defaults["decimal_comma"] = checker.boolean(document["decimal_comma"], "options.decimal_comma")
    if "thousands_separator" in document:
        defaults["thousands_separator"] = checker.character(
            document["thousands_separator"], "options.thousands_separator"
        )
    if "date_formats" in document:
        defaults["date_formats"] = checker.formats(document["date_formats"], "options.date_formats")
    if "timestamp_formats" in document:
        defaults["timestamp_formats"] = checker.formats(document["timestamp_formats"], "options.timestamp_formats")
    if "time_zone" in document:
        defaults["time_zone"] = checker.time_zone(document["time_zone"], "options.time_zone")
    return ReaderOptions(**options), defaults


def _field(
    checker: _Checker, raw: Any, index: int, source_format: str, options: ReaderOptions, defaults: dict[str, Any]
) -> Field:
    key = f"fields[{index}]"
    document = checker.mapping(raw, key, _FIELD_KEYS)
    if "column" not in document:
        raise checker.fail(f"{key}.column", "missing (the raw table column the field is written to)")
    column = checker.name(document["column"], f"{key}.column")
    values: dict[str, Any] = {"column": column}
    field_type = document.get("type", "text")
    values["type"] = checker.choice(field_type, f"{key}.type", FIELD_TYPES, "type")
    fixed_width = source_format == "fixed_width"
    if fixed_width:
        if "source_key" in document:
            raise checker.fail(f"{key}.source_key", "a fixed_width field is read by start and length, not a key")
        for name in ("start", "length"):
            if name not in document:
                raise checker.fail(f"{key}.{name}", "missing (fixed_width fields are read by start and length)")
            values[name] = checker.integer(document[name], f"{key}.{name}", 1)
        values["source_key"] = column
        if "record_type" in document:
            code = checker.text(document["record_type"], f"{key}.record_type")
            roles = dict(options.record_types)
            if roles.get(code) not in ("header", "detail"):
                known = ", ".join(c for c, role in options.record_types if role != "trailer")
                raise checker.fail(
                    f"{key}.record_type",
                    f"'{code}' is not a header or detail record type of options.record_types"
                    + (f" ({known})" if known else ""),
                )
            values["record_type"] = None if roles[code] == "detail" else code
    else:
        for name in ("start", "length", "record_type"):
            if name in document:
                raise checker.fail(f"{key}.{name}", "only fields of a fixed_width source have positions")
        json_format = source_format in ("json_list", "json_lines")
        source_key = document.get("source_key", column)
        if isinstance(source_key, list) and json_format:
            paths = checker.texts(source_key, f"{key}.source_key")
            values["source_key"], values["fallback_keys"] = paths[0], paths[1:]
        else:
            values["source_key"] = checker.text(source_key, f"{key}.source_key")
        if json_format:
            for index, path in enumerate((values["source_key"], *values.get("fallback_keys", ()))):
                where = f"{key}.source_key" + (f"[{index}]" if isinstance(source_key, list) else "")
                _check_json_path(checker, path, where, options.array)
        if "expandable" in document:
            if not json_format:
                raise checker.fail(f"{key}.expandable", "applies to fields of a JSON source")
            values["expandable"] = checker.boolean(document["expandable"], f"{key}.expandable")
    for name in ("required", "non_negative", "decimal_comma"):
        if name in document:
            values[name] = checker.boolean(document[name], f"{key}.{name}")
    for name in ("required_with", "required_unless", "currency_field"):
        if name in document:
            values[name] = checker.name(document[name], f"{key}.{name}")
    for name in ("allowed", "joined_with"):
        if name in document:
            values[name] = checker.texts(document[name], f"{key}.{name}")
    if "formats" in document:
        values["formats"] = checker.formats(document["formats"], f"{key}.formats")
    if "detect" in document:
        values["detect"] = checker.choice(document["detect"], f"{key}.detect", DETECT_MODES, "detect mode")
    if "profile_formats" in document:
        values["profile_formats"] = _profile_formats(checker, document["profile_formats"], f"{key}.profile_formats")
    if "null_values" in document:
        values["null_values"] = checker.texts(document["null_values"], f"{key}.null_values")
    if "running_balance" in document:
        values["running_balance"] = _running_balance(checker, document["running_balance"], f"{key}.running_balance")
    if "thousands_separator" in document:
        values["thousands_separator"] = checker.character(document["thousands_separator"], f"{key}.thousands_separator")
    if "time_zone" in document:
        values["time_zone"] = checker.time_zone(document["time_zone"], f"{key}.time_zone")
    if "trim" in document:
        trim = document["trim"]
        values["trim"] = trim if isinstance(trim, bool) else checker.text(trim, f"{key}.trim")
    if "case" in document:
        values["case"] = checker.choice(document["case"], f"{key}.case", ("upper", "lower"), "case")
    for name in ("default", "map_default"):
        if name in document:
            values[name] = checker.text(document[name], f"{key}.{name}", empty=True)
    if "map" in document:
        mapping = document["map"]
        if not isinstance(mapping, dict) or not mapping:
            raise checker.fail(f"{key}.map", f"expected a mapping of values to what they mean, got {_shown(mapping)}")
        values["map"] = tuple(
            (
                checker.text(original, f"{key}.map.{original}", empty=True),
                checker.text(meaning, f"{key}.map.{original}", empty=True),
            )
            for original, meaning in mapping.items()
        )
    elif "map_default" in document:
        raise checker.fail(f"{key}.map_default", "needs a map")
    if "regex" in document:
        values["regex"] = _regex(checker, checker.text(document["regex"], f"{key}.regex"), f"{key}.regex")
    if "units" in document:
        values["units"] = checker.choice(document["units"], f"{key}.units", ("major", "minor"), "units")
    if "sign_from" in document:
        sign = checker.mapping(document["sign_from"], f"{key}.sign_from", ("field", "debit", "credit"))
        for name in ("field", "debit", "credit"):
            if name not in sign:
                raise checker.fail(f"{key}.sign_from.{name}", "missing")
        debit = checker.texts(sign["debit"], f"{key}.sign_from.debit")
        credit = checker.texts(sign["credit"], f"{key}.sign_from.credit")
        both = sorted(set(debit) & set(credit))
        if both:
            raise checker.fail(f"{key}.sign_from", f"'{both[0]}' is both a debit and a credit value")
        values["sign_from"] = SignFrom(checker.name(sign["field"], f"{key}.sign_from.field"), debit, credit)

    # the rules that only make sense for some types
    numeric = values["type"] in ("decimal", "integer")
    for name in ("decimal_comma", "thousands_separator", "sign_from"):
        if name in values and not numeric:
            raise checker.fail(f"{key}.{name}", f"applies to decimal and integer fields, not {values['type']}")
    if "time_zone" in values and values["type"] != "timestamp":
        raise checker.fail(
            f"{key}.time_zone", f"applies to timestamp fields, not {values['type']} (a utc_timestamp is UTC)"
        )
    if "formats" in values and values["type"] not in ("timestamp", "utc_timestamp", "date"):
        raise checker.fail(f"{key}.formats", f"applies to timestamp and date fields, not {values['type']}")
    if "units" in values:
        if values["type"] != "integer":
            raise checker.fail(f"{key}.units", "needs type: integer (the raw column holds minor units)")
        if values["units"] == "major" and "currency_field" not in values:
            raise checker.fail(f"{key}.currency_field", "missing (the column whose currency gives the minor units)")
    elif "currency_field" in values:
        raise checker.fail(f"{key}.currency_field", "applies to fields with units: major")

    # the source's cast defaults, for fields that do not set their own
    if numeric:
        for name in ("decimal_comma", "thousands_separator"):
            if name in defaults and name not in values:
                values[name] = defaults[name]
    if values["type"] == "date" and "formats" not in values and "date_formats" in defaults:
        values["formats"] = defaults["date_formats"]
    if values["type"] in ("timestamp", "utc_timestamp") and "formats" not in values and "timestamp_formats" in defaults:
        values["formats"] = defaults["timestamp_formats"]
    if values["type"] == "timestamp" and "time_zone" not in values and "time_zone" in defaults:
        values["time_zone"] = defaults["time_zone"]
    if "detect" in values and len(values.get("formats", ())) < 2:
        raise checker.fail(f"{key}.detect", "needs formats listing at least two formats a file may be written in")
    if "profile_formats" in values:
        if "detect" not in values:
            raise checker.fail(f"{key}.profile_formats", "applies to fields with detect: per_file")
        for profile, fmt in values["profile_formats"]:
            if fmt not in values["formats"]:
                raise checker.fail(
                    f"{key}.profile_formats.{profile}", f"'{fmt}' is not one of the field's formats"
                )
    if "running_balance" in values and not numeric:
        raise checker.fail(f"{key}.running_balance", f"applies to decimal and integer fields, not {values['type']}")
    if values.get("decimal_comma") and values.get("thousands_separator") == ",":
        raise checker.fail(f"{key}.thousands_separator", "',' cannot separate thousands in a decimal_comma number")
    return Field(**values)


def _profile_formats(checker: _Checker, raw: Any, key: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not raw:
        raise checker.fail(key, f"expected a mapping of profiles to the format of their files, got {_shown(raw)}")
    return tuple(
        (checker.name(profile, f"{key}.{profile}"), checker.text(fmt, f"{key}.{profile}"))
        for profile, fmt in raw.items()
    )


def _running_balance(checker: _Checker, raw: Any, key: str) -> RunningBalance:
    document = checker.mapping(raw, key, ("amount", "per", "skip_when"))
    if "amount" not in document:
        raise checker.fail(f"{key}.amount", "missing (the column of the amount that moves the balance)")
    skip_field, skip_values = None, ()
    if "skip_when" in document:
        skip = checker.mapping(document["skip_when"], f"{key}.skip_when", ("field", "values"))
        for name in ("field", "values"):
            if name not in skip:
                raise checker.fail(f"{key}.skip_when.{name}", "missing")
        skip_field = checker.name(skip["field"], f"{key}.skip_when.field")
        skip_values = checker.texts(skip["values"], f"{key}.skip_when.values")
    return RunningBalance(
        amount=checker.name(document["amount"], f"{key}.amount"),
        per=checker.name(document["per"], f"{key}.per") if "per" in document else None,
        skip_field=skip_field,
        skip_values=skip_values,
    )


def _check_json_path(checker: _Checker, path: str, key: str, array: str | None) -> None:
    if not _JSON_PATH.match(path):
        raise checker.fail(key, f"'{path}' is not a JSON path (e.g. id, customer.email, lines[0].amount)")
    if "[*]" in path or "[#]" in path:
        if array is None:
            raise checker.fail(key, f"'{path}' reads array elements; set options.array to the array to explode")
        if not (path.startswith(f"{array}[*]") or path == f"{array}[#]") or path.count("[*]") > 1:
            raise checker.fail(
                key,
                f"'{path}' must start with {array}[*] (an element of options.array) or be {array}[#] (its position)",
            )


def _cross_check_fields(checker: _Checker, fields: tuple[Field, ...]) -> None:
    by_column = {f.column: f for f in fields}
    source_keys = [f.source_key for f in fields]
    columns = [f.column for f in fields]
    for index, f in enumerate(fields):
        key = f"fields[{index}]"
        if columns.index(f.column) != index:
            raise checker.fail(f"{key}.column", f"'{f.column}' is declared twice")
        if source_keys.count(f.source_key) > 1:
            raise checker.fail(f"{key}.source_key", f"'{f.source_key}' is read by two fields")
        for name in ("required_with", "required_unless", "currency_field"):
            other = getattr(f, name)
            if other is not None and (other not in by_column or other == f.column):
                raise checker.fail(f"{key}.{name}", f"'{other}' is not another declared column")
        if f.currency_field and by_column[f.currency_field].type != "currency":
            raise checker.fail(f"{key}.currency_field", f"'{f.currency_field}' is not a field of type currency")
        for position, joined in enumerate(f.joined_with):
            if joined not in source_keys or joined == f.source_key:
                raise checker.fail(f"{key}.joined_with[{position}]", f"'{joined}' is not another field's source_key")
        if f.sign_from is not None:
            other = f.sign_from.field
            if other not in by_column or other == f.column:
                raise checker.fail(f"{key}.sign_from.field", f"'{other}' is not another declared column")
            if by_column[other].type != "text":
                raise checker.fail(
                    f"{key}.sign_from.field", f"'{other}' must be a text field (its values say the side)"
                )
        if f.running_balance is not None:
            balance = f.running_balance
            others = (("amount", balance.amount), ("per", balance.per), ("skip_when.field", balance.skip_field))
            for name, other in others:
                if other is not None and (other not in by_column or other == f.column):
                    raise checker.fail(f"{key}.running_balance.{name}", f"'{other}' is not another declared column")
            if by_column[balance.amount].type != f.type:
                raise checker.fail(
                    f"{key}.running_balance.amount",
                    f"'{balance.amount}' is of type {by_column[balance.amount].type}; it must be {f.type}, "
                    "as the balance is",
                )


_DATE_TYPES = ("date", "timestamp", "utc_timestamp", "unix_timestamp")


def _record_date(checker: _Checker, raw: Any, fields: tuple[Field, ...]) -> tuple[str, ...]:
    """The `record_date` columns: one, or a list tried in order; each a date or timestamp field."""
    if raw is None:
        return ()
    columns = checker.texts(raw if isinstance(raw, list) else [raw], "record_date")
    by_column = {f.column: f for f in fields}
    for index, column in enumerate(columns):
        key = f"record_date[{index}]" if isinstance(raw, list) else "record_date"
        if column not in by_column:
            raise checker.fail(key, f"'{column}' is not a declared column")
        if by_column[column].type not in _DATE_TYPES:
            kind = by_column[column].type
            raise checker.fail(key, f"column '{column}' is of type {kind}; it must be one of {', '.join(_DATE_TYPES)}")
    return columns


def _entry_value(checker: _Checker, raw: Any, key: str, columns: dict[str, Field]) -> EntryValue:
    if isinstance(raw, dict):
        value = checker.mapping(raw, key, ("value",))
        if "value" not in value:
            raise checker.fail(f"{key}.value", "missing")
        return EntryValue(value=checker.text(value["value"], f"{key}.value"))
    return EntryValue(column=_entry_column(checker, raw, key, columns))


def _entry_column(checker: _Checker, raw: Any, key: str, columns: dict[str, Field]) -> str:
    if not isinstance(raw, str):
        raise checker.fail(key, f"expected a column name, got {_shown(raw)}")
    if raw not in columns:
        raise checker.fail(key, f"unknown column '{raw}'; declared columns: {', '.join(columns)}")
    return raw


def _entry(checker: _Checker, raw: Any, source: Source) -> EntryMapping:
    document = checker.mapping(raw, "entry", _ENTRY_KEYS)
    columns = {f.column: f for f in source.fields}
    for name in ("entry_type", "amount_minor", "currency", "effective_at"):
        if name not in document:
            raise checker.fail(f"entry.{name}", "missing")

    def column(name: str, types: tuple[str, ...] | None = None, required: bool = False) -> str:
        key = f"entry.{name}"
        chosen = _entry_column(checker, document[name], key, columns)
        f = columns[chosen]
        if types and f.type not in types:
            raise checker.fail(key, f"column '{chosen}' is of type {f.type}; it must be {' or '.join(types)}")
        if required and not f.required and f.default is None:
            raise checker.fail(key, f"column '{chosen}' must be required: true (every entry needs one)")
        return chosen

    def required_value(name: str, types: tuple[str, ...]) -> EntryValue:
        value = _entry_value(checker, document[name], f"entry.{name}", columns)
        if value.column is not None:
            column(name, types, required=True)
        return value

    account = document.get("account", source.default_account)
    account = checker.name(account, "entry.account") if account else ""
    if not account:
        raise checker.fail("entry.account", "missing, and the source has no default_account")
    currency = required_value("currency", ("currency",))
    if currency.value is not None and not _CURRENCY_CODE.match(currency.value):
        raise checker.fail("entry.currency.value", f"'{currency.value}' is not an ISO 4217 code such as EUR")
    direction = None
    if "direction" in document:
        direction = required_value("direction", ("text",))
        if direction.value is not None and direction.value not in DIRECTIONS:
            raise checker.fail("entry.direction.value", f"'{direction.value}' is neither DEBIT nor CREDIT")
        if direction.column is not None:
            f = columns[direction.column]
            meanings = set(f.allowed) or {meaning for _, meaning in f.map} | (
                {f.map_default} if f.map_default is not None else set()
            )
            if not meanings or not meanings <= set(DIRECTIONS):
                raise checker.fail(
                    "entry.direction",
                    f"column '{direction.column}' must only hold DEBIT or CREDIT: give it allowed: [DEBIT, CREDIT] "
                    "or a map to those values",
                )
    ids: tuple[str, ...] = ()
    if "id" in document:
        raw_ids = document["id"] if isinstance(document["id"], list) else [document["id"]]
        if not raw_ids:
            raise checker.fail("entry.id", "expected a column name or a list of them, got an empty list")
        ids = tuple(_entry_column(checker, item, f"entry.id[{i}]", columns) for i, item in enumerate(raw_ids))
        for position, chosen in enumerate(ids):
            if not columns[chosen].required and columns[chosen].default is None:
                raise checker.fail(f"entry.id[{position}]", f"column '{chosen}' must be required: true")
    elif source.options.array:
        raise checker.fail(
            "entry.id",
            f"missing: the rows of one record of an exploded array share its line; name the columns that "
            f"identify a row (e.g. [order_id, line]) with a field reading {source.options.array}[#]",
        )
    status = _entry_value(checker, document["status"], "entry.status", columns) if "status" in document else None
    metadata: tuple[str, ...] = ()
    if "metadata" in document:
        listed = checker.texts(document["metadata"], "entry.metadata")
        metadata = tuple(_entry_column(checker, item, f"entry.metadata[{i}]", columns) for i, item in enumerate(listed))
    return EntryMapping(
        account=account,
        entry_type=_entry_value(checker, document["entry_type"], "entry.entry_type", columns),
        amount_minor=column("amount_minor", ("integer",), required=True),
        currency=currency,
        effective_at=column("effective_at", ("timestamp", "utc_timestamp", "unix_timestamp", "date"), required=True),
        id=ids,
        fee_minor=column("fee_minor", ("integer",)) if "fee_minor" in document else None,
        direction=direction,
        status=status,
        metadata=metadata,
        **{name: column(name) for name in _ENTRY_REFERENCES if name in document},
    )


def parse_source(document: Any, path: Path) -> Source:
    """A Source from one parsed config document; SourceConfigError names the file and key."""
    checker = _Checker(path)
    if document is None:
        raise checker.fail("", "empty file; a source config declares at least name, format and fields")
    document = checker.mapping(document, "", _TOP_KEYS)
    for name in ("name", "format", "fields"):
        if name not in document:
            raise checker.fail(name, "missing")
    name = checker.name(document["name"], "name")
    if name != path.stem:
        raise checker.fail("name", f"'{name}' differs from the file name '{path.name}'; name the file {name}.yml")
    source_format = checker.choice(document["format"], "format", FORMATS, "format")
    raw_table = checker.name(document.get("raw_table", name), "raw_table")
    default_account = document.get("default_account", "")
    default_account = checker.name(default_account, "default_account") if default_account != "" else ""
    description = checker.text(document.get("description", name), "description")
    lowercase_currency = checker.boolean(document.get("lowercase_currency", False), "lowercase_currency")
    options, defaults = _options(checker, document.get("options"), source_format)
    raw_fields = document["fields"]
    if not isinstance(raw_fields, list) or not raw_fields:
        raise checker.fail("fields", f"expected a non-empty list of fields, got {_shown(raw_fields)}")
    fields = tuple(
        _field(checker, raw, index, source_format, options, defaults) for index, raw in enumerate(raw_fields)
    )
    _cross_check_fields(checker, fields)
    record_date = _record_date(checker, document.get("record_date"), fields)
    source = Source(
        name=name,
        format=source_format,
        raw_table=raw_table,
        default_account=default_account,
        description=description,
        fields=fields,
        lowercase_currency=lowercase_currency,
        options=options,
        record_date=record_date,
        config_file=path,
    )
    if "entry" in document:
        if source_format not in GENERIC_FORMATS:
            raise checker.fail("entry", f"a {source_format} source has a staging model of its own; entry is for csv, "
                               "json_list, json_lines and fixed_width sources")  # fmt: skip
        source = replace(source, entry=_entry(checker, document["entry"], source))
    return source


def load_source_file(path: Path) -> Source:
    """The source one config file declares."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceConfigError(f"{display_path(path)}: cannot be read: {error}") from None
    try:
        document = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        raise SourceConfigError(f"{display_path(path)}: not valid YAML: {error}") from None
    return parse_source(document, path)


def source_directories() -> list[Path]:
    """Where source configs are read from: the built-in directory, then RECON_SOURCES_DIR's."""
    extra = os.environ.get(SOURCES_DIR_VARIABLE, "")
    return [BUILT_IN_SOURCES_DIR, *(Path(part).expanduser() for part in extra.split(os.pathsep) if part.strip())]


def load_sources(directories: Iterable[Path]) -> dict[str, Source]:
    """Every source configured in the directories (*.yml and *.yaml), by name."""
    sources: dict[str, Source] = {}
    tables: dict[str, Source] = {}
    for directory in directories:
        if not directory.is_dir():
            raise SourceConfigError(f"{directory}: no such directory of source configs (from {SOURCES_DIR_VARIABLE})")
        for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
            source = load_source_file(path)
            for known, value, what in ((sources, source.name, "name"), (tables, source.raw_table, "raw_table")):
                if value in known:
                    other = known[value].config_file
                    raise SourceConfigError(
                        f"{display_path(path)}: {what}: '{value}' is already the {what} of "
                        f"{display_path(other) if other else 'a built-in source'}"
                    )
            sources[source.name] = source
            tables[source.raw_table] = source
    return sources


# --- what dbt reads --------------------------------------------------------------------------

CONFIGURED_DBT_SOURCE = "raw_configured"


def dbt_payload(sources: Iterable[Source]) -> list[dict[str, Any]]:
    """The sources with an `entry:` block, as stg_configured__entries reads them."""
    payload = []
    for source in sorted(sources, key=lambda s: s.name):
        entry = source.entry
        if entry is None:
            continue
        effective_type = source.field_of(entry.effective_at).type
        payload.append(
            {
                "name": source.name,
                "raw_table": source.raw_table,
                "exploded": source.options.array is not None,
                "account": entry.account,
                "id": list(entry.id),
                "entry_type": entry.entry_type.as_dict(),
                "amount_minor": entry.amount_minor,
                "fee_minor": entry.fee_minor,
                "currency": entry.currency.as_dict(),
                "direction": entry.direction.as_dict() if entry.direction else None,
                "status": entry.status.as_dict() if entry.status else None,
                "effective_at": entry.effective_at,
                "effective_at_is_date": effective_type == "date",
                **{name: getattr(entry, name) for name in _ENTRY_REFERENCES},
                "metadata": list(entry.metadata),
            }
        )
    return payload


def dbt_files(sources: Iterable[Source]) -> dict[str, str]:
    """The files dbt reads the configured sources from, by path below the home's dbt directory:
    the sources' declarations (so the staging model reads them with source(), and Dagster sees
    the raw tables upstream of it) and a macro returning how each maps to entries."""
    payload = dbt_payload(sources)
    declarations = {
        "version": 2,
        "sources": [
            {
                "name": CONFIGURED_DBT_SOURCE,
                "schema": "raw",
                "description": "Raw tables of the sources configured with an entry block (written by recon).",
                "tables": [
                    {"name": item["raw_table"], "description": f"Raw rows of the configured source {item['name']}."}
                    for item in payload
                ],
            }
        ]
        if payload
        else [],
    }
    header = "# Written by recon from the source configs (dagster_project/lib/source_configs.py); do not edit.\n"
    # the JSON goes into a single-quoted Jinja string: a quote becomes a JSON escape, and Jinja's
    # own unescaping gets back every backslash
    literal = json.dumps(payload, sort_keys=True).replace("'", "\\u0027").replace("\\", "\\\\")
    macro = (
        "{#- Written by recon from the source configs (dagster_project/lib/source_configs.py); do not edit. -#}\n"
        "{% macro configured_entry_sources() -%}\n"
        f"    {{{{ return(fromjson('{literal}')) }}}}\n"
        "{%- endmacro %}\n"
    )
    return {
        "models/_configured__sources.yml": header + yaml.safe_dump(declarations, sort_keys=False),
        "macros/configured_entry_sources.sql": macro,
    }


def write_dbt_files(directory: Path, sources: Iterable[Source]) -> bool:
    """Write the files dbt reads the configured sources from; True when one changed (only
    changed files are written, so the manifest is re-parsed only when it must be)."""
    changed = False
    for relative, content in dbt_files(sources).items():
        target = directory / relative
        if target.exists() and target.read_text() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # one partial file per process: two processes may write the same home at once
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.write_text(content)
        partial.replace(target)
        changed = True
    return changed
