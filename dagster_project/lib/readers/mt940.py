"""SWIFT MT940 customer statements: one raw row per statement line (:61:).

A file holds one or more statements, each optionally wrapped in SWIFT blocks
(`{1:...}{2:...}{4:` ... `-}`) or separated by a lone `-`, with CRLF or LF line ends. A
statement is :20: (its reference), :25: (the account), :28C: (statement/sequence number),
:60F: or :60M: (the opening balance, final or intermediate), statement lines :61:, each
optionally followed by :86: (information to the account owner), :62F: or :62M: (the closing
balance), then optionally :64:/:65: (available balances) and a :86: about the whole statement.
Dates are YYMMDD; amounts have a decimal comma.

The :86: text comes in dialects, told apart by their shape:

- German banks (the DFÜ agreement: Deutsche Bank, Sparkassen, Volksbanken): a three-digit
  business code then `?NN` subfields: ?00 posting text, ?20-?29 and ?60-?63 the remittance
  (SEPA keywords such as EREF+ and SVWZ+ inside it), ?30/?31 the counterparty's bank and
  account, ?32/?33 its name. Lines wrap at 65 characters wherever they fall.
- Dutch banks (ING, Rabobank, ABN AMRO's structured statement): `/CODE/value` pairs: /EREF/,
  /CNTP/ (account/BIC/name/city), /NAME/, /REMI/ (`USTD//` unstructured or `STRD/CUR/`
  structured), also wrapped wherever they fall.
- everyone else: free text, which is the remittance.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from dagster_project.lib.readers.common import (
    FileRejected,
    Rejection,
    StatementBalance,
    decode_text,
    rejected_frame,
    text_frame,
    yymmdd_date,
)
from dagster_project.lib.sources import Source, known_currencies

TAG_LINE = re.compile(r":(?P<tag>\d{2}[A-Z]?):(?P<value>.*)")
# the end of a message's text block (`-}`, perhaps followed by block 5), or a lone `-`
MESSAGE_END = re.compile(r"-(\}.*)?")
# 15d: digits, a decimal comma, at most 15 characters in all
SWIFT_AMOUNT = re.compile(r"\d{1,14},\d*")
SWIFT_AMOUNT_LENGTH = 15
STATEMENT_DATES = re.compile(r"(?P<value_date>\d{6})(?P<entry_date>\d{4})?")
# RC and RD (reversals) before C and D; a funds code is the letter before the amount's digits
STATEMENT_MARK = re.compile(r"(?P<mark>RC|RD|C|D)(?P<funds_code>[A-Z](?=[\d,]))?")
# S (SWIFT transfer), N (other transfer) or F (first advice), then three characters: NTRF, S103
STATEMENT_AMOUNT_AND_TYPE = re.compile(r"(?P<amount>.*?)(?P<transaction_type>[SNF][A-Z0-9]{3})(?P<references>.*)")
# the mark's side, and whether it reverses an earlier entry: RC takes a credit back (money out)
MARKS = {"C": ("CRDT", "false"), "D": ("DBIT", "false"), "RC": ("DBIT", "true"), "RD": ("CRDT", "true")}
# what the spec writes when there is no reference
NO_REFERENCE = "NONREF"
NOT_PROVIDED = "NOTPROVIDED"

# German :86: (DFÜ): business code, then ?NN subfields of at most 27 characters each
GERMAN_INFORMATION = re.compile(r"\d{3}\?\d{2}")
GERMAN_SUBFIELD = re.compile(r"\?(\d{2})")
GERMAN_SUBFIELD_LENGTH = 27
GERMAN_REMITTANCE = {f"{n}" for n in range(20, 30)} | {f"{n}" for n in range(60, 64)}
SEPA_KEYWORDS = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|SQTP|PURP)\+")
# Dutch :86: codes, each written /CODE/
DUTCH_CODES = (
    "EREF", "PREF", "IREF", "KREF", "MARF", "CSID", "CNTP", "REMI", "NAME", "ADDR", "ISDT", "RTRN",
    "PURP", "ULTC", "ULTD", "ULTB", "BENM", "ORDP", "TRCD", "SVCL", "EXCH", "CHGS", "OCMT", "BUSP", "CREF",
)  # fmt: skip
DUTCH_CODE = re.compile(rf"/({'|'.join(DUTCH_CODES)})/")


@dataclass
class _Field:
    """One tag of a statement and its lines (the first after the tag, then its continuations)."""

    tag: str
    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def record(self) -> str:
        return "\n".join([f":{self.tag}:{self.lines[0]}", *self.lines[1:]])


# --- the parts of a statement --------------------------------------------------------------


def _entry_date(text: str, value_date: date) -> date | None:
    """An MMDD entry date in the value date's year, or the year beside it across a new year."""
    year = value_date.year
    month = int(text[:2])
    if value_date.month == 12 and month == 1:
        year += 1
    elif value_date.month == 1 and month == 12:
        year -= 1
    try:
        return date(year, month, int(text[2:]))
    except ValueError:
        return None


