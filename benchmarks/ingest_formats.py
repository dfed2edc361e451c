"""Ingest throughput per format: one file of N data rows per source, each ingested into a fresh warehouse.

    .venv/bin/python benchmarks/ingest_formats.py [--rows 1000000] [--sources camt053 mt940 ...]
        [--rows-for camt053=100000 ...] [--cprofile] [--keep] [--home DIR]

For every source the product knows (`SOURCES`) the harness starts itself again as a subprocess
(internal mode `--one SOURCE`) with a fresh RECON_HOME, writes one file of N data rows in the
source's real format, creates the raw schema (`ensure_raw_schema`, not timed) and times
`ingest_file` of that file. A data row is what the reader turns into one raw row: a CSV line, a
JSON list item, a camt.053 Ntry, an MT940 :61: line, a BAI2 16 record, an STL SB record, an ECB
rate cell. Every row must be loaded; a quarantined row is reported as a failure of the generator.

Files are built by replicating the data rows of a template in blocks, each block giving the
template's ids (and, for the fixture-based formats, its amounts) a unique form, so that no two
rows repeat; headers, balances, control totals and counts are computed for the whole file:

- shopify_orders, stripe_balance_transactions, stripe_payout_reconciliation, paypal_activity and
  camt053: the files of the project's demo generator (`generate_demo_data`, one profile, no bad
  rows), which writes them with the writers of `formats.py`;
- ecb_reference_rates: `formats.write_ecb_reference_rates` over as many business days as it takes;
- mt940, bai2, adyen_settlement_details, paypal_settlement and shopify_payouts: the valid data
  rows of the fixtures in tests/fixtures/, with per-statement balances (MT940), control totals and
  record counts (BAI2) and section/report/file counts and totals (STL) recomputed.

Results are printed and written to benchmarks/results/ingest_formats.json; the sources not run
this time keep their earlier results. Nothing here asserts on timings.
"""

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from run import CHECKOUT, finish, machine, peak_rss_mb, reset_peak_rss

RESULTS = Path(__file__).resolve().parent / "results" / "ingest_formats.json"
FIXTURES = CHECKOUT / "tests" / "fixtures"
PROFILE = "acme_eu"
# the demo's files that serve as templates: 4 days of 100 orders for one profile, no bad rows
TEMPLATE_DAYS = 4
TEMPLATE_ORDERS_PER_DAY = 100
TEMPLATE_SEED = 7
CHUNK_ROWS = 200_000  # rows built and written at a time
BLOCK_DIGITS = 7  # a block number's width in the ids it makes unique: up to 10 million blocks
MB = 1024 * 1024
SHOPIFY_FIRST_ID = 5_000_000_000


def log(message: str) -> None:
    print(f"  bench   {message}", file=sys.stderr, flush=True)


# --- replicating rows -------------------------------------------------------------------------


def block_ranges(template_rows: int, rows: int) -> Iterator[tuple[int, int, int]]:
    """(first block, last block + 1, rows wanted from them) per chunk, for ``rows`` rows made of
    blocks of ``template_rows``."""
    blocks = math.ceil(rows / template_rows)
    per_chunk = max(1, CHUNK_ROWS // template_rows)
    for first in range(0, blocks, per_chunk):
        last = min(blocks, first + per_chunk)
        yield first, last, min(rows - first * template_rows, (last - first) * template_rows)


def _block_text() -> pl.Expr:
    return pl.col("_block").cast(pl.String).str.zfill(BLOCK_DIGITS)


def _present(column: str) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column) != "")


def with_block(column: str, separator: str = "") -> pl.Expr:
    """The value followed by the block number (empty values stay empty)."""
    return (
        pl.when(_present(column)).then(pl.concat_str([pl.col(column), _block_text()], separator=separator))
        .otherwise(pl.col(column))
        .alias(column)
    )  # fmt: skip


def keeping_width(column: str) -> pl.Expr:
    """The value with its last characters replaced by the block number, so a fixed-width id
    keeps its width (PayPal's 17-character transaction ids)."""
    head = pl.col(column).str.slice(0, pl.col(column).str.len_chars() - BLOCK_DIGITS)
    return pl.when(_present(column)).then(head + _block_text()).otherwise(pl.col(column)).alias(column)


