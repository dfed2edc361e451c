"""Outbound alerts: signed webhooks (JSON or Slack-compatible) on new exceptions above a severity, on
a match rate below a threshold and on a failed run, delivered with retries, dead letters kept.

Endpoints come from ``$RECON_HOME/alerts.yml``::

    timeout_seconds: 10        # optional: one attempt gives up after this long
    max_attempts: 5            # optional: attempts per delivery before it becomes a dead letter
    backoff_seconds: 1         # optional: the wait after attempt n is backoff_seconds * 2**(n-1)...
    max_backoff_seconds: 60    # ...capped at this
    endpoints:
      finance_ops:
        url: https://hooks.example.com/recon
        secret_env: RECON_ALERTS_SECRET   # or `secret: ...`
        format: json                      # or slack
        min_severity: high                # optional: new exceptions of this severity or above
        match_rate_below: 0.95            # optional: a profile's business day below this rate
        on_failed_run: true               # optional: a reconciliation run that failed

Every request carries ``X-Recon-Delivery: <alert id>`` (stable: the same alert always has the same
id, so a receiver can deduplicate) and ``X-Recon-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"{t}.{raw body}" under the endpoint's secret>``.

State lives under ``$RECON_HOME/alerts/``, never in the warehouse: DuckDB allows one writing
process, and a failed run or a run in progress holds it, which is exactly when alerts must still
be written. The sensors and the command line read the marts over a read-only connection.

- ``sent.ids``: ``<endpoint> <alert id>`` of every alert whose delivery has concluded (delivered or
  dead-lettered), appended and fsynced; an evaluation sends only alerts not in it, so each alert
  goes out once however often the marts are evaluated.
- ``dead_letters.jsonl``: the alerts whose every attempt failed, rewritten atomically (temporary
  file, fsync, rename) by `recon alerts retry`, which removes those it delivers.
- ``deliveries.jsonl``: the delivery log, one line per concluded delivery: when, which alert, to
  which endpoint, attempts, outcome and the last error.

One evaluation at a time holds ``alerts/.lock`` (the Dagster sensors and the command line may run
side by side). A crash after a receiver accepted an alert but before ``sent.ids`` recorded it sends
it again on the next evaluation, with the same delivery id: delivery is at least once, and exactly
once for a receiver that deduplicates by ``X-Recon-Delivery``.
"""

import fcntl
import hashlib
import hmac
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import yaml

from dagster_project.lib.durable import append_line, read_lines, write_atomically
from dagster_project.lib.home import ReconHome
from dagster_project.lib.queries import rows
from dagster_project.lib.warehouse import connect, table_exists

CONFIG_FILE = "alerts.yml"
SEVERITIES = ("low", "medium", "high", "critical")
FORMATS = ("json", "slack")
EVENT_TYPES = ("exception.new", "match_rate.low", "run.failed")
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class AlertConfigError(ValueError):
    """alerts.yml is unreadable or a key in it is wrong."""


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertEndpoint:
    name: str
    url: str
    secret: str = field(repr=False)
    format: str = "json"
    min_severity: str | None = None
    match_rate_below: float | None = None
    on_failed_run: bool = False


@dataclass(frozen=True)
class AlertSettings:
    endpoints: dict[str, AlertEndpoint]
    timeout_seconds: float = 10.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0