def swift_amount(text: str) -> Decimal | None:
    if len(text) > SWIFT_AMOUNT_LENGTH or not SWIFT_AMOUNT.fullmatch(text):
        return None
    return Decimal(text.replace(",", "."))


def _amount_problem(label: str, text: str) -> tuple[str, str]:
    return label, f"field '{label}': '{text}' is not a SWIFT amount (digits with a decimal comma, e.g. 1234,56)"


@dataclass
class _Balance:
    amount: Decimal  # signed: a debit balance is negative
    on: date
    currency: str


def _balance(tag: str, value: str) -> tuple[_Balance | None, list[tuple[str, str]]]:
    """A balance field (:60F:, :62M:, ...): D/C mark, YYMMDD date, currency, amount."""
    value = value.strip()
    mark, date_text, currency, amount_text = value[:1], value[1:7], value[7:10], value[10:]
    problems = []
    if mark not in ("C", "D"):
        problems.append((f":{tag}:/mark", f"field ':{tag}:/mark': '{mark}' is not C (credit) or D (debit)"))
    on = yymmdd_date(date_text)
    if on is None:
        problems.append((f":{tag}:/date", f"field ':{tag}:/date': '{date_text}' is not a date (YYMMDD)"))
    if currency not in known_currencies():
        problems.append(
            (f":{tag}:/currency", f"field ':{tag}:/currency': unknown currency '{currency}' (not an ISO 4217 code)")
        )
    amount = swift_amount(amount_text)
    if amount is None:
        problems.append(_amount_problem(f":{tag}:/amount", amount_text))
    if problems or amount is None or on is None:
        return None, problems
    return _Balance(-amount if mark == "D" else amount, on, currency), []


def _statement_line(lines: list[str]) -> tuple[dict[str, str | None], Decimal | None, list[tuple[str, str]]]:
    """The values of a :61: field, its amount (+ credit, - debit; None when the amount or the
    mark cannot be read) and its problems."""
    value = lines[0].strip()
    values: dict[str, str | None] = {":61:/supplementary_details": " ".join(line.strip() for line in lines[1:]) or None}
    dates = STATEMENT_DATES.match(value)
    if not dates:
        return values, None, [(":61:/value_date", f"field ':61:/value_date': '{value[:6]}' is not a date (YYMMDD)")]
    rest = value[dates.end() :]
    mark = STATEMENT_MARK.match(rest)
    if not mark:
        found = re.findall(r"^[A-Za-z]*", rest)[0] or rest[:2]
        return (
            values,
            None,
            [(":61:/mark", f"field ':61:/mark': '{found}' is not a debit/credit mark (C, D, RC or RD)")],
        )
    credit_debit, reversal = MARKS[mark["mark"]]
    values |= {":61:/mark": credit_debit, ":61:/reversal": reversal, ":61:/funds_code": mark["funds_code"]}
    parts = STATEMENT_AMOUNT_AND_TYPE.fullmatch(rest[mark.end() :])
    if not parts:
        reason = "no transaction type after the amount (S, N or F and three characters, e.g. NTRF)"
        return values, None, [(":61:/transaction_type", f"field ':61:/transaction_type': {reason}")]
    problems = []
    amount = swift_amount(parts["amount"])
    if amount is None:
        problems.append(_amount_problem(":61:/amount", parts["amount"]))
    value_date = yymmdd_date(dates["value_date"])
    if value_date is None:
        text = dates["value_date"]
        problems.append((":61:/value_date", f"field ':61:/value_date': '{text}' is not a date (YYMMDD)"))
    entry_date = value_date
    if value_date and dates["entry_date"]:
        entry_date = _entry_date(dates["entry_date"], value_date)
        if entry_date is None:
            text = dates["entry_date"]
            problems.append((":61:/entry_date", f"field ':61:/entry_date': '{text}' is not a date (MMDD)"))
    customer_reference, _, bank_reference = (part.strip() for part in parts["references"].partition("//"))
    values |= {
        ":61:/value_date": value_date.isoformat() if value_date else None,
        ":61:/entry_date": entry_date.isoformat() if entry_date else None,
        ":61:/amount": str(amount) if amount is not None else None,
        ":61:/transaction_type": parts["transaction_type"],
        ":61:/customer_reference": None if customer_reference in ("", NO_REFERENCE) else customer_reference,
        ":61:/bank_reference": bank_reference or None,
    }
    signed = None if amount is None else (amount if credit_debit == "CRDT" else -amount)
    return values, signed, problems


