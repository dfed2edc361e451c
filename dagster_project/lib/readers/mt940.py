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
    StatementCheck,
    decode_text,
    rejected_frame,
    text_frame,
    yymmdd_date,
)
from dagster_project.lib.sources import Source, known_currencies

TAG_LINE = re.compile(r":(?P<tag>\d{2}[A-Z]?):(?P<value>.*)")
# the headers some banks write before each statement: a BIC (ABN AMRO writes its own, then 940,
# then its own again) or the message type (Rabobank's :940:)
HEADER_LINE = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?|(?:MT)?94[02]|:94[02]:")
# :90D:/:90C: of an interim report: number of entries, currency, sum
INTERIM_TOTAL = re.compile(r"(?P<count>\d{1,5})(?P<currency>[A-Z]{3})(?P<amount>.+)")
# :13D: of an interim report: YYMMDD, hhmm, UTC offset
REPORTED_AT = re.compile(r"(?P<date>\d{6})(?P<hour>\d{2})(?P<minute>\d{2})(?P<offset>[+-]\d{4})")
# the end of a message's text block (`-}`, perhaps followed by block 5), or a lone `-`
MESSAGE_END = re.compile(r"-(\}.*)?")
# 15d: digits, a decimal comma, at most 15 characters in all
SWIFT_AMOUNT = re.compile(r"\d{1,14},\d*")
SWIFT_AMOUNT_LENGTH = 15
LEADING_ZEROS = re.compile(r"^0+(?=\d)")
STATEMENT_DATES = re.compile(r"(?P<value_date>\d{6})(?P<entry_date>\d{4})?")
# RC and RD (reversals) before C and D; a funds code is the letter before the amount's digits
STATEMENT_MARK = re.compile(r"(?P<mark>RC|RD|C|D)(?P<funds_code>[A-Z](?=[\d,]))?")
# S (SWIFT transfer), N (other transfer) or F (first advice), then three characters: NTRF, S103
# three spaces after the S, N or F are no identification code, as Hungarian banks write it
STATEMENT_AMOUNT_AND_TYPE = re.compile(
    r"(?P<amount>.*?)(?P<transaction_type>[SNF](?:[A-Z0-9]{3}| {3}))(?P<references>.*)"
)
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
    # a bank that pads an amount with zeros past SWIFT's 15 characters (0000000000001234,56)
    # writes the same value: the zeros are not counted
    unpadded = LEADING_ZEROS.sub("", text)
    if len(unpadded) > SWIFT_AMOUNT_LENGTH or not SWIFT_AMOUNT.fullmatch(unpadded):
        return None
    return Decimal(unpadded.replace(",", "."))


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
        ":61:/transaction_type": parts["transaction_type"].strip(),
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
    """The tags of each statement in the file, in order; the SWIFT blocks around them and the
    headers a bank repeats before each statement dropped."""
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
        elif not statements or (not in_field and HEADER_LINE.fullmatch(line.strip())):
            # a bank's preamble before its first statement, and the header some repeat before
            # every later one (ABN AMRO: ABNANL2A, 940, ABNANL2A; Rabobank: :940:)
            continue
        else:
            raise FileRejected(
                f"{path}: line {number}: '{line[:40]}' is outside any statement (a statement starts with "
                "its :20: tag); is this an MT940 file?"
            )
    if not statements:
        raise FileRejected(f"{path}: no MT940 statement in the file (no :20: tag); is this an MT940 file?")
    return statements


def _one(
    fields: list[_Field], tags: tuple[str, ...], what: str, message: str
) -> tuple[_Field | None, tuple[str, str] | None]:
    """The one field of these tags, or (field, problem) when there is none or more than one."""
    found = [f for f in fields if f.tag in tags]
    if len(found) == 1:
        return found[0], None
    spelled = " or ".join(f":{tag}:" for tag in tags)
    count = "no" if not found else f"{len(found)}"
    return None, (f":{tags[0]}:", f"it has {count} {spelled} ({what}); an {message} has exactly one")


def _sequence(number: str | None) -> tuple[str, int] | None:
    """(statement number, sequence number) of a :28C: such as 00046/002, when it has both."""
    match = re.fullmatch(r"(?P<statement>\d+)/(?P<sequence>\d+)", number or "")
    return (match["statement"], int(match["sequence"])) if match else None


