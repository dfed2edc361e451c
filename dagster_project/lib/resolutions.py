"""Resolving exceptions: validate an operator's action against the current exception, append it
to the resolutions log (raw.resolutions, never updated), and list the log.

What each action does once the next `recon run` has re-evaluated what it touches:

- ``assign``: OPEN -> ASSIGNED, with an assignee (``--assignee``, else ``--by``); moves no money.
- ``force_match``: the exception's own pair (an expectation and the target that failed a match
  rule against it) is matched ahead of the rules; the ledger posts the expectation's transaction
  against that target, any amount difference going to reconciliation_variance.
- ``link``: the exception's entry is matched with a chosen counterpart (``--counterpart``), as
  force_match does for a pair the identifiers did not find.
- ``write_off``: the amount difference of an amount_over/amount_under pair (or part of it,
  ``--amount``) is posted to reconciliation_variance as a transaction of its own,
  ``txn|resolution|<resolution_id>``; the pair stays unmatched and the exception RESOLVED.
- ``void`` / ``ignore``: RESOLVED, no money moves.
- ``mark_received``: a missing counterpart is declared received outside the sources: RESOLVED,
  no money moves (the expectation stays EXPECTED in the ledger until a counterpart arrives).
- ``correct_entry``: records the corrected amount (``--amount``) in the log: RESOLVED; the
  entry itself is not rewritten (a corrected record arrives through its source as a new copy).
"""

import csv
import difflib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

ACTIONS = ("assign", "force_match", "link", "write_off", "void", "ignore", "mark_received", "correct_entry")
PAIR_ACTIONS = ("force_match", "link")
AMOUNT_CATEGORIES = ("amount_over", "amount_under")
CSV_COLUMNS = ("exception_id", "action", "reason", "by", "counterpart", "amount")


class ResolutionRefused(ValueError):
    """An action that does not fit its exception; nothing was written."""


@dataclass(frozen=True)
class ResolutionRequest:
    exception_id: str
    action: str
    reason: str
    by: str
    counterpart: str | None = None
    amount: str | None = None
    assignee: str | None = None


