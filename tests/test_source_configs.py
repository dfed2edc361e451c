"""Sources declared by configuration alone: one YAML file per source, checked when it is loaded (an
error names the file and the key), read by the generic readers (CSV with its dialect, JSON Lines
and JSON lists with nested paths and exploded arrays, fixed-width records) with the field rules
applied in order, and, with an `entry:` block, staged as entries and reconciled end to end."""

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dagster_project.lib.sources as sources_module
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, ensure_raw_schema, ingest_file, parse_file
from dagster_project.lib.source_configs import (
    BUILT_IN_SOURCES_DIR,
    SOURCES_DIR_VARIABLE,
    Source,
    SourceConfigError,
    dbt_files,
    display_path,
    load_source_file,
    load_sources,
)
from dagster_project.lib.warehouse import connect
from tests.conftest import recon
from tests.test_parsers_fuzz import _mutate, _mutations

# A German bank's CSV export: semicolons, decimal commas, Latin-1, two lines before the header,
# dd.mm.yyyy dates in Berlin time, unsigned amounts whose side (S debit, H credit) is a column
HAUSBANK_CONFIG = r"""
# Hausbank's account statement export (Umsätze > Export > CSV)
name: hausbank
format: csv
default_account: bank
description: Hausbank account statement (CSV export)
options:
  delimiter: ";"
  encoding: latin-1
  header_row: 2
  decimal_comma: true
  thousands_separator: "."
  date_formats: ["%d.%m.%Y"]
  time_zone: Europe/Berlin
fields:
  - {column: booking_date, source_key: Buchungstag, type: date, required: true}
  - {column: booked_at, source_key: Buchungszeit, type: timestamp, formats: ["%d.%m.%Y %H:%M"]}
  - {column: reference, source_key: Referenz, required: true}
  - {column: side, source_key: S/H, required: true, case: upper, map: {S: DBIT, H: CRDT}}
  - {column: kind, source_key: Art, map: {UEB: transfer, LAS: direct_debit}, map_default: other}
  - {column: order_ref, source_key: Verwendungszweck, regex: '(?P<value>ORD-\d+)'}
  - {column: purpose, source_key: Verwendungszweck2}
  - {column: currency, source_key: Währung, type: currency, required: true, default: EUR}
  - column: amount_minor
    source_key: Betrag
    type: integer
    required: true
    units: major
    currency_field: currency
    sign_from: {field: side, debit: [DBIT], credit: [CRDT]}
entry:
  id: reference
  entry_type: kind
  amount_minor: amount_minor
  currency: currency
  effective_at: booking_date
  order_ref: order_ref
  description: purpose
  metadata: [side, booked_at]
"""

HAUSBANK_EXPORT = (
    "Kontoauszug Hausbank;;;;;;;;\n"
    "Konto DE89 3704 0044 0532 0130 00;;;;;;;;\n"
    "Buchungstag;Buchungszeit;Referenz;S/H;Art;Verwendungszweck;Verwendungszweck2;Währung;Betrag\n"
    "03.11.2026;03.11.2026 09:15;R1;H;UEB;Zahlung ORD-1001 Müller;Überweisung Müller;EUR;1.234,56\n"
    "03.11.2026;;R2; s ;LAS;Gebühr;Kontoführung;;12,5\n"
    "04.11.2026;;R3;X;UEB;ORD-1003;;EUR;7,00\n"
    "04.11.2026;;R4;H;ZZZ;;;EUR;1,234\n"
    "29.03.2026;29.03.2026 02:30;R5;H;UEB;;;EUR;1,00\n"
    "04.11.2026;;R6;S;UEB;;;EUR;-3,00\n"
    "04.11.2026;;R7;H;UEB;ORD-1007;;JPY;1.500\n"
)