def _interim_totals(tag: str, value: str) -> tuple[tuple[int, str, Decimal] | None, str | None]:
    """A :90D: or :90C: field: the number of entries, the currency, their sum."""
    match = INTERIM_TOTAL.fullmatch(value.strip())
    amount = swift_amount(match["amount"]) if match else None
    if not match or amount is None:
        return None, (
            f"field ':{tag}:': '{value.strip()}' is not a number of entries, a currency and their sum "
            "(e.g. 3EUR1234,56)"
        )
    return (int(match["count"]), match["currency"], amount), None


def _reported_at(value: str) -> str | None:
    """A :13D: date and time with its UTC offset (YYMMDDhhmm+hhmm), as a timestamp's text."""
    match = REPORTED_AT.fullmatch(value.strip())
    on = yymmdd_date(match["date"]) if match else None
    if not match or on is None or int(match["hour"]) > 23 or int(match["minute"]) > 59:  # noqa: PLR2004
        return None
    return f"{on.isoformat()} {match['hour']}:{match['minute']}:00 {match['offset']}"


@dataclass
class _Statement:
    """What one statement of a file gave: its rows, its quarantined lines and its check."""

    rows: list[tuple[int, str, dict[str, str | None]]]
    rejected: list[Rejection]
    check: StatementCheck
    # :60F: or :60M: (an intermediate part's opening, which the part before it must close on)
    opening_field: str | None = None


def _line_records(fields: list[_Field]) -> list[tuple[_Field, _Field | None, str]]:
    """Each statement line (:61:), the :86: after it if any, and the two as the quarantine shows them."""
    found = []
    for position, statement_line in enumerate(fields):
        if statement_line.tag != "61":
            continue
        following = fields[position + 1] if position + 1 < len(fields) else None
        details = following if following is not None and following.tag == "86" else None
        found.append((statement_line, details, statement_line.record + (f"\n{details.record}" if details else "")))
    return found


def _structure(fields: list[_Field], message_type: str) -> tuple[dict[str, _Field], tuple[str, str] | None]:
    """The statement's fields by role, or (field, problem) that makes it unreadable as this
    message type."""
    other = "mt942" if message_type == "940" else "mt940"
    if (
        message_type == "940"
        and not any(f.tag in ("60F", "60M") for f in fields)
        and any(f.tag in ("13D", "34F") for f in fields)
    ):
        return {}, (":60F:", f"it is an MT942 interim report (:13D:/:34F:, no :60F:); ingest it as source {other}")
    if message_type == "942" and any(f.tag in ("60F", "60M", "62F", "62M") for f in fields):
        return {}, (":13D:", f"it is an MT940 statement (:60F:/:62F:); ingest it as source {other}")
    message = "MT940 statement" if message_type == "940" else "MT942 interim report"
    roles = {"account": (("25", "25P"), "the account")}
    if message_type == "940":
        roles |= {
            "opening": (("60F", "60M"), "the opening balance"),
            "closing": (("62F", "62M"), "the closing balance"),
        }
    else:
        roles |= {"reported_at": (("13D",), "the date and time of the report")}
    found: dict[str, _Field] = {}
    for role, (tags, what) in roles.items():
        one, problem = _one(fields, tags, what, message)
        # a statement without its closing balance still says what its lines are (the opening
        # gives their currency): they load, and the statement is not checked
        if problem and not (role == "closing" and not any(f.tag in tags for f in fields)):
            return {}, problem
        if one is not None:
            found[role] = one
    lines = [f for f in fields if f.tag == "61"]
    if message_type == "940" and lines:
        end = found["closing"].line if "closing" in found else lines[-1].line + 1
        if not (found["opening"].line < lines[0].line and lines[-1].line < end):
            return {}, (":61:", "its statement lines (:61:) must come between its balances")
    if message_type == "942":
        limits = [f for f in fields if f.tag == "34F"]
        if not 1 <= len(limits) <= 2:  # noqa: PLR2004
            count = len(limits) or "no"
            return {}, (":34F:", f"it has {count} :34F: (the floor limit); an MT942 interim report has one or two")
        found["floor_limit"] = limits[0]
        if len(limits) == 2:  # noqa: PLR2004
            found["credit_floor_limit"] = limits[1]
    return found, None


