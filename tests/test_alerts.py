"""Outbound alerts against a real HTTP receiver on loopback that fails some attempts: every alert
arrives exactly once, what never arrives is dead-lettered and re-sent by `recon alerts retry`."""

import asyncio
import hashlib
import hmac
import json
import socket
from collections import Counter
from dataclasses import dataclass, field

import pytest
import yaml

from dagster_project.lib import alerts
from dagster_project.lib.home import ReconHome
from dagster_project.lib.warehouse import connect
from tests.conftest import recon, serving

SECRET = "alert-signing-secret"
FAST = {"timeout_seconds": 0.25, "max_attempts": 5, "backoff_seconds": 0.001, "max_backoff_seconds": 0.01}


@dataclass
class Receiver:
    """An ASGI receiver: the first ``fail_first`` attempts of each (path, delivery id) fail in turn
    with a 500, a connection dropped mid-response and a response slower than the sender's timeout;
    ``down`` fails every attempt. It verifies every signature and records what it accepted."""

    fail_first: int = 0
    down: bool = False
    attempts: Counter = field(default_factory=Counter)
    accepted: list[tuple[str, str, dict]] = field(default_factory=list)
    bad_signatures: int = 0

    async def __call__(self, scope, receive, send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        delivery = headers.get("x-recon-delivery", "")
        key = (scope["path"], delivery)
        self.attempts[key] += 1
        attempt = self.attempts[key]
        if self.down or attempt <= self.fail_first:
            mode = ("500", "drop", "slow")[(attempt - 1) % 3]
            if mode == "drop":  # headers promise a body that never comes: the connection is cut
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
                raise ConnectionResetError("dropped on purpose")
            if mode == "slow":  # the sender gave up before this answer; it does not count as accepted
                await asyncio.sleep(0.5)
            await self._respond(send, 500 if mode == "500" else 503)
            return
        timestamp, _, digest = headers.get("x-recon-signature", "").partition(",v1=")
        expected = hmac.new(SECRET.encode(), f"{timestamp[2:]}.".encode() + body, hashlib.sha256).hexdigest()
        if not timestamp.startswith("t=") or not hmac.compare_digest(expected, digest):
            self.bad_signatures += 1
            await self._respond(send, 401)
            return
        document = json.loads(body)
        self.accepted.append((scope["path"], delivery, document))
        await self._respond(send, 200)

    @staticmethod
    async def _respond(send, status: int) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


EXCEPTIONS = [
    # exception_id, category, severity, status, profile, business_date, amount at stake
    ("e-low", "amount_over", "low", "OPEN", "acme_eu", "2026-11-03", 120),
    ("e-high", "missing_counterpart", "high", "OPEN", "acme_eu", "2026-11-03", 25_000),
    ("e-critical", "amount_under", "critical", "OPEN", "globex_us", "2026-11-04", 250_000),
    ("e-resolved", "missing_counterpart", "critical", "RESOLVED", "globex_us", "2026-11-04", 300_000),
]
DAILY = [
    # profile, business_date, rule, side, entries, matched
    ("acme_eu", "2026-11-03", "order_to_charge", "source", 10, 10),
    ("acme_eu", "2026-11-03", "charge_to_payout", "source", 10, 7),
    ("acme_eu", "2026-11-03", "order_to_charge", "target", 10, 1),
    ("acme_eu", "2026-11-04", "order_to_charge", "source", 10, 10),
    ("globex_us", "2026-11-04", "order_to_charge", "source", 4, 3),
]


def add_exception(connection, row: tuple) -> None:
    exception_id, category, severity, status, profile, business_date, amount = row
    connection.execute(
        "insert into marts.fct_exceptions values (?, ?, ?, ?, ?, ?, 'rule', ['shopify_orders:#1'], 'amount', ?, 'EUR')",
        [exception_id, category, severity, status, profile, business_date, amount],
    )


def build_warehouse(home: ReconHome) -> None:
    """The two marts alerts read, in their real shape (the columns alerts uses)."""
    with connect(home.warehouse) as connection:
        connection.execute("create schema marts")
        connection.execute(
            """
            create table marts.fct_exceptions (
                exception_id varchar, category varchar, severity varchar, status varchar,
                profile_id varchar, business_date date, rule_name varchar, records varchar[],
                failed_check varchar, amount_at_stake_minor hugeint, currency varchar
            )
            """
        )
        connection.execute(
            """
            create table marts.mart_daily_reconciliation (
                profile_id varchar, business_date date, rule_name varchar, side varchar,
                entries bigint, matched_entries bigint,
                match_rate decimal(18, 4) generated always as (round(matched_entries / entries, 4))
            )
            """
        )
        for row in EXCEPTIONS:
            add_exception(connection, row)
        connection.executemany(
            "insert into marts.mart_daily_reconciliation (profile_id, business_date, rule_name, side, entries, "
            "matched_entries) values (?, ?, ?, ?, ?, ?)",
            DAILY,
        )


def write_config(home: ReconHome, endpoints: dict, **extra: object) -> None:
    document = {**FAST, **extra, "endpoints": endpoints}
    (home.root / "alerts.yml").write_text(yaml.safe_dump(document))


def endpoint(url: str, **settings: object) -> dict:
    return {"url": url, "secret": SECRET, **settings}


EXPECTED_IDS = {
    "exception.new:e-high",
    "exception.new:e-critical",
    "match_rate.low:acme_eu:2026-11-03",  # source side 17 of 20
    "match_rate.low:globex_us:2026-11-04",  # 3 of 4
}


def test_every_alert_reaches_the_receiver_exactly_once_through_failures(home: ReconHome) -> None:
    build_warehouse(home)
    receiver = Receiver(fail_first=3)  # a 500, a dropped connection, a timeout, then success
    with serving(receiver, lifespan="off", log_level="critical") as base:
        rules = {"min_severity": "high", "match_rate_below": 0.9, "on_failed_run": True}
        write_config(
            home,
            {"ops": endpoint(f"{base}/json", **rules), "chat": endpoint(f"{base}/slack", format="slack", **rules)},
        )
        report = alerts.send_new_alerts(home)
        assert report.dead_lettered == []
        assert len(report.delivered) == 2 * len(EXPECTED_IDS)

        accepted = Counter((path, delivery) for path, delivery, _ in receiver.accepted)
        assert set(accepted) == {(path, i) for path in ("/json", "/slack") for i in EXPECTED_IDS}
        assert sum(accepted.values()) == len(accepted)  # every successful receipt is a distinct alert
        assert set(receiver.attempts.values()) == {4}
        assert receiver.bad_signatures == 0

        json_payloads = {d: document for path, d, document in receiver.accepted if path == "/json"}
        high = json_payloads["exception.new:e-high"]
        assert high == {
            "id": "exception.new:e-high",
            "type": "exception.new",
            "profile": "acme_eu",
            "date": "2026-11-03",
            "details": high["details"],
        }
        assert high["details"]["severity"] == "high" and high["details"]["amount_at_stake_minor"] == 25_000
        rate = json_payloads["match_rate.low:acme_eu:2026-11-03"]["details"]
        assert (rate["entries"], rate["matched_entries"], rate["match_rate"]) == (20, 17, 0.85)

        slack = next(
            document for path, d, document in receiver.accepted if d == "exception.new:e-critical" and path == "/slack"
        )
        assert set(slack) == {"text", "blocks"}
        assert "critical" in slack["text"] and "globex_us" in slack["text"]
        assert [block["type"] for block in slack["blocks"]] == ["section", "section", "context"]
        assert all(block["text"]["type"] == "mrkdwn" for block in slack["blocks"][:2])

        log = alerts.AlertStore(home).deliveries()
        assert {(entry["status"], entry["attempts"]) for entry in log} == {("delivered", 4)}
        assert len(log) == 2 * len(EXPECTED_IDS)

        # a second evaluation sends nothing; a new exception is the only thing sent next
        attempts_before = sum(receiver.attempts.values())
        assert alerts.send_new_alerts(home).delivered == []
        assert sum(receiver.attempts.values()) == attempts_before
        with connect(home.warehouse) as connection:
            add_exception(connection, ("e-new", "amount_over", "critical", "OPEN", "acme_eu", "2026-11-05", 1))
        again = alerts.send_new_alerts(home)
        assert sorted(again.delivered) == [("chat", "exception.new:e-new"), ("ops", "exception.new:e-new")]

        # a failed run alerts once, however often it is reported
        failed = alerts.run_failed_alert("run-1", "reconcile_job", "dbt build failed", "2026-11-05")
        assert len(alerts.send_run_failed(home, failed).delivered) == 2
        assert alerts.send_run_failed(home, failed).delivered == []
        assert sum(1 for _, d, _ in receiver.accepted if d == "run.failed:run-1") == 2

    assert alerts.AlertStore(home).dead_letters() == []


def test_an_endpoint_that_always_fails_is_dead_lettered_then_retried(home: ReconHome) -> None:
    build_warehouse(home)
    receiver = Receiver(down=True)
    with serving(receiver, lifespan="off", log_level="critical") as base:
        write_config(home, {"ops": endpoint(f"{base}/hook", min_severity="high", match_rate_below=0.9)}, max_attempts=3)
        sent = recon(home.root, "alerts", "send", check=False)
        assert sent.returncode == 1, sent.stderr
        assert "0 delivered, 4 dead-lettered" in sent.stderr
        assert receiver.accepted == [] and set(receiver.attempts.values()) == {3}

        listed = json.loads(recon(home.root, "alerts", "list", "--format", "json").stdout)
        assert {row["id"] for row in listed} == EXPECTED_IDS
        assert {(row["endpoint"], row["attempts"]) for row in listed} == {("ops", 3)}
        assert all(row["last_error"] for row in listed)
        # dead letters are not alerts waiting to be evaluated again
        assert "0 delivered, 0 dead-lettered" in recon(home.root, "alerts", "send").stderr

        still_down = recon(home.root, "alerts", "retry", check=False)
        assert still_down.returncode == 1 and "0 dead letters delivered, 4 remain" in still_down.stderr
        assert {
            row["attempts"] for row in json.loads(recon(home.root, "alerts", "list", "--format", "json").stdout)
        } == {6}

        receiver.down = False
        recovered = recon(home.root, "alerts", "retry")
        assert "4 dead letters delivered, 0 remain" in recovered.stderr
        assert json.loads(recon(home.root, "alerts", "list", "--format", "json").stdout) == []
        assert sorted(d for _, d, _ in receiver.accepted) == sorted(EXPECTED_IDS)
        assert "0 dead letters delivered, 0 remain" in recon(home.root, "alerts", "retry").stderr
    assert Counter(d for _, d, _ in receiver.accepted) == Counter(EXPECTED_IDS)
    statuses = Counter(entry["status"] for entry in alerts.AlertStore(home).deliveries())
    assert statuses == {"dead_lettered": 8, "delivered_on_retry": 4}


def test_a_refused_connection_is_retried_then_dead_lettered(home: ReconHome) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    write_config(home, {"ops": endpoint(f"http://127.0.0.1:{port}/hook", on_failed_run=True)}, max_attempts=2)
    slept: list[float] = []
    report = alerts.send_run_failed(home, alerts.run_failed_alert("run-9", "reconcile_job", "boom"), sleep=slept.append)
    assert report.dead_lettered == [("ops", "run.failed:run-9")]
    assert slept == [0.001]
    (letter,) = alerts.AlertStore(home).dead_letters()
    assert letter["attempts"] == 2 and "ConnectError" in letter["last_error"]


def test_backoff_doubles_up_to_the_cap(home: ReconHome) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    closed.close()
    settings = alerts.AlertSettings(endpoints={}, max_attempts=6, backoff_seconds=1, max_backoff_seconds=10)
    slept: list[float] = []
    outcome = alerts.deliver(
        alerts.AlertEndpoint("x", url, SECRET), alerts.run_failed_alert("r", "j", "m"), settings, slept.append
    )
    assert not outcome.delivered and outcome.attempts == 6
    assert slept == [1, 2, 4, 8, 10]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"endpoints": {"ops": {"secret": "s"}}}, "endpoints.ops.url: expected an http(s) URL"),
        ({"endpoints": {"ops": {"url": "http://x/"}}}, "endpoints.ops: give exactly one of secret and secret_env"),
        (
            {"endpoints": {"ops": {"url": "http://x/", "secret_env": "RECON_NOT_SET"}}},
            "endpoints.ops.secret_env: the environment variable RECON_NOT_SET is not set",
        ),  # fmt: skip
        (
            {"endpoints": {"ops": {"url": "http://x/", "secret": "s", "format": "teams"}}},
            "endpoints.ops.format: expected one of json, slack",
        ),  # fmt: skip
        (
            {"endpoints": {"ops": {"url": "http://x/", "secret": "s", "min_severity": "urgent"}}},
            "endpoints.ops.min_severity",
        ),  # fmt: skip
        (
            {"endpoints": {"ops": {"url": "http://x/", "secret": "s", "match_rate_below": 95}}},
            "endpoints.ops.match_rate_below: expected a number in (0, 1]",
        ),  # fmt: skip
        (
            {"endpoints": {"ops": {"url": "http://x/", "secret": "s", "on_failed_rn": True}}},
            "endpoints.ops.on_failed_rn: unknown key",
        ),  # fmt: skip
        ({"max_attempts": 0}, "max_attempts: expected a int of at least 1"),
        ({"retries": 3}, "retries: unknown key"),
    ],
)
def test_config_errors_name_the_file_and_key(home: ReconHome, document: dict, message: str) -> None:
    (home.root / "alerts.yml").write_text(yaml.safe_dump(document))
    with pytest.raises(alerts.AlertConfigError) as raised:
        alerts.load_settings(home, environ={})
    assert str(raised.value).startswith(f"{home.root / 'alerts.yml'}: ")
    assert message in str(raised.value)


def test_secret_from_the_environment_and_the_command_explains_what_is_missing(home: ReconHome) -> None:
    write_config(home, {"ops": {"url": "https://hooks.example.com/", "secret_env": "ALERT_SECRET"}})
    settings = alerts.load_settings(home, environ={"ALERT_SECRET": "from-env"})
    assert settings.endpoints["ops"].secret == "from-env" and settings.max_attempts == 5
    broken = recon(home.root, "alerts", "send", check=False)
    assert broken.returncode == 2 and "alerts.yml: endpoints.ops.secret_env" in broken.stderr
    (home.root / "alerts.yml").unlink()
    missing = recon(home.root, "alerts", "retry", check=False)
    assert missing.returncode == 2 and "no alert endpoints" in missing.stderr