def _config(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _parse(path: Path, source: Source) -> tuple[list[dict], list[tuple], int]:
    passed, quarantined, rows_read = parse_file(
        path, source, profile_id="acme_eu", file_id="f", ingested_at=datetime(2026, 11, 5)
    )
    rows = passed.drop("_profile_id", "_file_id", "_source_file", "_ingested_at", "_raw_hash").to_dicts()
    return rows, quarantined.select("_source_row", "field", "reason").rows(), rows_read


# --- a config error names the file and the key ----------------------------------------------------

MINIMAL = """
name: {name}
format: csv
fields:
  - {{column: reference, source_key: Ref, required: true}}
  - {{column: amount, source_key: Amount, type: decimal}}
"""

ENTRY = (
    "format: csv\nentry: {{account: bank, entry_type: {{value: x}}, currency: {{value: EUR}}, effective_at: amount, "
    "amount_minor: {amount}}}"
)


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (("format: csv", "formt: csv"), "formt", "unknown key; use one of name, format, raw_table"),
        (("format: csv", "format: xlsx"), "format", "unknown format 'xlsx'; use one of csv, json_list, json_lines"),
        (("type: decimal", "type: decmal"), "fields[1].type", "unknown type 'decmal'; use one of text, decimal"),
        (("required: true", "required: yes"), "fields[0].required", "expected true or false, got 'yes'"),
        (("required: true", "requird: true"), "fields[0].requird", "unknown key; use one of column, source_key"),
        (("column: reference, ", ""), "fields[0].column", "missing (the raw table column the field is written to)"),
        (("format: csv\n", ""), "format", "missing"),
        (("type: decimal", 'regex: "(ORD-"'), "fields[1].regex", "'(ORD-' is not a regular expression"),
        (("type: decimal", 'regex: "(?<=ORD-)\\\\d+"'), "fields[1].regex", "not a regular expression polars can run"),
        (("type: decimal", "map: [C, D]"), "fields[1].map", "expected a mapping of values to what they mean"),
        (("type: decimal", "map: {1: CRDT}"), "fields[1].map.1", "expected a text, got 1; quote it in the YAML"),
        (("format: csv", "format: csv\noptions: {array: lines}"), "options.array", "unknown key; use one of delimiter"),
        (("format: csv", "format: csv\noptions: {time_zone: Europe/Berlinn}"), "options.time_zone",
         "unknown time zone 'Europe/Berlinn'"),
        (("format: csv", "format: csv\noptions: {encoding: latin-9000}"), "options.encoding",
         "unknown encoding 'latin-9000'"),
        (("type: decimal", "type: decimal, units: major"), "fields[1].units", "needs type: integer"),
        (("type: decimal", "type: decimal, sign_from: {field: nope, debit: [D], credit: [C]}"),
         "fields[1].sign_from.field", "'nope' is not another declared column"),
        (("name: my_source", "name: other_name"), "name", "'other_name' differs from the file name"),
        (("format: csv", "format: csv\nentry: {amount_minor: amount}"), "entry.entry_type", "missing"),
        (("format: csv", ENTRY.format(amount="amont")), "entry.amount_minor",
         "unknown column 'amont'; declared columns: reference, amount"),
        (("format: csv", ENTRY.format(amount="amount")), "entry.amount_minor",
         "column 'amount' is of type decimal; it must be integer"),
    ],
)  # fmt: skip
def test_a_config_error_names_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], key: str, message: str
) -> None:
    text = MINIMAL.format(name="my_source").replace(*change)
    path = _config(tmp_path, "my_source", text)
    with pytest.raises(SourceConfigError) as raised:
        load_source_file(path)
    assert str(raised.value).startswith(f"{path}: {key}: "), raised.value
    assert message in str(raised.value), raised.value


def test_yaml_errors_and_clashes_name_the_file(tmp_path: Path) -> None:
    broken = _config(tmp_path / "a", "broken", "name: broken\nfields: [\n")
    with pytest.raises(SourceConfigError, match=rf"^{broken}: not valid YAML"):
        load_source_file(broken)
    broken.unlink()
    _config(tmp_path / "a", "my_source", MINIMAL.format(name="my_source"))
    clash = _config(tmp_path / "b", "shopify_orders", MINIMAL.format(name="shopify_orders"))
    with pytest.raises(SourceConfigError, match=rf"^{clash}: name: 'shopify_orders' is already the name of "):
        load_sources([BUILT_IN_SOURCES_DIR, tmp_path / "a", tmp_path / "b"])
    with pytest.raises(SourceConfigError, match=f"no such directory of source configs \\(from {SOURCES_DIR_VARIABLE}"):
        load_sources([tmp_path / "missing"])
    # inside the checkout a file is named from its root, as the README and reviews name it
    assert display_path(BUILT_IN_SOURCES_DIR / "shopify_orders.yml") == "dagster_project/sources/shopify_orders.yml"