def _read_statement(position: int, fields: list[_Field], message_type: str) -> _Statement:
    """One statement (MT940) or interim report (MT942): its lines, those quarantined, its check."""
    reference = fields[0].lines[0].strip()
    account_text = next((f.lines[0].strip() for f in fields if f.tag in ("25", "25P")), None)
    label = f"statement '{reference}'" + (f" of account '{account_text}'" if account_text else "")
    label += f" (line {fields[0].line})"
    number = next((f.lines[0].strip() for f in fields if f.tag in ("28C", "28")), None)
    check = StatementCheck(
        position=position,
        line=fields[0].line,
        label=label,
        statement_id=reference,
        account_id=account_text,
        currency=None,
        check_kind="balances" if message_type == "940" else "interim_totals",
        statement_number=number,
    )
    line_records = _line_records(fields)
    found, structure_problem = _structure(fields, message_type)
    if structure_problem:
        # a statement that cannot be read as one: its lines are quarantined, its siblings load
        problem_field, problem = structure_problem
        check.not_checked = problem
        rejected = [(f.line, record, problem_field, f"{label}: {problem}") for f, _, record in line_records]
        for f, _, _ in line_records:
            check.add(f.line, None)
        return _Statement([], rejected, check)
    statement_values: dict[str, str | None] = {":20:": reference, ":25:": account_text, ":28C:": number}
    statement_problems: list[tuple[str, str]] = []
    if message_type == "940":
        statement_problems += _balances(found, check, statement_values)
    else:
        statement_problems += _interim(found, fields, check, statement_values)
    if statement_problems and check.not_checked is None:
        check.not_checked = "; ".join(reason for _, reason in statement_problems)
    rows: list[tuple[int, str, dict[str, str | None]]] = []
    rejected: list[Rejection] = []
    # an interim report that totals one side only says nothing about the other side's lines
    counted_side = _counted_side(fields) if message_type == "942" else None
    for statement_line, details, record in line_records:
        values, signed, problems = _statement_line(statement_line.lines)
        side = values.get(":61:/mark")
        check.add(statement_line.line, signed, counted=counted_side is None or side in (None, counted_side))
        problems = statement_problems + problems
        if problems:
            rejected.append((statement_line.line, record, problems[0][0], "; ".join(reason for _, reason in problems)))
            continue
        values |= information(details.lines) if details else {}
        rows.append((statement_line.line, record, {**statement_values, **values}))
    statement = _Statement(rows, rejected, check)
    if message_type == "940":
        statement.opening_field = found["opening"].tag
    return statement


def _balances(found: dict[str, _Field], check: StatementCheck, values: dict[str, str | None]) -> list[tuple[str, str]]:
    """An MT940 statement's balances into its values and its check; the problems that leave its
    lines without what they need (the opening balance gives their currency, which a closing
    balance in another currency contradicts). A closing balance that is missing or unreadable
    leaves the statement not checked."""
    opening, opening_problems = _balance(found["opening"].tag, found["opening"].lines[0])
    if "closing" in found:
        closing, closing_problems = _balance(found["closing"].tag, found["closing"].lines[0])
    else:
        closing, closing_problems = None, []
        check.not_checked = "it gives no closing balance (:62F: or :62M:) to check its lines against"
    if closing_problems:
        check.not_checked = "; ".join(reason for _, reason in closing_problems)
    if opening and closing and opening.currency != closing.currency:
        # which of the two the lines are in cannot be told: they are quarantined
        reason = f"its opening balance is in {opening.currency} but its closing balance in {closing.currency}"
        return [(f":{found['closing'].tag}:/currency", f"{check.label}: {reason}")]
    values |= {
        ":60a:/currency": opening.currency if opening else None,
        ":60a:": str(opening.amount) if opening else None,
        ":60a:/date": opening.on.isoformat() if opening else None,
        ":62a:": str(closing.amount) if closing else None,
        ":62a:/date": closing.on.isoformat() if closing else None,
    }
    if opening:
        check.currency, check.opening = opening.currency, opening.amount
    if opening and closing:
        check.statement_date, check.closing = closing.on, closing.amount
        check.expected = closing.amount - opening.amount
    return opening_problems


def _counted_side(fields: list[_Field]) -> str | None:
    """The side of the lines an interim report's totals count: both (None) when it gives :90C:
    and :90D: or neither, else the one it gives."""
    tags = {f.tag for f in fields} & {"90D", "90C"}
    if len(tags) == 1:
        return "DBIT" if tags == {"90D"} else "CRDT"
    return None


