"""BAI2 cash management balance reports: one raw row per transaction detail (16 record).

A file is a sequence of records, one or more physical lines each: the record code, then fields
separated by commas, the record ended by a slash. 01 heads the file and 99 ends it; 02 heads a
group of accounts reported as of one date and 98 ends it; 03 names an account (its currency and
its balances and summaries: type code, amount, item count, funds type) and 49 ends it; 16 is a
transaction (type code, amount, funds type, bank reference, customer reference, text). An 88
continues the record before it: after a slash with more fields, or, when a 16's text ran to the
end of its line without one, with more text.

Amounts are whole numbers of the currency's minor units (USD cents unless the account or group
names another currency); balances may carry a sign, transaction amounts do not: the type code
says the side. Every trailer carries a control total and a record count, so a file checks
itself. Per the specification (Cash Management Balance Reporting Specifications, version 2),
the account trailer's (49) total is the algebraic sum of every amount in the account's 03
record (its balances and summaries, continued on 88s) and its 16 records (with their 88s);
98's is the sum of its accounts' 49 totals, 99's of its groups' 98 totals. An account is the
unit of trust: one whose 49 total its loaded transactions do not reach is loaded and flagged.
A control total left blank is not given: it is recorded as not checked.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from dagster_project.lib.readers.common import (
    FileRejected,
    Rejection,
    StatementCheck,
    decode_text,
    rejected_frame,
    text_frame,
    yymmdd_date,
)
from dagster_project.lib.sources import Source, currency_minor_units

RECORD_CODES = ("01", "02", "03", "16", "49", "88", "98", "99")
DEFAULT_CURRENCY = "USD"
# amounts, counts and control totals: whole numbers of at most 18 digits (a longer run is no amount)
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,18}")
UNSIGNED_NUMBER = re.compile(r"\d{1,18}")
TYPE_CODE = re.compile(r"\d{3}")
# the type code ranges of transactions; 001-099 (and 900-919) are balances, 700-899 loans and
# non-monetary information
CREDIT_CODES = (range(100, 400), range(920, 960))
DEBIT_CODES = (range(400, 700), range(960, 1000))


@dataclass
class _Record:
    """A logical record: its code, the physical lines it was written on, and its fields."""

    code: str
    line: int
    lines: list[str]
    body: str

    @property
    def fields(self) -> list[str]:
        return self.body.removesuffix("/").split(",")

    @property
    def raw(self) -> str:
        return "\n".join(self.lines)


def _records(path: Path, text: str) -> list[_Record]:
    """The file's logical records, continuations (88) joined to the record they continue."""
    records: list[_Record] = []
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.rstrip("\r ")
        if not line:
            continue
        code, _, content = line.partition(",")
        if code not in RECORD_CODES:
            raise FileRejected(
                f"{path}: line {number}: '{line[:40]}' does not start with a BAI2 record code "
                f"({', '.join(RECORD_CODES)}); is this a BAI2 file?"
            )
        if code != "88":
            records.append(_Record(code, number, [line], content))
            continue
        if not records:
            raise FileRejected(f"{path}: line {number}: a continuation (88) before any record")
        previous = records[-1]
        previous.lines.append(line)
        if previous.body.endswith("/"):
            previous.body = f"{previous.body[:-1]},{content}"
        elif previous.code == "16":
            # a 16 that ends without a slash ends inside its text, which the 88 carries on
            previous.body = f"{previous.body} {content.lstrip()}"
        else:
            previous.body = f"{previous.body},{content}"
    return records


def _funds_fields(funds_type: str, fields: list[str], at: int) -> int | None:
    """How many fields follow a funds type: S three availability amounts, V a value date and
    time, D a count and that many (days, amount) pairs; None if a D's count is unreadable."""
    if funds_type == "S":
        return 3
    if funds_type == "V":
        return 2
    if funds_type == "D":
        count = fields[at] if at < len(fields) else ""
        return 1 + 2 * int(count) if UNSIGNED_NUMBER.fullmatch(count) else None
    return 0