def test_yaml_reads_codes_as_text_not_booleans_or_dates(tmp_path: Path) -> None:
    text = MINIMAL.format(name="codes").replace(
        "type: decimal", "map: {Y: CRDT, N: DBIT, on: x, off: y}, default: 2026-11-03"
    )
    source = load_source_file(_config(tmp_path, "codes", text))
    assert dict(source.fields[1].map) == {"Y": "CRDT", "N": "DBIT", "on": "x", "off": "y"}
    assert source.fields[1].default == "2026-11-03"


def test_every_built_in_source_is_one_config_file() -> None:
    assert sorted(sources_module.SOURCES) == sorted(path.stem for path in BUILT_IN_SOURCES_DIR.glob("*.yml"))
    assert all(source.entry is None for source in sources_module.SOURCES.values())
    # the constants the code uses are read from the configs
    assert sources_module.PAYPAL_DATE_FORMAT == "%m/%d/%Y"
    assert sources_module.SHOPIFY_ORDERS is sources_module.SOURCES["shopify_orders"]


def test_a_broken_config_stops_recon_with_the_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "sources"
    path = _config(directory, "my_source", MINIMAL.format(name="my_source").replace("type: decimal", "type: decmal"))
    monkeypatch.setenv(SOURCES_DIR_VARIABLE, str(directory))
    completed = recon(tmp_path / "home", "sources", check=False)
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"error: {path}: fields[1].type: unknown type 'decmal'; use one of text,")


# --- a CSV source by config alone ------------------------------------------------------------


@pytest.fixture
def hausbank(tmp_path: Path) -> Source:
    return load_source_file(_config(tmp_path / "sources", "hausbank", HAUSBANK_CONFIG))


def test_a_configured_csv_source_reads_its_dialect_and_applies_its_rules(hausbank: Source, tmp_path: Path) -> None:
    path = tmp_path / "umsaetze.csv"
    path.write_bytes(HAUSBANK_EXPORT.encode("latin-1"))
    rows, quarantined, rows_read = _parse(path, hausbank)
    assert rows == [
        {
            "booking_date": date(2026, 11, 3),
            "booked_at": datetime(2026, 11, 3, 8, 15),  # 09:15 in Berlin
            "reference": "R1",
            "side": "CRDT",
            "kind": "transfer",
            "order_ref": "ORD-1001",
            "purpose": "Überweisung Müller",
            "currency": "EUR",
            "amount_minor": 123456,
            "_source_row": 4,
        },
        {
            "booking_date": date(2026, 11, 3),
            "booked_at": None,
            "reference": "R2",
            "side": "DBIT",  # ' s ' trimmed and upper-cased before it is mapped
            "kind": "direct_debit",
            "order_ref": None,  # no match: not required, so empty
            "purpose": "Kontoführung",
            "currency": "EUR",  # the default
            "amount_minor": -1250,  # a debit
            "_source_row": 5,
        },
        {
            "booking_date": date(2026, 11, 4),
            "booked_at": None,
            "reference": "R7",
            "side": "CRDT",
            "kind": "transfer",
            "order_ref": "ORD-1007",
            "purpose": None,
            "currency": "JPY",
            "amount_minor": 1500,  # yen have no minor units; '.' separates thousands
            "_source_row": 10,
        },
    ]
    assert quarantined == [
        (6, "S/H", "field 'S/H': 'X' is not one of the mapped values S, H"),
        (7, "Betrag", "field 'Betrag': '1,234' has more decimal places than EUR has (2)"),
        (
            8,
            "Buchungszeit",
            # the hour clocks skip in Berlin does not exist
            "field 'Buchungszeit': '29.03.2026 02:30' is not a timestamp (DD.MM.YYYY HH:MM, Europe/Berlin time)",
        ),
        (9, "Betrag", "field 'Betrag': '-3,00' must be unsigned: its sign comes from field 'S/H'"),
    ]
    assert rows_read == 7