# --- :86: information to the account owner ---------------------------------------------------


def _join_subfields(parts: list[str]) -> str | None:
    """Subfields as one text: a full one (27 characters) was cut mid-text, a shorter one ended
    where its writer ended it, so a space follows it."""
    joined = parts[0] if parts else ""
    for previous, part in zip(parts, parts[1:], strict=False):
        joined += part if len(previous) >= GERMAN_SUBFIELD_LENGTH else f" {part}"
    return joined.strip() or None


def _german_information(text: str) -> dict[str, str | None]:
    pieces = GERMAN_SUBFIELD.split(text[3:])
    subfields = list(zip(pieces[1::2], pieces[2::2], strict=True))
    purpose = _join_subfields([value for code, value in subfields if code in GERMAN_REMITTANCE]) or ""
    keywords = SEPA_KEYWORDS.split(purpose)
    sepa = {keywords[i]: keywords[i + 1].strip() for i in range(1, len(keywords) - 1, 2)}
    end_to_end = sepa.get("EREF")
    return {
        ":86:/remittance": sepa.get("SVWZ") or purpose or None,
        ":86:/end_to_end_id": None if end_to_end in (None, "", NOT_PROVIDED) else end_to_end,
        ":86:/counterparty_name": _join_subfields([value for code, value in subfields if code in ("32", "33")]),
        ":86:/counterparty_account": next((value.strip() for code, value in subfields if code == "31"), None) or None,
    }


def _dutch_information(text: str) -> dict[str, str | None]:
    matches = list(DUTCH_CODE.finditer(text))
    values: dict[str, str] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        values.setdefault(match[1], text[match.end() : end].rstrip("/"))
    remittance = values.get("REMI", "")
    for prefix in ("USTD//", "STRD/CUR/", "USTD/", "STRD/"):
        if remittance.startswith(prefix):
            remittance = remittance[len(prefix) :]
            break
    counterparty = values.get("CNTP", "").split("/")
    end_to_end = values.get("EREF", "").strip()
    name = (counterparty[2] if len(counterparty) > 2 else "") or values.get("NAME", "")
    return {
        ":86:/remittance": remittance.strip() or None,
        ":86:/end_to_end_id": None if end_to_end in ("", NOT_PROVIDED) else end_to_end,
        ":86:/counterparty_name": name.strip() or None,
        ":86:/counterparty_account": counterparty[0].strip() or None,
    }


def information(lines: list[str]) -> dict[str, str | None]:
    """The remittance text, end-to-end reference and counterparty in a :86: field, whichever
    dialect it is written in."""
    wrapped = "".join(lines)  # the structured dialects wrap at 65 characters, mid-word too
    if GERMAN_INFORMATION.match(wrapped):
        values = _german_information(wrapped)
    elif DUTCH_CODE.match(wrapped):
        values = _dutch_information(wrapped)
    else:
        free_text = " ".join(line.strip() for line in lines).strip()
        values = {":86:/remittance": free_text or None}
    return {":86:": "\n".join(lines), **values}


# --- the file --------------------------------------------------------------------------------


def _statements(path: Path, text: str) -> list[list[_Field]]:
    """The tags of each statement in the file, in order; the SWIFT blocks around them dropped."""
    statements: list[list[_Field]] = []
    in_field = False
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.rstrip("\r")
        if line.startswith("{"):
            # blocks 1 to 3 (and 5) head and tail a message; its text starts after "{4:"
            line = line.partition("{4:")[2]
            in_field = False
        if not line.strip():
            continue
        if MESSAGE_END.fullmatch(line.strip()):
            in_field = False
            continue
        tag = TAG_LINE.fullmatch(line)
        if tag and tag["tag"] == "20":
            statements.append([])
        if tag and statements:
            statements[-1].append(_Field(tag["tag"], number, [tag["value"]]))
            in_field = True
        elif in_field and not tag:
            statements[-1][-1].lines.append(line)
        elif not statements and not tag:
            # a bank's preamble before its first statement (ABN AMRO: ABNANL2A, 940, ABNANL2A)
            continue
        else:
            raise FileRejected(
                f"{path}: line {number}: '{line[:40]}' is outside any statement (a statement starts with "
                "its :20: tag); is this an MT940 file?"
            )
    if not statements:
        raise FileRejected(f"{path}: no MT940 statement in the file (no :20: tag); is this an MT940 file?")
    return statements