def _interim(
    found: dict[str, _Field], fields: list[_Field], check: StatementCheck, values: dict[str, str | None]
) -> list[tuple[str, str]]:
    """An MT942 report's floor limit, time and totals into its values and its check; the problems
    reading them."""
    problems: list[tuple[str, str]] = []
    limit = found["floor_limit"].lines[0].strip()
    currency = limit[:3]
    if currency not in known_currencies():
        problems.append(
            (":34F:/currency", f"field ':34F:/currency': unknown currency '{currency}' (not an ISO 4217 code)")
        )
    reported_text = found["reported_at"].lines[0].strip()
    reported_at = _reported_at(reported_text)
    if reported_at is None:
        problems.append(
            (":13D:", f"field ':13D:': '{reported_text}' is not a date and time with its offset (YYMMDDhhmm+hhmm)")
        )
    credit_limit = found.get("credit_floor_limit")
    values |= {
        ":34F:/currency": currency,
        ":34F:": limit[3:] or None,
        ":34F:/credit": credit_limit.lines[0].strip()[3:] or None if credit_limit else None,
        ":13D:": reported_at,
    }
    if problems:
        return problems
    check.currency = currency
    check.statement_date = date.fromisoformat(reported_at[:10]) if reported_at else None
    expected, count, not_given = Decimal(0), 0, []
    for tag, sign in (("90D", -1), ("90C", 1)):
        total_field = next((f for f in fields if f.tag == tag), None)
        if total_field is None:
            not_given.append(tag)
            continue
        totals, problem = _interim_totals(tag, total_field.lines[0])
        if problem or totals is None:
            check.not_checked = problem
            return []
        entries, total_currency, amount = totals
        if total_currency != currency:
            check.not_checked = f"its :{tag}: is in {total_currency}, its floor limit (:34F:) in {currency}"
            return []
        values |= {f":{tag}:/count": str(entries), f":{tag}:": str(amount)}
        expected, count = expected + sign * amount, count + entries
    if len(not_given) == 2:  # noqa: PLR2004
        check.not_checked = "it gives no :90D: or :90C: (number and sum of its entries) to check its lines against"
    else:
        check.expected, check.expected_count = expected, count
    return []


def _chain(statements: list[_Statement]) -> None:
    """The parts of a statement sent in several messages follow one another: a part's
    intermediate opening balance (:60M:) is the closing balance of the part before it (:28C:
    sequence number less one, of the same account and statement number)."""
    closings: dict[tuple[str | None, str, int], tuple[Decimal | None, int]] = {}
    for statement in statements:
        check = statement.check
        sequence = _sequence(check.statement_number)
        if sequence is None:
            continue
        statement_number, part = sequence
        closings[(check.account_id, statement_number, part)] = (check.closing, check.line)
        if statement.opening_field != "60M" or check.opening is None:
            continue
        previous = closings.get((check.account_id, statement_number, part - 1))
        if previous is not None and previous[0] is not None and previous[0] != check.opening:
            check.problems.append(
                f"its intermediate opening balance (:60M:) {check.opening} is not the closing balance "
                f"{previous[0]} of the part before it (:28C: {statement_number}/{part - 1}, line {previous[1]})"
            )


def read_statements(
    path: Path, source: Source, message_type: str
) -> tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]:
    """One row of text columns per statement line (:61:), numbered by the line its tag is on,
    and each statement's check. A statement that does not add up is loaded and flagged; one
    that cannot be read as a statement has its lines quarantined; its siblings load either way."""
    text = decode_text(path, path.read_bytes(), f"MT{message_type}")
    statements = [
        _read_statement(position, fields, message_type)
        for position, fields in enumerate(_statements(path, text), start=1)
    ]
    _chain(statements)
    rows = [row for statement in statements for row in statement.rows]
    rejected = [line for statement in statements for line in statement.rejected]
    keys = [f.source_key for f in source.fields]
    frame = text_frame([values for _, _, values in rows], keys, [row for row, _, _ in rows], [r for _, r, _ in rows])
    return frame, rejected_frame(rejected), [statement.check for statement in statements]


def read_mt940(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]:
    """The statement lines of an MT940 file (customer statements) and each statement's check."""
    return read_statements(path, source, "940")


def read_mt942(path: Path, source: Source) -> tuple[pl.DataFrame, pl.DataFrame, list[StatementCheck]]:
    """The entries of an MT942 file (interim transaction reports) and each report's check."""
    return read_statements(path, source, "942")