def test_a_configured_source_loads_into_its_raw_table(
    hausbank: Source, home: ReconHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sources_module.SOURCES, "hausbank", hausbank)
    path = tmp_path / "umsaetze.csv"
    path.write_bytes(HAUSBANK_EXPORT.encode("latin-1"))
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "hausbank", "acme_eu")
        loaded = connection.sql(
            "select reference, amount_minor, booking_date from raw.hausbank order by _source_row"
        ).fetchall()
        types = dict(
            connection.sql(
                "select column_name, data_type from information_schema.columns where table_name = 'hausbank'"
            ).fetchall()
        )
        quarantined = connection.sql("select source_row, field from raw.quarantine order by 1").fetchall()
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 3, 4)
    assert loaded == [
        ("R1", 123456, date(2026, 11, 3)),
        ("R2", -1250, date(2026, 11, 3)),
        ("R7", 1500, date(2026, 11, 4)),
    ]
    assert (types["amount_minor"], types["booking_date"], types["booked_at"]) == ("BIGINT", "DATE", "TIMESTAMP")
    assert quarantined == [(6, "S/H"), (7, "Betrag"), (8, "Buchungszeit"), (9, "Betrag")]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8"])
def test_a_csv_source_reads_its_encoding(tmp_path: Path, encoding: str) -> None:
    text = f"""
name: payments
format: csv
options: {{encoding: {encoding}, delimiter: "|", quote_char: "'"}}
fields:
  - {{column: payer, source_key: Payer, required: true}}
  - {{column: amount, source_key: Amount, type: decimal, required: true}}
"""
    source = load_source_file(_config(tmp_path, "payments", text))
    path = tmp_path / "payments.csv"
    path.write_bytes("Payer|Amount\n'Œuvre | Co €'|12.50\nZoë|3\n".encode(encoding))
    rows, quarantined, _ = _parse(path, source)
    assert [(row["payer"], row["amount"]) for row in rows] == [("Œuvre | Co €", Decimal("12.5")), ("Zoë", Decimal(3))]
    assert quarantined == []


def test_a_file_not_in_the_declared_encoding_is_rejected(tmp_path: Path) -> None:
    text = "name: payments\nformat: csv\nfields: [{column: payer, source_key: Payer}]\n"
    source = load_source_file(_config(tmp_path, "payments", text))
    path = tmp_path / "payments.csv"
    path.write_bytes("Payer\nZo\xeb\n".encode("latin-1"))
    message = r"payments.csv: line 2 is not UTF-8 text \(invalid continuation byte at byte 8\)"
    with pytest.raises(FileRejected, match=message):
        _parse(path, source)


# --- JSON Lines and JSON lists: nested paths, exploded arrays ---------------------------------------

ORDERS_CONFIG = """
name: shop_orders
format: json_lines
default_account: shopify_receivable
options: {array: lines}
fields:
  - {column: order_id, source_key: id, required: true}
  - {column: customer_email, source_key: customer.email, case: lower}
  - {column: first_tag, source_key: "tags[0]"}
  - {column: line, source_key: "lines[#]", type: integer, required: true}
  - {column: sku, source_key: "lines[*].sku", required: true}
  - {column: amount_minor, source_key: "lines[*].price", type: integer, units: major, currency_field: currency,
     required: true}
  - {column: currency, source_key: currency, type: currency, required: true, case: upper}
  - {column: created_at, source_key: created_at, type: utc_timestamp, required: true}
entry:
  id: [order_id, line]
  entry_type: {value: order_line}
  amount_minor: amount_minor
  currency: currency
  direction: {value: DEBIT}
  effective_at: created_at
  order_ref: order_id
  customer_email: customer_email
"""