def _one(path: Path, fields: list[_Field], tags: tuple[str, ...], label: str, what: str) -> _Field:
    found = [f for f in fields if f.tag in tags]
    if len(found) != 1:
        spelled = " or ".join(f":{tag}:" for tag in tags)
        count = "no" if not found else f"{len(found)}"
        raise FileRejected(f"{path}: {label} has {count} {spelled} ({what}); an MT940 statement has exactly one")
    return found[0]


def _read_statement(
    path: Path, fields: list[_Field]
) -> tuple[list[tuple[int, str, dict[str, str | None]]], list[Rejection], StatementBalance]:
    reference = fields[0].lines[0].strip()
    label = f"statement '{reference}' (line {fields[0].line})"
    account = _one(path, fields, ("25", "25P"), label, "the account")
    account_id = account.lines[0].strip()
    label = f"statement '{reference}' of account '{account_id}' (line {fields[0].line})"
    opening_field = _one(path, fields, ("60F", "60M"), label, "the opening balance")
    closing_field = _one(path, fields, ("62F", "62M"), label, "the closing balance")
    lines = [f for f in fields if f.tag == "61"]
    if lines and not (opening_field.line < lines[0].line and lines[-1].line < closing_field.line):
        raise FileRejected(f"{path}: {label}: its statement lines (:61:) must come between its balances")
    opening, opening_problems = _balance(opening_field.tag, opening_field.lines[0])
    closing, closing_problems = _balance(closing_field.tag, closing_field.lines[0])
    number = next((f.lines[0].strip() for f in fields if f.tag in ("28C", "28")), None)
    if opening and closing and opening.currency != closing.currency:
        raise FileRejected(
            f"{path}: {label}: its opening balance is in {opening.currency} but its closing balance in "
            f"{closing.currency}"
        )
    statement_problems = opening_problems + closing_problems
    statement_values: dict[str, str | None] = {
        ":20:": reference,
        ":25:": account_id,
        ":28C:": number,
        ":60a:/currency": opening.currency if opening else None,
        ":60a:": str(opening.amount) if opening else None,
        ":60a:/date": opening.on.isoformat() if opening else None,
        ":62a:": str(closing.amount) if closing else None,
        ":62a:/date": closing.on.isoformat() if closing else None,
    }
    balance = StatementBalance(
        label=label,
        currency=opening.currency if opening else None,
        opening=opening.amount if opening else None,
        closing=closing.amount if closing else None,
    )
    rows: list[tuple[int, str, dict[str, str | None]]] = []
    rejected: list[Rejection] = []
    for position, statement_line in enumerate(fields):
        if statement_line.tag != "61":
            continue
        following = fields[position + 1] if position + 1 < len(fields) else None
        details = following if following is not None and following.tag == "86" else None
        record = statement_line.record + (f"\n{details.record}" if details else "")
        values, signed, problems = _statement_line(statement_line.lines)
        balance.add(statement_line.line, signed)
        problems = statement_problems + problems
        if problems:
            rejected.append((statement_line.line, record, problems[0][0], "; ".join(reason for _, reason in problems)))
            continue
        values |= information(details.lines) if details else {}
        rows.append((statement_line.line, record, {**statement_values, **values}))
    return rows, rejected, balance


def read_mt940(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row of text columns per statement line (:61:), numbered by the line its tag is on; a
    statement whose balances do not add up rejects the file."""
    text = decode_text(path, path.read_bytes(), "MT940")
    rows: list[tuple[int, str, dict[str, str | None]]] = []
    rejected: list[Rejection] = []
    for fields in _statements(path, text):
        statement_rows, statement_rejected, balance = _read_statement(path, fields)
        balance.check(path)
        rows += statement_rows
        rejected += statement_rejected
    keys = [f.source_key for f in source.fields]
    frame = text_frame([values for _, _, values in rows], keys, [row for row, _, _ in rows], [r for _, r, _ in rows])
    return frame, rejected_frame(rejected)