def _one(connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    relation = connection.execute(sql, params)
    names = [column[0] for column in relation.description]
    row = relation.fetchone()
    return dict(zip(names, row, strict=True)) if row else None


def _to_minor(connection: duckdb.DuckDBPyConnection, amount: str, currency: str) -> int:
    row = _one(connection, "select minor_units from config.currencies where currency_code = ?", [currency])
    minor_units = row["minor_units"] if row and row["minor_units"] is not None else 2
    try:
        value = Decimal(amount) * (10**minor_units)
    except InvalidOperation:
        raise ResolutionRefused(f"--amount {amount!r} is not a number (e.g. 12.50 in {currency})") from None
    if value != value.to_integral_value():
        raise ResolutionRefused(f"--amount {amount} has more than {minor_units} decimals for {currency}")
    return int(value)


def _find_exception(connection: duckdb.DuckDBPyConnection, exception_id: str) -> dict[str, Any]:
    exception = _one(connection, "select * from marts.fct_exceptions where exception_id = ?", [exception_id])
    if exception:
        return exception
    known = [row[0] for row in connection.execute("select exception_id from marts.fct_exceptions").fetchall()]
    by_prefix = [candidate for candidate in known if candidate.startswith(exception_id)]
    if len(exception_id) >= 6 and len(by_prefix) == 1:
        return _one(connection, "select * from marts.fct_exceptions where exception_id = ?", by_prefix)  # type: ignore[return-value]
    resolved = _one(
        connection,
        """
        select resolution_id, action from raw.resolutions
        where exception_id = ? and action in ('force_match', 'link') order by resolved_at desc limit 1
        """,
        [exception_id],
    )
    if resolved:
        raise ResolutionRefused(
            f"exception {exception_id} was resolved by {resolved['action']} ({resolved['resolution_id']}) "
            "and is no longer an exception; see `recon resolutions --exception`"
        )
    # a mistyped or shortened id: compare it with the ids cut to its length
    close = (
        by_prefix[:5]
        or [
            candidate
            for candidate in known
            if difflib.SequenceMatcher(None, exception_id, candidate[: len(exception_id)]).ratio() >= 0.75
        ][:3]
    )
    hint = f"; did you mean {', '.join(close)}?" if close else "; list them with `recon exceptions`"
    raise ResolutionRefused(f"unknown exception {exception_id!r}{hint}")


def _latest_action(
    connection: duckdb.DuckDBPyConnection, exception_id: str, pending: list[dict[str, Any]]
) -> dict[str, Any] | None:
    for row in reversed(pending):
        if row["exception_id"] == exception_id:
            return row
    return _one(
        connection,
        "select * from raw.resolutions where exception_id = ? order by resolved_at desc, resolution_id desc limit 1",
        [exception_id],
    )


def _matched_entries(connection: duckdb.DuckDBPyConnection, pending: list[dict[str, Any]]) -> set[str]:
    """Every entry a match consumed (either side), and those the pending pair actions will."""
    matched = {
        row[0]
        for row in connection.execute(
            """
            select unnest(target_member_entry_ids) from intermediate.int_matches_assigned
            union
            select unnest(expectations.member_entry_ids)
            from intermediate.int_matches_assigned as matches
            inner join intermediate.int_expectations_created as expectations
                on expectations.expectation_id = matches.expectation_id
            """
        ).fetchall()
    }
    for row in pending:
        if row["action"] in PAIR_ACTIONS:
            matched.update(row["entry_ids"])
    return matched


def _expectation(connection: duckdb.DuckDBPyConnection, expectation_id: str) -> dict[str, Any] | None:
    return _one(
        connection, "select * from intermediate.int_expectations_created where expectation_id = ?", [expectation_id]
    )


def _pair(
    connection: duckdb.DuckDBPyConnection,
    exception: dict[str, Any],
    request: ResolutionRequest,
    pending: list[dict[str, Any]],
) -> tuple[str, str, str, list[str]]:
    """(expectation_id, target_unit_id, target_entry_id, entry ids touched) of a pair action."""
    if request.action == "force_match":
        if not exception["expectation_id"] or not exception["target_unit_id"]:
            raise ResolutionRefused(
                f"force_match needs a candidate counterpart, and this {exception['category']} exception has none; "
                "use --action link --counterpart ENTRY_ID"
            )
        candidate = _one(
            connection,
            """
            select target_entry_id, target_member_entry_ids from intermediate.int_match_candidates_evaluated
            where expectation_id = ? and target_unit_id = ?
            """,
            [exception["expectation_id"], exception["target_unit_id"]],
        )
        if candidate is None:
            raise ResolutionRefused("force_match: the exception's pair is no longer a candidate; run `recon run`")
        expectation = _expectation(connection, exception["expectation_id"])
        assert expectation is not None
        touched = [*expectation["member_entry_ids"], *candidate["target_member_entry_ids"]]
        return exception["expectation_id"], exception["target_unit_id"], candidate["target_entry_id"], touched

    if not request.counterpart:
        raise ResolutionRefused("link needs --counterpart ENTRY_ID (an entry id, as `recon matches` shows them)")
    counterpart = _one(
        connection,
        "select entry_id, currency, is_reconcilable from intermediate.int_entries_unioned where entry_id = ?",
        [request.counterpart],
    )
    if counterpart is None or not counterpart["is_reconcilable"]:
        raise ResolutionRefused(f"link: no live entry {request.counterpart!r} in the warehouse")
    if request.counterpart in exception["entry_ids"]:
        raise ResolutionRefused(f"link: {request.counterpart} is this exception's own entry")
    if request.counterpart in _matched_entries(connection, pending):
        raise ResolutionRefused(f"link: {request.counterpart} already matched")
    counterpart_expectation = _one(
        connection,
        """
        select expectation_id from intermediate.int_expectations_created
        where list_contains(member_entry_ids, ?) order by expectation_id limit 1
        """,
        [request.counterpart],
    )
    if counterpart_expectation is None and exception["expectation_id"]:
        expectation_id, target_entry_id = exception["expectation_id"], request.counterpart
    elif counterpart_expectation is not None:
        own_entry = exception["target_unit_id"] or exception["entry_ids"][0]
        expectation_id, target_entry_id = counterpart_expectation["expectation_id"], own_entry
    else:
        raise ResolutionRefused(
            f"link: neither this {exception['category']} exception nor {request.counterpart} is the source of an "
            "expectation, so there is nothing to match"
        )
    expectation = _expectation(connection, expectation_id)
    target = _one(
        connection, "select currency from intermediate.int_entries_unioned where entry_id = ?", [target_entry_id]
    )
    assert expectation is not None
    if target is None:
        raise ResolutionRefused(f"link: {target_entry_id} is a group; link one of its entries")
    if target["currency"] != expectation["expected_currency"]:
        raise ResolutionRefused(
            f"link: {expectation['expected_currency']} expected, {target_entry_id} is in {target['currency']}; "
            "a link across currencies is not supported (the rule's fx conversion applies only to rule matches)"
        )
    return expectation_id, target_entry_id, target_entry_id, [*expectation["member_entry_ids"], target_entry_id]


def validate(
    connection: duckdb.DuckDBPyConnection, request: ResolutionRequest, pending: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The raw.resolutions row for ``request``, or ResolutionRefused saying why it does not fit.
    ``pending`` holds rows validated earlier in the same batch (they count as written)."""
    pending = pending or []
    action = request.action.strip().lower()
    if action not in ACTIONS:
        raise ResolutionRefused(f"unknown action {request.action!r}; one of {', '.join(ACTIONS)}")
    request = ResolutionRequest(**{**request.__dict__, "action": action})
    if not request.reason.strip():
        raise ResolutionRefused("a resolution needs --reason (why, for the audit trail)")
    if not request.by.strip():
        raise ResolutionRefused("a resolution needs --by NAME")
    exception = _find_exception(connection, request.exception_id)
    exception_id = exception["exception_id"]
    latest = _latest_action(connection, exception_id, pending)
    if latest and latest["action"] != "assign":
        raise ResolutionRefused(
            f"exception {exception_id} is already RESOLVED ({latest['action']} by {latest['resolved_by']} "
            f"at {latest['resolved_at']:%Y-%m-%d %H:%M:%S}, {latest['resolution_id']})"
        )
    category, currency = exception["category"], exception["currency"]
    row: dict[str, Any] = {
        "exception_id": exception_id,
        "category": category,
        "profile_id": exception["profile_id"],
        "action": action,
        "reason": request.reason.strip(),
        "resolved_by": request.by.strip(),
        "assignee": None,
        "counterpart_entry_id": request.counterpart or None,
        "amount_minor": None,
        "currency": currency,
        "expectation_id": exception["expectation_id"],
        "target_unit_id": exception["target_unit_id"],
        "target_entry_id": None,
        "entry_ids": list(exception["entry_ids"]),
    }
    if action != "link" and request.counterpart:
        raise ResolutionRefused(f"--counterpart is for link, not {action}")
    if action not in ("write_off", "correct_entry") and request.amount:
        raise ResolutionRefused(f"--amount is for write_off and correct_entry, not {action}")

    if action == "assign":
        row["assignee"] = (request.assignee or request.by).strip()
    elif action in PAIR_ACTIONS:
        expectation_id, target_unit_id, target_entry_id, touched = _pair(connection, exception, request, pending)
        already = _matched_entries(connection, pending) & set(touched)
        if already:
            raise ResolutionRefused(f"{action}: {', '.join(sorted(already))} already matched")
        row.update(
            expectation_id=expectation_id,
            target_unit_id=target_unit_id,
            target_entry_id=target_entry_id,
            entry_ids=sorted(set(row["entry_ids"]) | set(touched)),
        )
    elif action == "write_off":
        variance = exception["variance_minor"]
        if category not in AMOUNT_CATEGORIES or not variance or not exception["target_unit_id"]:
            raise ResolutionRefused(
                f"write_off needs an amount difference (amount_over / amount_under), and this {category} "
                "exception has none; void, ignore or link it instead"
            )
        amount = variance
        if request.amount:
            amount = abs(_to_minor(connection, request.amount, currency)) * (1 if variance > 0 else -1)
            if amount == 0 or abs(amount) > abs(variance):
                raise ResolutionRefused(
                    f"write_off --amount {request.amount}: between 0 and the difference ({abs(variance)} minor units)"
                )
        target = _one(
            connection,
            "select target_entry_id from intermediate.int_match_candidates_evaluated where target_unit_id = ? limit 1",
            [exception["target_unit_id"]],
        )
        row.update(amount_minor=amount, target_entry_id=target["target_entry_id"] if target else None)
        if row["target_entry_id"] is None:
            raise ResolutionRefused("write_off: the exception's target is no longer a candidate; run `recon run`")
    elif action == "correct_entry":
        if not request.amount:
            raise ResolutionRefused("correct_entry needs --amount (the corrected amount, e.g. 12.50)")
        row["amount_minor"] = _to_minor(connection, request.amount, currency)
    elif action == "mark_received" and category != "missing_counterpart":
        raise ResolutionRefused(f"mark_received is for a missing_counterpart exception, not {category}")
    return row


def _new_id(at: datetime) -> str:
    return f"res|{at:%Y%m%dT%H%M%S}|{uuid.uuid4().hex[:8]}"


def record(connection: duckdb.DuckDBPyConnection, validated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append the validated rows to raw.resolutions in one transaction; return them with ids."""
    from dagster_project.lib.ingest import ensure_raw_schema

    ensure_raw_schema(connection)
    now = datetime.now(UTC).replace(tzinfo=None)
    written = []
    connection.execute("begin transaction")
    try:
        for offset, row in enumerate(validated):
            # microseconds apart, so the order of a batch is the order of its rows
            at = now.replace(microsecond=min(now.microsecond + offset, 999_999))
            full = {"resolution_id": _new_id(at), "resolved_at": at, **row}
            columns = ", ".join(full)
            connection.execute(
                f"insert into raw.resolutions ({columns}) values ({', '.join('?' for _ in full)})",
                list(full.values()),
            )
            written.append(full)
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return written


def resolve(connection: duckdb.DuckDBPyConnection, requests: list[ResolutionRequest]) -> list[dict[str, Any]]:
    """Validate every request, then write all of them, or none (ResolutionRefused naming each)."""
    from dagster_project.lib.ingest import ensure_raw_schema

    ensure_raw_schema(connection)
    validated: list[dict[str, Any]] = []
    errors: list[str] = []
    for request in requests:
        try:
            validated.append(validate(connection, request, validated))
        except ResolutionRefused as refusal:
            errors.append(str(refusal))
    if errors:
        raise ResolutionRefused("; ".join(errors))
    return record(connection, validated)


def read_actions(path: Path, by_default: str) -> list[tuple[int, ResolutionRequest]]:
    """The rows of a bulk CSV (columns exception_id, action, reason, by, counterpart, amount and,
    optionally, assignee), each with its line number."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in ("exception_id", "action", "reason") if column not in (reader.fieldnames or [])]
        if missing:
            raise ResolutionRefused(
                f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(CSV_COLUMNS)}"
            )
        requests = []
        for row in reader:
            requests.append(
                (
                    reader.line_num,
                    ResolutionRequest(
                        exception_id=(row.get("exception_id") or "").strip(),
                        action=(row.get("action") or "").strip(),
                        reason=row.get("reason") or "",
                        by=(row.get("by") or "").strip() or by_default,
                        counterpart=(row.get("counterpart") or "").strip() or None,
                        amount=(row.get("amount") or "").strip() or None,
                        assignee=(row.get("assignee") or "").strip() or None,
                    ),
                )
            )
    return requests


def resolve_file(connection: duckdb.DuckDBPyConnection, path: Path, by_default: str) -> list[dict[str, Any]]:
    """Every row of the CSV validated first; all written, or none with each row's error and line."""
    from dagster_project.lib.ingest import ensure_raw_schema

    ensure_raw_schema(connection)
    numbered = read_actions(path, by_default)
    if not numbered:
        raise ResolutionRefused(f"{path}: no actions")
    validated: list[dict[str, Any]] = []
    errors: list[str] = []
    for line, request in numbered:
        try:
            validated.append(validate(connection, request, validated))
        except ResolutionRefused as refusal:
            errors.append(f"{path}:{line}: {refusal}")
    if errors:
        raise ResolutionRefused(
            f"nothing written; {len(errors)} of {len(numbered)} row(s) refused:\n  " + "\n  ".join(errors)
        )
    return record(connection, validated)


def resolution_log(connection: duckdb.DuckDBPyConnection, exception_id: str | None) -> list[dict[str, Any]]:
    """The resolutions log, oldest first."""
    relation = connection.execute(
        f"""
        select
            resolution_id,
            exception_id,
            category,
            action,
            reason,
            resolved_by,
            assignee,
            resolved_at,
            counterpart_entry_id,
            amount_minor,
            currency,
            expectation_id,
            target_unit_id,
            entry_ids
        from raw.resolutions
        {"where exception_id = ?" if exception_id else ""}
        order by resolved_at, resolution_id
        """,
        [exception_id] if exception_id else [],
    )
    names = [column[0] for column in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