ORDERS_JSONL = """\
{"id": "#1001", "customer": {"email": "Ada@Example.com"}, "tags": ["vip", "eu"], "currency": "eur", \
"created_at": "2026-11-03T10:00:00Z", "lines": [{"sku": "A", "price": "12.50"}, {"sku": "B", "price": 3}]}

{"id": "#1002", "customer": null, "currency": "JPY", "created_at": "2026-11-03 11:00:00", \
"lines": [{"sku": "C", "price": "1500"}]}
{"id": "#1003", "currency": "EUR", "created_at": "2026-11-03 11:00:00", "lines": []}
{"id": "#1004", "currency": "EUR", "created_at": "2026-11-03 11:00:00", "lines": [{"sku": "D"
[1, 2]
{"id": "#1005", "currency": "EUR", "created_at": "2026-11-03 11:00:00", \
"lines": [{"sku": "E", "price": "1.234"}, {"price": "2"}]}
"""


def test_json_lines_with_nested_paths_and_an_exploded_array(tmp_path: Path) -> None:
    source = load_source_file(_config(tmp_path, "shop_orders", ORDERS_CONFIG))
    path = tmp_path / "orders.jsonl"
    path.write_text(ORDERS_JSONL)
    rows, quarantined, rows_read = _parse(path, source)
    common = {"order_id": "#1001", "customer_email": "ada@example.com", "first_tag": "vip", "currency": "EUR"}
    at_ten = datetime(2026, 11, 3, 10)
    assert rows == [
        {**common, "line": 1, "sku": "A", "amount_minor": 1250, "created_at": at_ten, "_source_row": 1},
        {**common, "line": 2, "sku": "B", "amount_minor": 300, "created_at": at_ten, "_source_row": 1},
        {
            "order_id": "#1002", "customer_email": None, "first_tag": None, "line": 1, "sku": "C",
            "amount_minor": 1500, "currency": "JPY", "created_at": datetime(2026, 11, 3, 11), "_source_row": 3,
        },
    ]  # fmt: skip
    assert quarantined == [
        (4, "lines", "field 'lines': not a list with at least one element (each element is a row)"),
        (5, None, "line 5: not valid JSON (one JSON object per line)"),
        (6, None, "line 6: not a JSON object (one JSON object per line)"),
        (7, "lines[*].price", "lines[1]: field 'lines[*].price': '1.234' has more decimal places than EUR has (2)"),
        (7, "lines[*].sku", "lines[2]: field 'lines[*].sku' is required"),
    ]
    assert rows_read == len(rows) + len(quarantined)


def test_a_json_list_reads_nested_paths(tmp_path: Path) -> None:
    text = """
name: refunds
format: json_list
options: {array: items}
fields:
  - {column: refund_id, source_key: id, required: true}
  - {column: customer, source_key: "customer.name"}
  - {column: first_item, source_key: "items[0].sku"}
  - {column: sku, source_key: "items[*].sku", required: true}
  - {column: quantity, source_key: "items[*].quantity", type: integer, default: "1"}
"""
    source = load_source_file(_config(tmp_path, "refunds", text))
    path = tmp_path / "refunds.json"
    document = {
        "object": "list",
        "data": [
            {"id": "re_1", "customer": {"name": "Ada"}, "items": [{"sku": "A", "quantity": 2}, {"sku": "B"}]},
            {"id": "re_2", "items": [{"sku": "C", "quantity": "two"}]},
        ],
    }
    path.write_text(json.dumps(document))
    rows, quarantined, _ = _parse(path, source)
    assert [(r["refund_id"], r["customer"], r["first_item"], r["sku"], r["quantity"]) for r in rows] == [
        ("re_1", "Ada", "A", "A", 2),
        ("re_1", "Ada", "A", "B", 1),
    ]
    assert quarantined == [(2, "items[*].quantity", "items[1]: field 'items[*].quantity': 'two' is not a whole number")]


# --- fixed-width records ---------------------------------------------------------------------------