@dataclass
class _Account:
    """An account identifier record (03): the account, its currency, its balances by type code,
    the sum of its amounts (None when one cannot be read) and what makes its transactions
    unusable, if anything."""

    account_id: str
    currency: str
    balances: dict[str, str]
    total: int | None
    problem: tuple[str, str] | None


def _account(record: _Record, group_currency: str) -> _Account:
    fields = record.fields
    account_id = fields[0].strip()
    currency = (fields[1].strip() if len(fields) > 1 else "") or group_currency
    problem = None
    if not account_id:
        problem = ("03/account", "field '03/account' is required")
    elif currency not in currency_minor_units():
        problem = ("03/currency", f"field '03/currency': unknown currency '{currency}' (not an ISO 4217 code)")
    balances: dict[str, str] = {}
    total: int | None = 0
    at = 2
    while at < len(fields):
        if not fields[at].strip():
            # no summary here: a bank that ends a line with ",/" before an 88 continues the
            # record with one empty field more than its last summary needs (SVB)
            at += 1
            continue
        type_code, amount = fields[at].strip(), (fields[at + 1].strip() if at + 1 < len(fields) else "")
        funds_type = fields[at + 3].strip() if at + 3 < len(fields) else ""
        extra = _funds_fields(funds_type, fields, at + 4)
        if amount and not WHOLE_NUMBER.fullmatch(amount):
            reason = f"field '03/amount': '{amount}' (type {type_code}) is not a whole number of minor units"
            problem, total = problem or ("03/amount", reason), None
        elif amount:
            balances.setdefault(type_code, amount)
            total = None if total is None else total + int(amount)
        if extra is None:
            reason = f"field '03/funds_type': the distribution count of type {type_code} is not a number"
            problem, total = problem or ("03/funds_type", reason), None
            break
        at += 4 + extra
    return _Account(account_id, currency, balances, total, problem)


def _major(amount: str, currency: str) -> str | None:
    digits = currency_minor_units().get(currency)
    return None if digits is None else format(Decimal(int(amount)).scaleb(-digits), "f")


def _transaction(record: _Record, account: _Account) -> tuple[dict[str, str | None], int | None, list[tuple[str, str]]]:
    """The values of a 16 record, its amount in minor units (None if unreadable) and its problems."""
    fields = record.fields
    type_code = fields[0].strip()
    amount = fields[1].strip() if len(fields) > 1 else ""
    funds_type = fields[2].strip() if len(fields) > 2 else ""
    extra = _funds_fields(funds_type, fields, 3)
    problems = []
    if not TYPE_CODE.fullmatch(type_code):
        problems.append(("16/type_code", f"field '16/type_code': '{type_code}' is not a three-digit type code"))
        side = None
    else:
        code = int(type_code)
        side = "CRDT" if any(code in r for r in CREDIT_CODES) else None
        side = side or ("DBIT" if any(code in r for r in DEBIT_CODES) else None)
        if side is None:
            reason = "is not a transaction (credits are 100-399 and 920-959, debits 400-699 and 960-999)"
            problems.append(("16/type_code", f"field '16/type_code': type code {type_code} {reason}"))
    if not amount:
        problems.append(("16/amount", "field '16/amount' is required"))
    elif not UNSIGNED_NUMBER.fullmatch(amount):
        problems.append(("16/amount", f"field '16/amount': '{amount}' is not a whole number of minor units"))
    readable_amount = int(amount) if UNSIGNED_NUMBER.fullmatch(amount) else None
    values: dict[str, str | None] = {
        "16/type_code": type_code,
        "16/side": side,
        "16/amount": _major(amount, account.currency) if readable_amount is not None else None,
        "16/funds_type": funds_type or None,
    }
    if extra is None:
        problems.append(
            ("16/funds_type", "field '16/funds_type': the distribution count (funds type D) is not a number")
        )
        return values, readable_amount, problems
    if funds_type == "V" and len(fields) > 3:
        value_date = yymmdd_date(fields[3].strip())
        if value_date is None:
            problems.append(("16/value_date", f"field '16/value_date': '{fields[3]}' is not a date (YYMMDD)"))
        values["16/value_date"] = value_date.isoformat() if value_date else None
    rest = fields[3 + extra :]
    values |= {
        "16/bank_reference": (rest[0].strip() if rest else "") or None,
        "16/customer_reference": (rest[1].strip() if len(rest) > 1 else "") or None,
        # the text is the rest of the record, commas and all
        "16/text": ",".join(rest[2:]).strip() or None,
    }
    return values, readable_amount, problems