def plus_cents(column: str) -> pl.Expr:
    """A two-decimal amount moved away from zero by the block number in hundredths."""
    text = pl.col(column)
    magnitude = text.str.strip_chars_start("-").str.replace(".", "", literal=True).cast(pl.Int64) + pl.col("_block")
    formatted = pl.concat_str(
        [(magnitude // 100).cast(pl.String), pl.lit("."), (magnitude % 100).cast(pl.String).str.zfill(2)]
    )
    signed = pl.when(text.str.starts_with("-")).then(pl.lit("-") + formatted).otherwise(formatted)
    return pl.when(_present(column)).then(signed).otherwise(text).alias(column)


def replicate_csv(
    template: pl.DataFrame,
    path: Path,
    rows: int,
    vary: Callable[[], list[pl.Expr]],
    *,
    quote_style: str = "necessary",
) -> int:
    """Write ``rows`` data rows: the template's rows again and again, block by block, each block
    varied by ``vary`` (expressions over the template's text columns and `_block`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "wb") as handle:
        for first, last, wanted in block_ranges(template.height, rows):
            blocks = pl.DataFrame({"_block": pl.int_range(first, last, eager=True)})
            chunk = blocks.join(template, how="cross").with_columns(vary()).drop("_block").head(wanted)
            chunk.write_csv(handle, include_header=first == 0, quote_style=quote_style)  # type: ignore[arg-type]
            written += chunk.height
    return written


def read_template(paths: list[Path], *, empty_as_text: bool = False, rows: int | None = None) -> pl.DataFrame:
    """The data rows of one or more CSV files of one layout, every field as text; an empty
    field is null (written back as nothing), or "" with ``empty_as_text`` (written back as "")."""
    frames = []
    for path in paths:
        # the first ``rows`` data rows only (a fixture's bad rows follow its good ones)
        lines = path.read_bytes().splitlines(keepends=True)
        text = b"".join(lines if rows is None else lines[: rows + 1])
        frames.append(pl.read_csv(io.BytesIO(text), infer_schema=False, empty_string_is_null=not empty_as_text))
    return pl.concat(frames, how="vertical")


# --- the demo's files as templates ------------------------------------------------------------


def demo_templates(directory: Path) -> dict[str, list[Path]]:
    """The demo generator's files of one profile, by source."""
    from dagster_project.lib.demo_data import generate_demo_data

    dataset = generate_demo_data(
        directory, days=TEMPLATE_DAYS, orders_per_day=TEMPLATE_ORDERS_PER_DAY, seed=TEMPLATE_SEED, bad_rows=False
    )
    files: dict[str, list[Path]] = {}
    for source_name, profile, path in dataset.files:
        if profile == PROFILE:
            files.setdefault(source_name, []).append(path)
    return files


def write_shopify_orders(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    template = read_template(templates["shopify_orders"])

    ids = template["Id"].cast(pl.Int64)
    first_id, span = ids.min(), ids.max() - ids.min() + 1  # type: ignore[operator]

    def vary() -> list[pl.Expr]:
        # line-item rows carry their order's name, so an order's rows stay together; the numeric
        # id stays under 13 digits, which the door would take for a card number and mask
        unique_id = SHOPIFY_FIRST_ID + pl.col("_block") * span + pl.col("Id").cast(pl.Int64) - first_id
        return [
            with_block("Name", "-"),
            pl.when(_present("Id")).then(unique_id.cast(pl.String)).otherwise(pl.col("Id")).alias("Id"),
            with_block("Payment Reference"),
        ]

    return replicate_csv(template, path, rows, vary)


def write_stripe_payout_reconciliation(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    template = read_template(templates["stripe_payout_reconciliation"])

    def vary() -> list[pl.Expr]:
        ids = ("automatic_payout_id", "balance_transaction_id", "source_id", "charge_id")
        return [with_block(column) for column in ids]

    return replicate_csv(template, path, rows, vary)


def write_paypal_activity(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    template = read_template(templates["paypal_activity"], empty_as_text=True)

    def vary() -> list[pl.Expr]:
        # a balance after each row cannot follow from the rows before it once they repeat: every
        # row shows none ("...", as PayPal writes where no balance applies), so the running
        # balance is still walked but not compared
        return [
            keeping_width("Transaction ID"),
            keeping_width("Reference Txn ID"),
            with_block("Invoice Number", "-"),
            pl.lit("...").alias("Balance"),
        ]

    # the activity download quotes every field
    return replicate_csv(template, path, rows, vary, quote_style="always")


def write_stripe_balance_transactions(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    """The API's list object, laid out as the demo writes it (json.dump, indent 1), streamed."""
    records = [r for p in templates["stripe_balance_transactions"] for r in json.loads(p.read_text())["data"]]
    marker = "\x00block\x00"
    items = []
    for record in records:
        unique = {**record, "id": record["id"] + marker}
        if unique.get("source"):
            unique["source"] += marker
        items.append(textwrap_indent(json.dumps(unique, indent=1), "  ").replace("\\u0000block\\u0000", marker))
    written = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{\n "object": "list",\n "data": [\n')
        for first, last, wanted in block_ranges(len(items), rows):
            chunk = [
                item.replace(marker, f"{block:0{BLOCK_DIGITS}d}") for block in range(first, last) for item in items
            ]
            chunk = chunk[:wanted]
            handle.write((",\n" if written else "") + ",\n".join(chunk))
            written += len(chunk)
        handle.write('\n ],\n "has_more": false,\n "url": "/v1/balance_transactions"\n}')
    return written


def textwrap_indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


def write_camt053(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    """The demo's largest statement with its entries (Ntry) replicated, each block's references
    unique; the closing booked balance is the opening plus every booked entry."""
    template_path = max(templates["camt053"], key=lambda p: p.read_text().count("<Ntry>"))
    text = template_path.read_text(encoding="utf-8")
    entries = list(re.finditer(r"\n\s*<Ntry>.*?</Ntry>", text, flags=re.DOTALL))
    head, tail = text[: entries[0].start()], text[entries[-1].end() :]
    marker = "\x00block\x00"
    bodies, movements = [], []
    for match in entries:
        body = match.group(0)
        for element in ("AcctSvcrRef", "NtryRef", "EndToEndId"):
            body = re.sub(rf"(<{element}>)(?!NOTPROVIDED)([^<]+)(</{element}>)", rf"\1\2-{marker}\3", body)
        bodies.append(body)
        entry = ET.fromstring(match.group(0).strip())
        amount = Decimal(entry.findtext("Amt") or "0")
        booked = "BOOK" in ET.tostring(entry.find("Sts"), encoding="unicode")  # type: ignore[arg-type]
        sign = 1 if entry.findtext("CdtDbtInd") == "CRDT" else -1
        movements.append(sign * amount if booked else Decimal(0))
    opening = _camt053_balance(head, "OPBD")
    full_blocks, partial = divmod(rows, len(bodies))
    closing = opening + full_blocks * sum(movements) + sum(movements[:partial])
    head = _with_camt053_balance(head, "CLBD", closing)
    written = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(head)
        for first, last, wanted in block_ranges(len(bodies), rows):
            chunk = [
                body.replace(marker, f"{block:0{BLOCK_DIGITS}d}") for block in range(first, last) for body in bodies
            ]
            handle.write("".join(chunk[:wanted]))
            written += min(wanted, len(chunk))
        handle.write(tail)
    return written


_BALANCE = r"(<Bal>\s*<Tp>\s*<CdOrPrtry>\s*<Cd>{code}</Cd>.*?<Amt Ccy=\"\w+\">)([^<]+)(</Amt>\s*<CdtDbtInd>)(\w+)"


def _camt053_balance(head: str, code: str) -> Decimal:
    match = re.search(_BALANCE.format(code=code), head, flags=re.DOTALL)
    assert match, f"no {code} balance in the template statement"
    return Decimal(match.group(2)) * (-1 if match.group(4) == "DBIT" else 1)


def _with_camt053_balance(head: str, code: str, amount: Decimal) -> str:
    side = "DBIT" if amount < 0 else "CRDT"
    return re.sub(
        _BALANCE.format(code=code), lambda m: f"{m.group(1)}{abs(amount):.2f}{m.group(3)}{side}", head, flags=re.DOTALL
    )


def write_ecb_reference_rates(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    """As many business days back from the demo's first day as N rate cells need (one per
    currency of the ECB's list); the oldest day has only the remainder's rates."""
    from dagster_project.lib.formats import ECB_CURRENCIES
    from dagster_project.lib.formats import write_ecb_reference_rates as write_rates

    rates: dict[date, dict[str, Decimal]] = {}
    day, remaining = date(2026, 11, 4), rows
    while remaining > 0:
        if day.weekday() < 5:
            currencies = ECB_CURRENCIES[: min(remaining, len(ECB_CURRENCIES))]
            step = len(rates) % 1000
            rates[day] = {c: Decimal(10 + i) + Decimal(step).scaleb(-4) for i, c in enumerate(currencies)}
            remaining -= len(currencies)
        day -= timedelta(days=1)
    write_rates(path, rates)
    return rows


# --- the fixtures as templates ----------------------------------------------------------------


def write_adyen_settlement_details(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    processors = FIXTURES / "processors"
    template = pl.concat(
        [
            read_template([processors / "settlement_detail_report_batch_4.csv"]),
            # batch 5's rows after its payout are the fixture's bad rows
            read_template([processors / "settlement_detail_report_batch_5.csv"], rows=7),
        ]
    )

    def vary() -> list[pl.Expr]:
        psp = pl.col("Psp Reference")
        reference = pl.col("Modification Reference")
        return [
            # 16 characters, the block then the reference's last 9 (a refund keeps its payment's)
            pl.when(_present("Psp Reference")).then(_block_text() + psp.str.slice(7)).otherwise(psp)
            .alias("Psp Reference"),
            pl.when(reference.str.contains(r"^\d{16}$")).then(_block_text() + reference.str.slice(7))
            .otherwise(pl.concat_str([reference, _block_text()], separator=" #"))
            .alias("Modification Reference"),
            with_block("Merchant Reference", "-"),
            *(plus_cents(c) for c in ("Gross Debit (GC)", "Gross Credit (GC)", "Net Debit (NC)", "Net Credit (NC)")),
        ]  # fmt: skip

    return replicate_csv(template, path, rows, vary)


def write_shopify_payouts(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    # the fixture's first 6 rows are valid, the rest are its bad rows
    template = read_template([FIXTURES / "processors" / "payment_transactions_export_1.csv"], rows=6)

    def vary() -> list[pl.Expr]:
        # amount and net move together, so amount - fee = net still holds
        return [
            with_block("Order", "-"),
            with_block("Checkout"),
            with_block("Payout ID"),
            plus_cents("Amount"),
            plus_cents("Net"),
        ]

    return replicate_csv(template, path, rows, vary)


# MT940: the statement lines (:61: and its :86:) of the three fixtures, in statements of
# MT940_LINES_PER_STATEMENT lines, each line with a unique amount and bank reference
MT940_FIXTURES = ("mt940_deutsche_bank.sta", "mt940_ing.sta", "mt940_plain.sta")
MT940_LINES_PER_STATEMENT = 1_000
MT940_LINE = re.compile(
    r"(?P<dates>\d{6}(?:\d{4})?)(?P<mark>RC|RD|C|D)(?P<funds>[A-Z]?)(?P<amount>\d+,\d*)"
    r"(?P<type>[SNF][A-Z0-9]{3})(?P<references>.*)"
)
MT940_TAG = re.compile(r":\d{2}[A-Z]?:")


def _mt940_fields(text: str) -> list[list[str]]:
    """Every field (its tag line and continuation lines) of every statement in a file."""
    fields: list[list[str]] = []
    for raw_line in text.splitlines():
        line = raw_line.partition("{4:")[2] if raw_line.startswith("{") else raw_line
        if not line.strip() or re.fullmatch(r"-(\}.*)?", line.strip()):
            continue
        if MT940_TAG.match(line):
            fields.append([line])
        elif fields:
            fields[-1].append(line)
    return fields


def mt940_templates() -> list[tuple[re.Match[str], list[str], list[str]]]:
    """(parsed :61: first line, its continuation lines, its :86: lines) of every fixture line."""
    lines = []
    for name in MT940_FIXTURES:
        fields = _mt940_fields((FIXTURES / "bank" / name).read_text(encoding="utf-8"))
        for position, field in enumerate(fields):
            if not field[0].startswith(":61:"):
                continue
            parsed = MT940_LINE.fullmatch(field[0][4:])
            assert parsed, f"{name}: cannot parse {field[0]!r}"
            following = fields[position + 1] if position + 1 < len(fields) else []
            information = following if following and following[0].startswith(":86:") else []
            lines.append((parsed, field[1:], information))
    return lines


def _swift_amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _mt940_balance(tag: str, cents: int, on: str) -> str:
    return f":{tag}:{'D' if cents < 0 else 'C'}{on}EUR{_swift_amount(abs(cents))}"


def write_mt940(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    lines = mt940_templates()
    balance = 1_500_000  # cents
    written = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for statement in range(math.ceil(rows / MT940_LINES_PER_STATEMENT)):
            count = min(MT940_LINES_PER_STATEMENT, rows - written)
            body = []
            opening = balance
            for number in range(written, written + count):
                parsed, continuation, information = lines[number % len(lines)]
                whole, _, fraction = parsed["amount"].partition(",")
                cents = int(whole) * 100 + int((fraction + "00")[:2]) + number
                customer = parsed["references"].partition("//")[0]
                first = (
                    f":61:{parsed['dates']}{parsed['mark']}{parsed['funds']}{_swift_amount(cents)}"
                    f"{parsed['type']}{customer}//B{number:013d}"
                )
                body += [first, *continuation, *information]
                # RC takes a credit back (money out), RD a debit
                balance += cents if parsed["mark"] in ("C", "RD") else -cents
            handle.write(
                "{1:F01BANKGB2LAXXX0000000000}{2:O9400600261104BANKGB2LAXXX00000000002611040600N}{4:\n"
                f":20:BENCH{statement:011d}\n:25:NL69INGB0123456789\n:28C:{statement % 100000:05d}/001\n"
                f"{_mt940_balance('60F', opening, '261102')}\n"
                + "\n".join(body)
                + f"\n{_mt940_balance('62F', balance, '261103')}\n-}}\n"
            )
            written += count
    return written


# BAI2: the transaction details (16 records, with their 88 continuations) of the fixture, in
# accounts of BAI2_TRANSACTIONS_PER_ACCOUNT and groups of BAI2_ACCOUNTS_PER_GROUP, each detail
# with a unique amount and bank reference; balances, control totals and record counts computed
BAI2_TRANSACTIONS_PER_ACCOUNT = 1_000
BAI2_ACCOUNTS_PER_GROUP = 100
BAI2_FUNDS_FIELDS = {"S": 3, "V": 2}
BAI2_OPENING = 1_500_000


def bai2_templates() -> list[list[str]]:
    """The lines of every 16 record of the fixture, its 88 continuations included."""
    records: list[list[str]] = []
    current: list[str] | None = None
    for line in (FIXTURES / "bank" / "bai2_sample.bai").read_text(encoding="utf-8").splitlines():
        if line.startswith("16,"):
            current = [line]
            records.append(current)
        elif line.startswith("88,") and current is not None:
            current.append(line)
        else:
            current = None  # an 88 after this record continues a record other than a 16
    return records


def _bai2_transaction(lines: list[str], number: int) -> tuple[list[str], int]:
    """A template 16 record with a unique amount and bank reference: (its lines, signed amount)."""
    fields = lines[0].split(",")
    amount = int(fields[2]) + number
    fields[2] = str(amount)
    fields[4 + BAI2_FUNDS_FIELDS.get(fields[3], 0)] = f"B{number:013d}"
    side = 1 if 100 <= int(fields[1]) < 400 else -1
    return [",".join(fields), *lines[1:]], side * amount


def write_bai2(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    transactions = bai2_templates()
    accounts = math.ceil(rows / BAI2_TRANSACTIONS_PER_ACCOUNT)
    groups = math.ceil(accounts / BAI2_ACCOUNTS_PER_GROUP)
    written = file_total = file_records = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("01,BANKUS33,ACMECORP,261104,0600,1,80,,2/\n")
        file_records += 1
        for group in range(groups):
            handle.write("02,ACMECORP,121000248,1,261103,2400,USD,2/\n")
            group_total, group_records, group_accounts = 0, 1, 0
            while group_accounts < BAI2_ACCOUNTS_PER_GROUP and written < rows:
                count = min(BAI2_TRANSACTIONS_PER_ACCOUNT, rows - written)
                lines, movement, amounts = [], 0, 0
                for number in range(written, written + count):
                    record, signed = _bai2_transaction(transactions[number % len(transactions)], number)
                    lines += record
                    movement, amounts = movement + signed, amounts + abs(signed)
                closing = BAI2_OPENING + movement
                account = f"{4_500_000_000 + group * BAI2_ACCOUNTS_PER_GROUP + group_accounts:010d}"
                # the account's control total sums every amount of its 03 and 16 records
                account_total = BAI2_OPENING + closing + amounts
                account_records = 1 + len(lines) + 1
                handle.write(f"03,{account},USD,010,+{BAI2_OPENING},,,015,{closing:+d},,/\n")
                handle.write("\n".join(lines) + f"\n49,{account_total},{account_records}/\n")
                group_total += account_total
                group_records += account_records
                group_accounts += 1
                written += count
            group_records += 1
            handle.write(f"98,{group_total},{group_accounts},{group_records}/\n")
            file_total += group_total
            file_records += group_records
        file_records += 1
        handle.write(f"99,{file_total},{groups},{file_records}/\n")
    return written


# PayPal STL: the fixture's valid body rows (SB) in sections of STL_ROWS_PER_SECTION, each row
# with unique ids and gross amount; section footers (SF) and report footers (RF) give the
# totals per currency, SC, RC and FF the counts
STL_FIXTURE = FIXTURES / "processors" / "STL-20261102.01.010.CSV"
STL_VALID_BODY_ROWS = 5  # the fixture's body rows after these are its bad rows
STL_ROWS_PER_SECTION = 10_000
STL_TOKEN = re.compile(r'"(?:[^"]|"")*"|[^,]*')
STL_ID_COLUMNS = (1, 3)  # Transaction ID, PayPal Reference ID
STL_INVOICE, STL_SIDE, STL_GROSS, STL_CURRENCY, STL_FEE_SIDE, STL_FEE, STL_FEE_CURRENCY = 2, 8, 9, 10, 11, 12, 13


def _stl_tokens(line: str) -> list[str]:
    """The fields of a record as written, quotes kept (each field ends at a comma)."""
    tokens = []
    position = 0
    while position <= len(line):
        match = STL_TOKEN.match(line, position)
        assert match is not None
        tokens.append(match.group(0))
        position = match.end() + 1
    return tokens


def _unquoted(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token


def write_paypal_settlement(path: Path, rows: int, templates: dict[str, list[Path]]) -> int:
    lines = STL_FIXTURE.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith(('"RH"', '"FH"'))]
    section_header = next(line for line in lines if line.startswith('"SH"'))
    account = _unquoted(_stl_tokens(section_header)[3])
    columns = next(line for line in lines if line.startswith('"CH"'))
    bodies = [_stl_tokens(line) for line in lines if line.startswith('"SB"')][:STL_VALID_BODY_ROWS]
    report_totals: dict[str, list[int]] = {}
    written = 0

    def footer(kind: str, totals: dict[str, list[int]], prefix: str) -> str:
        return "".join(
            f'"{kind}",{prefix}"{currency}","CR",{cr},"DR",{dr},"CR",{fee_cr},"DR",{fee_dr}\n'
            for currency, (cr, dr, fee_cr, fee_dr) in sorted(totals.items())
        )

    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(header) + "\n")
        while written < rows:
            count = min(STL_ROWS_PER_SECTION, rows - written)
            section: list[str] = []
            totals: dict[str, list[int]] = {}
            for number in range(written, written + count):
                tokens = list(bodies[number % len(bodies)])
                block = number // len(bodies)
                for column in STL_ID_COLUMNS:
                    value = _unquoted(tokens[column])
                    if value:
                        tokens[column] = f'"{value[:-BLOCK_DIGITS]}{block:0{BLOCK_DIGITS}d}"'
                invoice = _unquoted(tokens[STL_INVOICE])
                if invoice:
                    tokens[STL_INVOICE] = f'"{invoice}-{block:0{BLOCK_DIGITS}d}"'
                # whole hundredths, so a currency without minor units stays whole
                gross = int(tokens[STL_GROSS]) + 100 * block
                tokens[STL_GROSS] = str(gross)
                section.append(",".join(tokens))
                currency = _unquoted(tokens[STL_CURRENCY])
                sums = totals.setdefault(currency, [0, 0, 0, 0])
                sums[0 if _unquoted(tokens[STL_SIDE]) == "CR" else 1] += gross
                if tokens[STL_FEE]:
                    sums[2 if _unquoted(tokens[STL_FEE_SIDE]) == "CR" else 3] += int(tokens[STL_FEE])
            handle.write(section_header + "\n" + columns + "\n" + "\n".join(section) + "\n")
            handle.write(footer("SF", totals, f'"{account}","",') + f'"SC",{count}\n')
            for currency, sums in totals.items():
                report = report_totals.setdefault(currency, [0, 0, 0, 0])
                report[:] = [a + b for a, b in zip(report, sums, strict=True)]
            written += count
        handle.write(footer("RF", report_totals, "") + f'"RC",{written}\n"FF",{written}\n')
    return written


# --- the sources ------------------------------------------------------------------------------

Writer = Callable[[Path, int, dict[str, list[Path]]], int]
WRITERS: dict[str, tuple[str, Writer]] = {
    "shopify_orders": ("orders_export.csv", write_shopify_orders),
    "stripe_balance_transactions": ("balance_transactions.json", write_stripe_balance_transactions),
    "stripe_payout_reconciliation": ("payouts.csv", write_stripe_payout_reconciliation),
    "camt053": ("statement.xml", write_camt053),
    "mt940": ("statement.sta", write_mt940),
    "bai2": ("statement.bai", write_bai2),
    "paypal_activity": ("activity.csv", write_paypal_activity),
    "ecb_reference_rates": ("eurofxref-hist.csv", write_ecb_reference_rates),
    "adyen_settlement_details": ("settlement_detail_report_batch_1.csv", write_adyen_settlement_details),
    "paypal_settlement": ("STL-20261102.01.010.CSV", write_paypal_settlement),
    "shopify_payouts": ("payment_transactions_export_1.csv", write_shopify_payouts),
}
DEMO_SOURCES = {"shopify_orders", "stripe_balance_transactions", "stripe_payout_reconciliation", "paypal_activity"}
DEMO_SOURCES |= {"camt053"}


# --- one source, in its own process -----------------------------------------------------------


def profile_summary(profiler: cProfile.Profile, limit: int = 15) -> list[str]:
    """The functions that took the most time of their own, as pstats prints them."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    return [line for line in out.getvalue().splitlines() if line.strip()][-(limit + 1) :]


def run_one(source_name: str, rows: int, home_dir: Path, use_cprofile: bool) -> dict[str, Any]:
    from dagster_project.lib.home import ReconHome

    home = ReconHome(home_dir.resolve()).activate()  # before any other product import

    from dagster_project.lib.ingest import ensure_raw_schema, ingest_file
    from dagster_project.lib.sources import SOURCES
    from dagster_project.lib.warehouse import connect

    file_name, writer = WRITERS[source_name]
    source = SOURCES[source_name]
    path = home.root / "files" / source_name / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"source": source_name, "format": source.format, "rows": rows}

    log(f"{source_name}: writing {rows:,} rows")
    reset_peak_rss()
    started = time.perf_counter()
    templates = demo_templates(home.root / "templates") if source_name in DEMO_SOURCES else {}
    written = writer(path, rows, templates)
    result["generate"] = {"seconds": round(time.perf_counter() - started, 3), "peak_rss_mb": round(peak_rss_mb(), 1)}
    result["file_mb"] = round(path.stat().st_size / MB, 2)
    if written != rows:
        raise RuntimeError(f"{source_name}: the generator wrote {written} rows, not {rows}")

    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        log(f"{source_name}: ingesting {path.name} ({result['file_mb']:,.1f} MB)")
        profiler = cProfile.Profile() if use_cprofile else None
        reset_peak_rss()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        ingested = ingest_file(connection, path, source_name, PROFILE)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        in_raw = connection.sql(f"select count(*) from raw.{source.raw_table}").fetchall()[0][0]
        reasons = connection.sql(
            "select reason, count(*) as n from raw.quarantine group by reason order by n desc limit 5"
        ).fetchall()
    result["ingest"] = {
        "seconds": round(seconds, 3),
        "rows_per_second": round(ingested.rows_read / seconds) if seconds > 0 else None,
        "mb_per_second": round(result["file_mb"] / seconds, 2) if seconds > 0 else None,
        "peak_rss_mb": round(peak, 1),
        "rows_read": ingested.rows_read,
        "rows_loaded": ingested.rows_loaded,
        "rows_quarantined": ingested.rows_quarantined,
        "rows_in_raw_table": in_raw,
        "profiled": use_cprofile,
    }
    if reasons:
        result["quarantine_reasons"] = [{"reason": r, "rows": n} for r, n in reasons]
    if profiler:
        result["cprofile_by_own_time"] = profile_summary(profiler)
        for line in result["cprofile_by_own_time"]:
            log(f"{source_name}: {line}")
    if not (ingested.rows_read == ingested.rows_loaded == in_raw == rows):
        result["error"] = (
            f"{ingested.rows_read:,} rows read, {ingested.rows_loaded:,} loaded, "
            f"{ingested.rows_quarantined:,} quarantined of {rows:,} written"
        )
    return result


# --- the harness ------------------------------------------------------------------------------


def run_source(source_name: str, rows: int, home_dir: Path, use_cprofile: bool) -> dict[str, Any]:
    """Run one source in a subprocess and collect its result."""
    result_file = home_dir.parent / f"result-{source_name}.json"
    command = [
        sys.executable, str(Path(__file__).resolve()), "--one", source_name, "--rows", str(rows),
        "--home", str(home_dir), "--result", str(result_file),
    ]  # fmt: skip
    if use_cprofile:
        command.append("--cprofile")
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, _ = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0 or not result_file.exists():
        return {"source": source_name, "rows": rows, "error": f"exit code {os.waitstatus_to_exitcode(status)}"}
    result = json.loads(result_file.read_text())
    result["wall_seconds"] = round(wall, 3)
    return result


def checkout_commit() -> str | None:
    """The commit of the code measured, marked dirty when the product's code differs from it."""
    try:
        git = ["git", "-C", str(CHECKOUT)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "dagster_project"], capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout (an exported tree)
    return commit.stdout.strip() + ("-dirty" if changed.stdout.strip() else "")


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(results: list[dict[str, Any]]) -> str:
    header = (
        "source",
        "format",
        "rows",
        "file MB",
        "seconds",
        "rows/s",
        "MB/s",
        "peak RSS MB",
        "loaded",
        "quarantined",
    )
    lines = [header]
    for result in results:
        ingest = result.get("ingest", {})
        lines.append(
            (
                result["source"],
                result.get("format", "-"),
                _number(result.get("rows")),
                _number(result.get("file_mb"), 1),
                _number(ingest.get("seconds"), 2),
                _number(ingest.get("rows_per_second")),
                _number(ingest.get("mb_per_second"), 1),
                _number(ingest.get("peak_rss_mb")),
                _number(ingest.get("rows_loaded")),
                _number(ingest.get("rows_quarantined")),
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(cells))

    table = [line(row) for row in lines]
    table.insert(1, "  ".join("-" * w for w in widths))
    for result in results:
        if "error" in result:
            table.append(f"{result['source']}: FAILED ({result['error']})")
        for reason in result.get("quarantine_reasons", []):
            table.append(f"  {result['source']} quarantined {reason['rows']:,}: {reason['reason'][:150]}")
    return "\n".join(table)


def _rows_for(values: list[str]) -> dict[str, int]:
    overrides = {}
    for value in values:
        name, _, rows = value.partition("=")
        if name not in WRITERS or not rows.isdigit():
            raise argparse.ArgumentTypeError(
                f"--rows-for {value!r}: expected SOURCE=ROWS, SOURCE one of {sorted(WRITERS)}"
            )
        overrides[name] = int(rows)
    return overrides


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows per file (default 1,000,000)")
    parser.add_argument("--sources", nargs="+", choices=sorted(WRITERS), help="only these sources (default: all)")
    parser.add_argument(
        "--rows-for", nargs="+", default=[], metavar="SOURCE=ROWS", help="another row count for these sources"
    )
    parser.add_argument("--cprofile", action="store_true", help="profile ingest_file (slower; shows where time goes)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes and files")
    parser.add_argument("--home", type=Path, help="base directory for the homes (default: a new one in /tmp)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one source
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one is not None:
        try:
            result = run_one(args.one, args.rows, args.home, args.cprofile)
        except Exception as error:  # reported as this source's error, the others go on
            first_line = (str(error).splitlines() or [""])[0]
            result = {"source": args.one, "rows": args.rows, "error": f"{type(error).__name__}: {first_line[:500]}"}
            log(f"{args.one}: {result['error']}")
        args.result.write_text(json.dumps(result, indent=1))
        return 0

    from dagster_project.lib.sources import SOURCES

    missing = sorted(set(SOURCES) - set(WRITERS))
    if missing:
        log(f"no generator for source(s) {', '.join(missing)}; add one to WRITERS")
        return 2
    try:
        overrides = _rows_for(args.rows_for)
    except argparse.ArgumentTypeError as error:
        log(str(error))
        return 2
    temporary = args.home is None
    base = Path(tempfile.mkdtemp(prefix="recon-ingest-bench-", dir="/tmp")) if temporary else args.home
    base = base.resolve()
    results = []
    for source_name in args.sources or list(SOURCES):
        home_dir = base / source_name
        if home_dir.exists() and any(home_dir.iterdir()):
            log(f"{home_dir} is not empty; give a fresh --home")
            return 2
        result = run_source(source_name, overrides.get(source_name, args.rows), home_dir, args.cprofile)
        results.append(result)
        if not args.keep:
            shutil.rmtree(home_dir, ignore_errors=True)  # a 1e6-row file and its warehouse each

    print(render(results))
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    machine_info = machine()
    commit = checkout_commit()
    for result in results:
        result.update(measured_at=measured_at, commit=commit, machine=machine_info)
    # the sources measured before (e.g. a slow one at a smaller size) stay, each with its date
    earlier = json.loads(RESULTS.read_text())["results"] if RESULTS.exists() else []
    measured = {r["source"] for r in results}
    order = list(SOURCES)
    kept = [r for r in earlier if r.get("source") not in measured]
    document = {
        "generated_at": measured_at,
        "results": sorted(kept + results, key=lambda r: order.index(r["source"]) if r["source"] in order else 99),
    }
    return finish(RESULTS, document, results, base, remove=temporary and not args.keep)


if __name__ == "__main__":
    sys.exit(main())