LOCKBOX_CONFIG = """
name: lockbox
format: fixed_width
default_account: bank
options:
  encoding: latin-1
  record_type: {start: 1, length: 1}
  record_types: {H: header, D: detail, T: trailer}
fields:
  - {column: account, record_type: H, start: 2, length: 10, required: true}
  - {column: statement_date, record_type: H, start: 12, length: 8, type: date, formats: ["%Y%m%d"], required: true}
  - {column: reference, start: 2, length: 8, required: true}
  - {column: side, start: 10, length: 1, required: true, map: {C: CRDT, D: DBIT}}
  - {column: amount_minor, start: 11, length: 12, type: integer, required: true,
     sign_from: {field: side, debit: [DBIT], credit: [CRDT]}}
  - {column: currency, start: 23, length: 3, type: currency, required: true}
  - {column: payer, start: 26, length: 20}
"""

LOCKBOX_LINES = [
    "H" + "ACC0000001" + "20261103",
    "D" + "REF00001" + "C" + "000000012345" + "EUR" + "Müller GmbH".ljust(20),
    "D" + "REF00002" + "D" + "000000000990" + "EUR" + "Fees",
    "X" + "garbage",
    "H" + "ACC0000002" + "20261104",
    "D" + "REF00003" + "Z" + "000000000100" + "EUR",
    "D" + "REF00004" + "C" + "00000000abc0" + "EUR",
    "D" + "REF00005" + "C" + "000000000700" + "USD",
    "T" + "000005",
]


def test_fixed_width_records_with_header_detail_and_trailer(tmp_path: Path) -> None:
    source = load_source_file(_config(tmp_path, "lockbox", LOCKBOX_CONFIG))
    path = tmp_path / "lockbox.txt"
    path.write_bytes(("\r\n".join(LOCKBOX_LINES) + "\r\n").encode("latin-1"))
    rows, quarantined, rows_read = _parse(path, source)
    first = {"account": "ACC0000001", "statement_date": date(2026, 11, 3)}
    assert rows == [
        {**first, "reference": "REF00001", "side": "CRDT", "amount_minor": 12345, "currency": "EUR",
         "payer": "Müller GmbH", "_source_row": 2},
        {**first, "reference": "REF00002", "side": "DBIT", "amount_minor": -990, "currency": "EUR",
         "payer": "Fees", "_source_row": 3},
        # the header above it is the second one
        {"account": "ACC0000002", "statement_date": date(2026, 11, 4), "reference": "REF00005", "side": "CRDT",
         "amount_minor": 700, "currency": "USD", "payer": None, "_source_row": 8},
    ]  # fmt: skip
    assert quarantined == [
        (4, None, "unknown record type 'X' (positions 1-1); known: H, D, T"),
        (6, "side", "field 'side': 'Z' is not one of the mapped values C, D"),
        (7, "amount_minor", "field 'amount_minor': '00000000abc0' is not a whole number"),
    ]
    # headers and trailers are not rows
    assert rows_read == 6


# --- the generic readers never crash and never lose a row ----------------------------------------