class _Reader:
    """Walks the records in order (file, groups, accounts, transactions), checking every
    trailer against what it ends."""

    def __init__(self, path: Path, records: list[_Record]) -> None:
        self.path = path
        self.records = records
        self.at = 0
        self.rows: list[tuple[int, str, dict[str, str | None]]] = []
        self.rejected: list[Rejection] = []
        # one check per account: what its trailer claims about its records
        self.statements: list[StatementCheck] = []

    def _next(self, *codes: str, inside: str) -> _Record:
        expected = " or ".join(codes)
        if self.at >= len(self.records):
            raise FileRejected(f"{self.path}: the file ends inside {inside}: a {expected} record is missing")
        record = self.records[self.at]
        if record.code not in codes:
            raise FileRejected(
                f"{self.path}: line {record.line}: a {record.code} record where {inside} expects {expected}"
            )
        self.at += 1
        return record

    def _trailer(self, trailer: _Record, what: str, computed: dict[str, int | None]) -> list[int | None]:
        """The numbers a trailer states, in order, each checked against the one computed (None:
        not provable, so not checked). A control total (the first number) left blank is not
        given, and so not checked; a record count must be given."""
        fields = trailer.fields
        stated: list[int | None] = []
        for position, (name, value) in enumerate(computed.items()):
            text = fields[position].strip() if position < len(fields) else ""
            if position == 0 and not text:
                stated.append(None)
                continue
            if not WHOLE_NUMBER.fullmatch(text):
                raise FileRejected(
                    f"{self.path}: line {trailer.line}: the {name} of the {trailer.code} record, '{text}', "
                    "is not a number"
                )
            stated.append(int(text))
            if value is not None and int(text) != value:
                raise FileRejected(
                    f"{self.path}: {what} does not add up: its trailer ({trailer.code} at line {trailer.line}) "
                    f"gives {name} {int(text)}, but {value} is computed from its records; nothing from the file "
                    "was loaded: ask the bank to send the file again"
                )
        return stated

    def read(self) -> None:
        header = self._next("01", inside="the file's start")
        fields = header.fields
        version = fields[7].strip() if len(fields) > 7 else ""
        if version != "2":
            raise FileRejected(
                f"{self.path}: line {header.line}: BAI version '{version}' in the file header; only 2 (BAI2) is read"
            )
        groups, records, total = 0, len(header.lines), 0
        while (record := self._next("02", "99", inside="the file")).code != "99":
            group_total, group_records = self._group(record)
            groups, records = groups + 1, records + group_records
            total = None if group_total is None or total is None else total + group_total
        records += len(record.lines)
        self._trailer(
            record,
            "the file",
            {"file control total": total, "number of groups": groups, "number of records": records},
        )
        if self.at < len(self.records):
            extra = self.records[self.at]
            raise FileRejected(f"{self.path}: line {extra.line}: a {extra.code} record after the file trailer (99)")

    def _group(self, header: _Record) -> tuple[int | None, int]:
        """(the group's control total as its trailer states it, else as computed, None when
        neither is known; its number of records)"""
        fields = header.fields
        originator = fields[1].strip() if len(fields) > 1 else ""
        as_of_text = fields[3].strip() if len(fields) > 3 else ""
        currency = (fields[5].strip() if len(fields) > 5 else "") or DEFAULT_CURRENCY
        as_of = yymmdd_date(as_of_text)
        problem = None if as_of else ("02/as_of_date", f"field '02/as_of_date': '{as_of_text}' is not a date (YYMMDD)")
        group_values = {"02/originator": originator or None, "02/as_of_date": as_of.isoformat() if as_of else None}
        what = f"the group of line {header.line}"
        accounts, records, total = 0, len(header.lines), 0
        while (record := self._next("03", "98", inside=what)).code != "98":
            account_total, account_records = self._account(record, currency, group_values, problem)
            accounts, records = accounts + 1, records + account_records
            total = None if account_total is None or total is None else total + account_total
        records += len(record.lines)
        computed = {"group control total": total, "number of accounts": accounts, "number of records": records}
        stated = self._trailer(record, what, computed)[0]
        return (total if stated is None else stated), records

    def _account(
        self,
        header: _Record,
        group_currency: str,
        group_values: dict[str, str | None],
        group_problem: tuple[str, str] | None,
    ) -> tuple[int | None, int]:
        """(the account's control total as its trailer states it, else as computed, None when
        neither is known; its number of records)"""
        account = _account(header, group_currency)
        problem = group_problem or account.problem
        balances = {} if problem else account.balances
        account_values = {
            **group_values,
            "03/account": account.account_id,
            "03/currency": account.currency,
            "03/010": _major(balances["010"], account.currency) if "010" in balances else None,
            "03/015": _major(balances["015"], account.currency) if "015" in balances else None,
        }
        what = f"account '{account.account_id}' (03 at line {header.line})"
        as_of = group_values["02/as_of_date"]
        check = StatementCheck(
            position=len(self.statements) + 1,
            line=header.line,
            label=what,
            statement_id=account.account_id or None,
            account_id=account.account_id or None,
            currency=account.currency,
            check_kind="control_total",
            statement_date=date.fromisoformat(as_of) if as_of else None,
            opening=_major_decimal(balances.get("010"), account.currency),
            closing=_major_decimal(balances.get("015"), account.currency),
        )
        self.statements.append(check)
        records, total = len(header.lines), account.total
        while (record := self._next("16", "49", inside=what)).code != "49":
            records += len(record.lines)
            values, amount, problems = _transaction(record, account)
            # an amount that cannot be read is quarantined, and then the total cannot be proven
            total = None if amount is None or total is None else total + amount
            check.add(record.line, None if amount is None else _major_decimal(str(amount), account.currency))
            problems = ([problem] if problem else []) + problems
            if problems:
                reason = "; ".join(reason for _, reason in problems)
                self.rejected.append((record.line, record.raw, problems[0][0], reason))
            else:
                self.rows.append((record.line, record.raw, {**account_values, **values}))
        records += len(record.lines)
        # the control total is the account's own claim, checked as a statement's (kept and
        # flagged when its loaded transactions do not add up to it); the record count is the
        # file's transmission, checked here
        stated = self._trailer(record, what, {"account control total": None, "number of records": records})[0]
        summaries = _major_decimal(None if account.total is None else str(account.total), account.currency)
        if problem:
            check.not_checked = problem[1]
        elif stated is None:
            check.not_checked = f"its trailer (49 at line {record.line}) gives no account control total"
        elif summaries is None:
            check.not_checked = "an amount of its 03 record cannot be read"
        else:
            stated_total = _major_decimal(str(stated), account.currency)
            check.expected = None if stated_total is None else stated_total - summaries
        return (total if stated is None else stated), records


def _major_decimal(amount: str | None, currency: str) -> Decimal | None:
    """Minor units as an exact amount in major units of the currency; None when there is none."""
    digits = currency_minor_units().get(currency)
    if amount is None or digits is None:
        return None
    return Decimal(int(amount)).scaleb(-digits)


def read_bai2(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]:
    """One row of text columns per transaction (16 record), numbered by the line it starts on,
    and each account's check of its control total. An account whose transactions do not add up
    to its trailer's total is loaded and flagged; a file whose record counts, or group or file
    totals, do not add up was not transmitted whole and is rejected."""
    text = decode_text(path, path.read_bytes(), "BAI2")
    reader = _Reader(path, _records(path, text))
    reader.read()
    keys = [f.source_key for f in source.fields]
    rows = reader.rows
    frame = text_frame([values for _, _, values in rows], keys, [row for row, _, _ in rows], [r for _, r, _ in rows])
    return frame, rejected_frame(reader.rejected), reader.statements