def load_settings(home: ReconHome, environ: dict[str, str] | None = None) -> AlertSettings:
    """The endpoints of alerts.yml; no file means no endpoints."""
    environ = dict(os.environ if environ is None else environ)
    path = home.root / CONFIG_FILE
    if not path.exists():
        return AlertSettings(endpoints={})
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise AlertConfigError(f"{path}: not valid YAML: {error}") from None
    document = document or {}
    if not isinstance(document, dict):
        raise AlertConfigError(f"{path}: expected a mapping with endpoints: and delivery settings")
    top_level = {"endpoints", "timeout_seconds", "max_attempts", "backoff_seconds", "max_backoff_seconds"}
    unknown = sorted(set(map(str, document)) - top_level)
    if unknown:
        raise AlertConfigError(f"{path}: {unknown[0]}: unknown key; known keys: {', '.join(sorted(top_level))}")

    def number(key: str, default: float, kind: type, minimum: float) -> Any:
        value = document.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum or kind(value) != value:
            raise AlertConfigError(f"{path}: {key}: expected a {kind.__name__} of at least {minimum}, got {value!r}")
        return kind(value)

    endpoints = document.get("endpoints") or {}
    if not isinstance(endpoints, dict):
        raise AlertConfigError(f"{path}: endpoints: expected a mapping of endpoint names to their settings")
    return AlertSettings(
        endpoints={str(name): _endpoint(path, str(name), value, environ) for name, value in endpoints.items()},
        timeout_seconds=number("timeout_seconds", 10.0, float, 0.001),
        max_attempts=number("max_attempts", 5, int, 1),
        backoff_seconds=number("backoff_seconds", 1.0, float, 0),
        max_backoff_seconds=number("max_backoff_seconds", 60.0, float, 0),
    )


def _endpoint(path: Path, name: str, settings: Any, environ: dict[str, str]) -> AlertEndpoint:
    where = f"{path}: endpoints.{name}"
    if not isinstance(settings, dict):
        raise AlertConfigError(f"{where}: expected a mapping with url and secret or secret_env")
    allowed = {"url", "secret", "secret_env", "format", "min_severity", "match_rate_below", "on_failed_run"}
    unknown = sorted(set(map(str, settings)) - allowed)
    if unknown:
        raise AlertConfigError(f"{where}.{unknown[0]}: unknown key; known keys: {', '.join(sorted(allowed))}")
    url = settings.get("url")
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise AlertConfigError(f"{where}.url: expected an http(s) URL, got {url!r}")
    if ("secret" in settings) == ("secret_env" in settings):
        raise AlertConfigError(f"{where}: give exactly one of secret and secret_env")
    if "secret" in settings:
        secret = settings["secret"]
        if not isinstance(secret, str) or not secret:
            raise AlertConfigError(f"{where}.secret: expected a non-empty text")
    else:
        variable = settings["secret_env"]
        if not isinstance(variable, str) or not environ.get(variable):
            raise AlertConfigError(f"{where}.secret_env: the environment variable {variable} is not set")
        secret = environ[variable]
    fmt = settings.get("format", "json")
    if fmt not in FORMATS:
        raise AlertConfigError(f"{where}.format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    severity = settings.get("min_severity")
    if severity is not None and severity not in SEVERITIES:
        raise AlertConfigError(f"{where}.min_severity: expected one of {', '.join(SEVERITIES)}, got {severity!r}")
    rate = settings.get("match_rate_below")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1):
        raise AlertConfigError(f"{where}.match_rate_below: expected a number in (0, 1], got {rate!r}")
    on_failed_run = settings.get("on_failed_run", False)
    if not isinstance(on_failed_run, bool):
        raise AlertConfigError(f"{where}.on_failed_run: expected true or false, got {on_failed_run!r}")
    return AlertEndpoint(
        name=name,
        url=url,
        secret=secret,
        format=fmt,
        min_severity=severity,
        match_rate_below=None if rate is None else float(rate),
        on_failed_run=on_failed_run,
    )