@pytest.mark.parametrize(
    ("config", "content", "name"),
    [
        (HAUSBANK_CONFIG, HAUSBANK_EXPORT.encode("latin-1"), "hausbank"),
        (ORDERS_CONFIG, ORDERS_JSONL.encode(), "shop_orders"),
        (LOCKBOX_CONFIG, "\n".join(LOCKBOX_LINES).encode("latin-1"), "lockbox"),
    ],
)
def test_a_mutated_file_of_a_configured_source_loads_or_fails_clearly(
    config: str, content: bytes, name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp(name)
    source = load_source_file(_config(folder, name, config))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(mutations=st.lists(_mutations(), min_size=1, max_size=3))
    def check(mutations: list) -> None:
        mutated = content
        for mutation in mutations:
            mutated = _mutate(mutated, mutation)
        path = folder / f"{name}.data"
        path.write_bytes(mutated)
        try:
            passed, quarantined, rows_read = parse_file(
                path, source, profile_id="acme_eu", file_id="f", ingested_at=datetime(2026, 11, 1)
            )
        except FileRejected as rejection:
            assert path.name in str(rejection), rejection
            return
        assert rows_read == passed.height + quarantined.height
        assert quarantined["reason"].null_count() == 0

    try:
        check()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- what dbt reads ------------------------------------------------------------------------------


def test_the_macro_hands_dbt_the_entry_blocks_exactly(tmp_path: Path) -> None:
    text = ORDERS_CONFIG.replace("{value: order_line}", '{value: "O\'Brien \\\\d line"}')
    source = load_source_file(_config(tmp_path, "shop_orders", text))
    files = dbt_files([source, *sources_module.SOURCES.values()])
    returned = []
    environment = jinja2.Environment()
    template = environment.from_string(
        files["macros/configured_entry_sources.sql"] + "{{ configured_entry_sources() }}"
    )
    template.render(fromjson=json.loads, **{"return": returned.append})
    [payload] = returned
    assert [item["name"] for item in payload] == ["shop_orders"]  # the built-in sources have models of their own
    assert payload[0]["entry_type"] == {"column": None, "value": "O'Brien \\d line"}
    assert payload[0]["id"] == ["order_id", "line"] and payload[0]["exploded"] is True
    assert "- name: shop_orders" in files["models/_configured__sources.yml"]


# --- end to end ----------------------------------------------------------------------------------


def test_a_source_added_by_one_config_file_is_reconciled_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "sources"
    _config(directory, "hausbank", HAUSBANK_CONFIG)
    monkeypatch.setenv(SOURCES_DIR_VARIABLE, str(directory))
    home = tmp_path / "home"
    export = tmp_path / "umsaetze.csv"
    export.write_bytes(HAUSBANK_EXPORT.encode("latin-1"))
    listed = json.loads(recon(home, "sources", "--format", "json").stdout)
    assert {"source": "hausbank", "format": "csv", "raw_table": "raw.hausbank"}.items() <= next(
        row for row in listed if row["source"] == "hausbank"
    ).items()
    recon(home, "ingest", str(export), "--source", "hausbank", "--profile", "acme_eu")
    recon(home, "run", "--date", "2026-11-04")
    with duckdb.connect(str(home / "warehouse" / "recon.duckdb"), read_only=True) as connection:
        relation = connection.sql(
            """
            select
                entry_id, entry_type, account_name, account_id, amount_minor, fee_minor, net_minor,
                currency, direction, effective_at, business_date, order_ref, description, metadata,
                is_reconcilable
            from intermediate.int_entries_unioned
            where source_name = 'hausbank'
            order by entry_id
            """
        )
        entries = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
        quarantined = connection.sql("select count(*) from raw.quarantine where source_name = 'hausbank'").fetchall()
    assert [
        (e["entry_id"], e["entry_type"], e["amount_minor"], e["net_minor"], e["currency"], e["direction"])
        for e in entries
    ] == [
        ("acme_eu:hausbank:R1", "transfer", 123456, 123456, "EUR", "DEBIT"),  # money in
        ("acme_eu:hausbank:R2", "direct_debit", 1250, -1250, "EUR", "CREDIT"),  # money out
        ("acme_eu:hausbank:R7", "transfer", 1500, 1500, "JPY", "DEBIT"),
    ]
    money_in = entries[0]
    assert (money_in["account_name"], money_in["account_id"], money_in["is_reconcilable"]) == (
        "bank", "acme_eu:bank:EUR", True
    )  # fmt: skip
    # a date is midnight in the profile's time zone (Europe/Berlin)
    assert (money_in["effective_at"], money_in["business_date"]) == (datetime(2026, 11, 2, 23), date(2026, 11, 3))
    assert (money_in["order_ref"], money_in["description"], money_in["fee_minor"]) == (
        "ORD-1001", "Überweisung Müller", 0
    )  # fmt: skip
    assert json.loads(money_in["metadata"]) == {"side": "CRDT", "booked_at": "2026-11-03 08:15:00"}
    # no yen account in the chart: staged, but not reconcilable
    assert entries[2]["is_reconcilable"] is False
    assert quarantined == [(4,)]