# --- alerts from the marts -------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    id: str
    type: str
    profile: str | None
    date: str | None
    details: dict[str, Any]

    def document(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "profile": self.profile, "date": self.date, "details": self.details}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Alert":
        return cls(document["id"], document["type"], document["profile"], document["date"], document["details"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def exception_alerts(connection: duckdb.DuckDBPyConnection, min_severity: str) -> list[Alert]:
    """Every unresolved exception of ``min_severity`` or above."""
    if not table_exists(connection, "marts", "fct_exceptions"):
        return []
    found = rows(
        connection,
        """
        select
            exception_id,
            category,
            severity,
            profile_id,
            business_date,
            rule_name,
            records,
            failed_check,
            amount_at_stake_minor,
            currency
        from marts.fct_exceptions
        where list_position(?, severity) >= list_position(?, ?)
            and upper(status) <> 'RESOLVED'
        order by profile_id, business_date, exception_id
        """,
        [list(SEVERITIES), list(SEVERITIES), min_severity],
    )
    return [
        Alert(
            id=f"exception.new:{row['exception_id']}",
            type="exception.new",
            profile=row["profile_id"],
            date=_jsonable(row["business_date"]),
            details={key: _jsonable(value) for key, value in row.items() if key not in ("profile_id", "business_date")},
        )
        for row in found
    ]


def match_rate_alerts(connection: duckdb.DuckDBPyConnection, below: float) -> list[Alert]:
    """Every profile and business date whose source entries matched at a rate below ``below``."""
    if not table_exists(connection, "marts", "mart_daily_reconciliation"):
        return []
    found = rows(
        connection,
        """
        select
            profile_id,
            business_date,
            sum(entries)::bigint as entries,
            sum(matched_entries)::bigint as matched_entries,
            round(sum(matched_entries) / sum(entries), 4) as match_rate
        from marts.mart_daily_reconciliation
        where side = 'source'
        group by profile_id, business_date
        having sum(entries) > 0 and sum(matched_entries) / sum(entries) < ?
        order by profile_id, business_date
        """,
        [below],
    )
    return [
        Alert(
            id=f"match_rate.low:{row['profile_id']}:{row['business_date']}",
            type="match_rate.low",
            profile=row["profile_id"],
            date=_jsonable(row["business_date"]),
            details={
                "entries": row["entries"],
                "matched_entries": row["matched_entries"],
                "match_rate": float(row["match_rate"]),
                "threshold": below,
            },
        )
        for row in found
    ]


def run_failed_alert(run_id: str, job_name: str, message: str, partition: str | None = None) -> Alert:
    return Alert(
        id=f"run.failed:{run_id}",
        type="run.failed",
        profile=None,
        date=partition,
        details={"run_id": run_id, "job": job_name, "error": message},
    )


# --- payloads and signatures ------------------------------------------------------------------


def summary(alert: Alert) -> str:
    details = alert.details
    if alert.type == "exception.new":
        return (
            f"New {details['severity']} exception in {alert.profile} on {alert.date}: {details['category']} "
            f"({details['amount_at_stake_minor']} minor units {details['currency']} at stake)"
        )
    if alert.type == "match_rate.low":
        return (
            f"Match rate of {alert.profile} on {alert.date} is {details['match_rate']:.2%}, "
            f"below {details['threshold']:.2%} ({details['matched_entries']} of {details['entries']} matched)"
        )
    return f"Reconciliation run {details['run_id']} of {details['job']} failed: {details['error']}"


def payload(alert: Alert, fmt: str) -> bytes:
    if fmt == "json":
        document = alert.document()
    else:
        facts = " | ".join(f"*{key}*: {value}" for key, value in alert.details.items() if not isinstance(value, list))
        document = {
            "text": summary(alert),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": summary(alert)}},
                {"type": "section", "text": {"type": "mrkdwn", "text": facts or "-"}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{alert.type} · id `{alert.id}`"}]},
            ],
        }
    return json.dumps(document, sort_keys=True).encode()


def signature(body: bytes, secret: str, timestamp: int) -> str:
    """The X-Recon-Signature value: t=<unix time>,v1=<hex HMAC-SHA256 of "{t}.{body}">."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- delivery --------------------------------------------------------------------------------


@dataclass
class Outcome:
    delivered: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None


def deliver(
    endpoint: AlertEndpoint,
    alert: Alert,
    settings: AlertSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """POST the alert, retrying transport errors, timeouts, 5xx, 408 and 429 with exponential backoff.
    Another 4xx is the receiver refusing the alert itself: retrying cannot help."""
    body = payload(alert, endpoint.format)
    outcome = Outcome(delivered=False, attempts=0)
    with httpx.Client(timeout=settings.timeout_seconds) as client:
        for attempt in range(1, settings.max_attempts + 1):
            outcome.attempts = attempt
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "recon-alerts/1",
                "X-Recon-Delivery": alert.id,
                "X-Recon-Event": alert.type,
                "X-Recon-Signature": signature(body, endpoint.secret, int(time.time())),
            }
            try:
                response = client.post(endpoint.url, content=body, headers=headers)
            except httpx.HTTPError as error:
                outcome.status_code, outcome.error = None, f"{type(error).__name__}: {error}"
            else:
                outcome.status_code = response.status_code
                if response.is_success:
                    outcome.delivered, outcome.error = True, None
                    return outcome
                outcome.error = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code < 500 and response.status_code not in RETRYABLE_STATUSES:
                    return outcome
            if attempt < settings.max_attempts:
                sleep(min(settings.backoff_seconds * 2 ** (attempt - 1), settings.max_backoff_seconds))
    return outcome


# --- durable state ---------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class AlertStore:
    """What was sent, what failed for good, and the log of deliveries, under RECON_HOME/alerts."""

    def __init__(self, home: ReconHome) -> None:
        self.root = home.root / "alerts"
        self.sent_path = self.root / "sent.ids"
        self.dead_letters_path = self.root / "dead_letters.jsonl"
        self.log_path = self.root / "deliveries.jsonl"

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def sent(self) -> set[tuple[str, str]]:
        return {tuple(line.split(" ", 1)) for line in read_lines(self.sent_path)}  # type: ignore[misc]

    def mark_sent(self, endpoint: str, alert_id: str) -> None:
        append_line(self.sent_path, f"{endpoint} {alert_id}")

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in read_lines(self.dead_letters_path)]

    def add_dead_letter(self, endpoint: str, alert: Alert, outcome: Outcome) -> None:
        entry = {
            "endpoint": endpoint,
            "alert": alert.document(),
            "attempts": outcome.attempts,
            "last_error": outcome.error,
            "failed_at": _now(),
        }
        append_line(self.dead_letters_path, json.dumps(entry, sort_keys=True))

    def replace_dead_letters(self, entries: list[dict[str, Any]]) -> None:
        write_atomically(self.dead_letters_path, "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))

    def log(self, endpoint: str, alert: Alert, outcome: Outcome, status: str) -> None:
        entry = {
            "at": _now(),
            "id": alert.id,
            "type": alert.type,
            "endpoint": endpoint,
            "attempts": outcome.attempts,
            "status": status,
            "http_status": outcome.status_code,
            "error": outcome.error,
        }
        append_line(self.log_path, json.dumps(entry, sort_keys=True))

    def deliveries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in read_lines(self.log_path)]


# --- evaluation and sending ------------------------------------------------------------------


@dataclass
class SendReport:
    delivered: list[tuple[str, str]] = field(default_factory=list)
    dead_lettered: list[tuple[str, str]] = field(default_factory=list)


def _send_all(
    store: AlertStore,
    settings: AlertSettings,
    wanted: list[tuple[AlertEndpoint, Alert]],
    sleep: Callable[[float], None],
) -> SendReport:
    """Deliver each wanted alert not yet sent to its endpoint; the caller holds the lock."""
    report = SendReport()
    sent = store.sent()
    for endpoint, alert in wanted:
        if (endpoint.name, alert.id) in sent:
            continue
        outcome = deliver(endpoint, alert, settings, sleep)
        if outcome.delivered:
            store.log(endpoint.name, alert, outcome, "delivered")
            report.delivered.append((endpoint.name, alert.id))
        else:
            store.add_dead_letter(endpoint.name, alert, outcome)
            store.log(endpoint.name, alert, outcome, "dead_lettered")
            report.dead_lettered.append((endpoint.name, alert.id))
        store.mark_sent(endpoint.name, alert.id)
        sent.add((endpoint.name, alert.id))
    return report


def evaluate(settings: AlertSettings, connection: duckdb.DuckDBPyConnection) -> list[tuple[AlertEndpoint, Alert]]:
    """The alerts the marts call for, per endpoint (sent or not)."""
    wanted: list[tuple[AlertEndpoint, Alert]] = []
    for endpoint in settings.endpoints.values():
        if endpoint.min_severity:
            wanted += [(endpoint, alert) for alert in exception_alerts(connection, endpoint.min_severity)]
        if endpoint.match_rate_below is not None:
            wanted += [(endpoint, alert) for alert in match_rate_alerts(connection, endpoint.match_rate_below)]
    return wanted


def send_new_alerts(
    home: ReconHome, settings: AlertSettings | None = None, sleep: Callable[[float], None] = time.sleep
) -> SendReport:
    """Evaluate the marts over a read-only connection and send what was not sent before."""
    settings = settings or load_settings(home)
    if not settings.endpoints or not home.warehouse.exists():
        return SendReport()
    store = AlertStore(home)
    with store.locked():
        with connect(home.warehouse, read_only=True) as connection:
            wanted = evaluate(settings, connection)
        return _send_all(store, settings, wanted, sleep)


def send_run_failed(
    home: ReconHome, alert: Alert, settings: AlertSettings | None = None, sleep: Callable[[float], None] = time.sleep
) -> SendReport:
    settings = settings or load_settings(home)
    wanted = [(endpoint, alert) for endpoint in settings.endpoints.values() if endpoint.on_failed_run]
    if not wanted:
        return SendReport()
    store = AlertStore(home)
    with store.locked():
        return _send_all(store, settings, wanted, sleep)


def retry_dead_letters(
    home: ReconHome, settings: AlertSettings | None = None, sleep: Callable[[float], None] = time.sleep
) -> tuple[int, list[dict[str, Any]]]:
    """Re-send every dead letter to its endpoint as alerts.yml now configures it; return how many
    were delivered and the dead letters that remain (their endpoint gone, or failing still)."""
    settings = settings or load_settings(home)
    store = AlertStore(home)
    delivered = 0
    with store.locked():
        remaining: list[dict[str, Any]] = []
        for entry in store.dead_letters():
            endpoint = settings.endpoints.get(entry["endpoint"])
            alert = Alert.from_document(entry["alert"])
            if endpoint is None:
                remaining.append({**entry, "last_error": f"endpoint {entry['endpoint']} is not in alerts.yml"})
                continue
            outcome = deliver(endpoint, alert, settings, sleep)
            if outcome.delivered:
                store.log(endpoint.name, alert, outcome, "delivered_on_retry")
                delivered += 1
            else:
                store.log(endpoint.name, alert, outcome, "dead_lettered")
                attempts = entry["attempts"] + outcome.attempts
                remaining.append({**entry, "attempts": attempts, "last_error": outcome.error, "failed_at": _now()})
        store.replace_dead_letters(remaining)
    return delivered, remaining


def dead_letter_rows(home: ReconHome) -> list[dict[str, Any]]:
    """The dead letters, flat, for `recon alerts list`."""
    return [
        {
            "id": entry["alert"]["id"],
            "type": entry["alert"]["type"],
            "endpoint": entry["endpoint"],
            "profile": entry["alert"]["profile"],
            "date": entry["alert"]["date"],
            "attempts": entry["attempts"],
            "last_error": entry["last_error"],
            "failed_at": entry["failed_at"],
        }
        for entry in AlertStore(home).dead_letters()
    ]
