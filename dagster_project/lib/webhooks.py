"""The webhook receiver: signed Stripe and Shopify events, deduplicated by event id, landed as
micro-batches the ingest reads like any other file.

Endpoints (`recon serve-webhooks --port P`):

- ``POST /webhooks/stripe/{profile}``: the ``Stripe-Signature`` header (``t=<unix time>,v1=<hex>``,
  possibly several ``v1`` while a secret is rolled) must carry an HMAC-SHA256 of ``"{t}.{raw body}"``
  under the endpoint's signing secret, and ``t`` must be within the tolerance (300 s) of now. An
  event whose ``data.object`` is a balance transaction lands as it is; charge, refund, payout and
  dispute events carry only the ids of their balance transactions, which the receiver fetches from
  the Stripe API when the profile has an API key (read-only is enough), and otherwise only keeps.
- ``POST /webhooks/shopify/{profile}``: the ``X-Shopify-Hmac-Sha256`` header must be the base64
  HMAC-SHA256 of the raw body under the app's secret. ``orders/create`` and ``orders/paid`` events
  become rows of the orders export. Shopify signs only the body, so there is no timestamp to
  check: a replayed order is absorbed by the deduplication (by ``X-Shopify-Webhook-Id``) and, as
  an identical copy of a record, by the warehouse's own.

Secrets come from ``$RECON_HOME/webhooks.yml`` when it names the profile, otherwise from the
environment: ``RECON_STRIPE_WEBHOOK_SECRET_<PROFILE>``, ``RECON_STRIPE_API_KEY_<PROFILE>`` and
``RECON_SHOPIFY_WEBHOOK_SECRET_<PROFILE>`` (profile in upper case)::

    tolerance_seconds: 300      # optional: Stripe's signed timestamp may be this far from now
    batch_events: 100           # optional: a micro-batch lands after this many events...
    batch_seconds: 60           # ...or when its first event is this old (0: every event at once)
    stripe:
      acme_eu:
        secret_env: STRIPE_WEBHOOK_SECRET_ACME_EU   # or `secret: whsec_...`
        api_key_env: STRIPE_API_KEY_ACME_EU         # optional, to fetch balance transactions
    shopify:
      acme_eu:
        secret_env: SHOPIFY_API_SECRET_ACME_EU      # or `secret: ...`

The receiver never opens the warehouse (DuckDB allows one writing process). Its state lives under
``$RECON_HOME/webhooks/``: every accepted event appended to ``journal/<channel>/<profile>/<day>.jsonl``,
the records waiting for the next micro-batch in ``pending/<channel>/<profile>.jsonl``, the event ids
seen in ``seen/<channel>/<profile>.ids`` (with when each came); every append is fsynced before the
event is acknowledged. An id is kept for DEDUP_RETENTION_DAYS, longer than Stripe (3 days) or
Shopify (48 hours) retry an event; a replay after that lands again, and staging keeps one copy of
each record.
A micro-batch is written under a name derived from its events, fsynced and landed through
`land_file` (atomic rename) before its pending records are cleared, so a crash in between lands
the same file again, which the landing zone recognises as already there.
"""

import asyncio
import base64
import csv
import fcntl
import hashlib
import hmac
import io
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dagster_project.lib.durable import append_line, fsync_directory, read_lines, write_atomically
from dagster_project.lib.home import ReconHome
from dagster_project.lib.landing import land_file
from dagster_project.lib.progress import progress
from dagster_project.lib.sources import SHOPIFY_ORDERS, known_profiles

CONFIG_FILE = "webhooks.yml"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 5 << 20
CHANNEL_SOURCES = {"stripe": "stripe_balance_transactions", "shopify": "shopify_orders"}
BATCH_SUFFIXES = {"stripe": ".json", "shopify": ".csv"}
DEDUP_RETENTION_DAYS = 7
DAY_SECONDS = 86_400
# events whose object names the balance transactions that moved money (charges, refunds, payouts
# and their failures, dispute withdrawals and reinstatements); other events are only kept
STRIPE_BALANCE_EVENTS = frozenset(
    {
        "charge.succeeded",
        "charge.captured",
        "refund.created",
        "refund.updated",
        "charge.refund.updated",
        "payout.paid",
        "payout.failed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)
SHOPIFY_ORDER_TOPICS = frozenset({"orders/create", "orders/paid"})
SHOPIFY_PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})
STRIPE_API_BASE = "https://api.stripe.com"


class WebhookConfigError(ValueError):
    """webhooks.yml is unreadable or a key in it is wrong."""


class SignatureError(ValueError):
    """A request whose signature does not verify."""


class StripeApiError(RuntimeError):
    """A balance transaction could not be fetched from the Stripe API."""


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    channel: str
    profile: str
    secret: str = field(repr=False)
    api_key: str | None = field(default=None, repr=False)
    api_base: str = STRIPE_API_BASE


@dataclass(frozen=True)
class WebhookSettings:
    endpoints: dict[tuple[str, str], Endpoint]
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    batch_events: int = 100
    batch_seconds: float = 60.0


def load_settings(home: ReconHome, environ: dict[str, str] | None = None) -> WebhookSettings:
    """Endpoints from webhooks.yml, then from the environment for the profiles it does not name."""
    environ = dict(os.environ if environ is None else environ)
    path = home.root / CONFIG_FILE
    document: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            raise WebhookConfigError(f"{path}: not valid YAML: {error}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise WebhookConfigError(f"{path}: expected a mapping with stripe:, shopify: and batch settings")
        document = loaded or {}
    unknown = sorted(set(map(str, document)) - {"tolerance_seconds", "batch_events", "batch_seconds", *CHANNEL_SOURCES})
    if unknown:
        raise WebhookConfigError(f"{path}: {unknown[0]}: unknown key")

    def number(key: str, default: float, kind: type, minimum: float) -> Any:
        value = document.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum or kind(value) != value:
            raise WebhookConfigError(f"{path}: {key}: expected a {kind.__name__} of at least {minimum}, got {value!r}")
        return kind(value)

    endpoints: dict[tuple[str, str], Endpoint] = {}
    for channel in CHANNEL_SOURCES:
        profiles = document.get(channel) or {}
        if not isinstance(profiles, dict):
            raise WebhookConfigError(f"{path}: {channel}: expected a mapping of profiles to their secrets")
        for profile, settings in profiles.items():
            endpoints[(channel, str(profile))] = _endpoint(path, channel, str(profile), settings, environ)
        for profile in known_profiles():
            suffix = profile.upper()
            secret = environ.get(f"RECON_{channel.upper()}_WEBHOOK_SECRET_{suffix}")
            if (channel, profile) not in endpoints and secret:
                api_key = environ.get(f"RECON_STRIPE_API_KEY_{suffix}") if channel == "stripe" else None
                endpoints[(channel, profile)] = Endpoint(channel, profile, secret, api_key or None)
    return WebhookSettings(
        endpoints=endpoints,
        tolerance_seconds=number("tolerance_seconds", DEFAULT_TOLERANCE_SECONDS, int, 1),
        batch_events=number("batch_events", 100, int, 1),
        batch_seconds=number("batch_seconds", 60.0, float, 0),
    )


def _endpoint(path: Path, channel: str, profile: str, settings: Any, environ: dict[str, str]) -> Endpoint:
    where = f"{path}: {channel}.{profile}"
    if profile not in known_profiles():
        raise WebhookConfigError(f"{where}: unknown profile; known profiles: {', '.join(known_profiles())}")
    if not isinstance(settings, dict):
        raise WebhookConfigError(f"{where}: expected a mapping with secret or secret_env")
    allowed = {"secret", "secret_env"} | ({"api_key_env", "api_base"} if channel == "stripe" else set())
    unknown = sorted(set(map(str, settings)) - allowed)
    if unknown:
        raise WebhookConfigError(f"{where}.{unknown[0]}: unknown key; known keys: {', '.join(sorted(allowed))}")

    def from_environment(key: str) -> str | None:
        variable = settings.get(key)
        if variable is None:
            return None
        if not isinstance(variable, str) or not environ.get(variable):
            raise WebhookConfigError(f"{where}.{key}: the environment variable {variable} is not set")
        return environ[variable]

    if ("secret" in settings) == ("secret_env" in settings):
        raise WebhookConfigError(f"{where}: give exactly one of secret and secret_env")
    secret = settings.get("secret")
    if "secret" in settings and (not isinstance(secret, str) or not secret):
        raise WebhookConfigError(f"{where}.secret: expected a non-empty text")
    secret = secret or from_environment("secret_env")
    assert secret is not None
    api_base = settings.get("api_base", STRIPE_API_BASE)
    if not isinstance(api_base, str) or urllib.parse.urlsplit(api_base).scheme not in ("http", "https"):
        raise WebhookConfigError(f"{where}.api_base: expected an http(s) URL, got {api_base!r}")
    return Endpoint(channel, profile, secret, from_environment("api_key_env"), api_base.rstrip("/"))


# --- signatures ------------------------------------------------------------------------------


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The v1 signature Stripe computes: hex HMAC-SHA256 of "{t}.{payload}"."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()


def verify_stripe_signature(payload: bytes, header: str | None, secret: str, tolerance: int, now: float) -> int:
    """Check a Stripe-Signature header; return its timestamp. Any v1 may match (a secret being
    rolled signs with both); other schemes (v0) are ignored."""
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            continue
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit():
        raise SignatureError("Stripe-Signature carries no timestamp (t=<unix time>)")
    if not signatures:
        raise SignatureError("Stripe-Signature carries no v1 signature")
    expected = stripe_signature(payload, secret, int(timestamp)).encode()
    if not any(hmac.compare_digest(expected, signature.encode()) for signature in signatures):
        raise SignatureError("no v1 signature matches the payload under this endpoint's signing secret")
    drift = now - int(timestamp)
    if abs(drift) > tolerance:
        raise SignatureError(
            f"the signed timestamp is {abs(drift):.0f}s {'old' if drift > 0 else 'in the future'}, outside "
            f"the tolerance of {tolerance}s (a replayed event, or a clock out of sync)"
        )
    return int(timestamp)


def shopify_signature(payload: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 value: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


def verify_shopify_signature(payload: bytes, header: str | None, secret: str) -> None:
    if not header:
        raise SignatureError("missing X-Shopify-Hmac-Sha256 header")
    if not hmac.compare_digest(shopify_signature(payload, secret).encode(), header.strip().encode()):
        raise SignatureError("X-Shopify-Hmac-Sha256 does not match the body under this app's secret")


# --- events to records ---------------------------------------------------------------------


def stripe_balance_transaction_refs(event: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The balance transactions an event carries in full, and the ids of those it only names."""
    obj = event["data"]["object"]
    if obj.get("object") == "balance_transaction":
        return [obj], []
    if event.get("type") not in STRIPE_BALANCE_EVENTS:
        return [], []
    references: list[Any] = [obj.get("balance_transaction"), obj.get("failure_balance_transaction")]
    references += obj.get("balance_transactions") or []
    expanded = [ref for ref in references if isinstance(ref, dict) and ref.get("object") == "balance_transaction"]
    ids = [ref for ref in references if isinstance(ref, str) and ref]
    return expanded, ids


def with_source_expanded(record: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """The balance transaction with the event's object in place of its `source` id, when that is
    the object it is about: a balance transaction carries no metadata of its own, and the charge
    carries the order id and the customer's e-mail."""
    if isinstance(record.get("source"), str) and record["source"] == obj.get("id"):
        return {**record, "source": obj}
    return record


def fetch_balance_transaction(endpoint: Endpoint, transaction_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """GET /v1/balance_transactions/{id}?expand[]=source with the profile's API key."""
    assert endpoint.api_key is not None
    url = (
        f"{endpoint.api_base}/v1/balance_transactions/{urllib.parse.quote(transaction_id, safe='')}"
        "?expand%5B%5D=source"
    )
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {endpoint.api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            document = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise StripeApiError(f"{url}: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise StripeApiError(f"{url}: {getattr(error, 'reason', error)}") from None
    if not isinstance(document, dict) or document.get("object") != "balance_transaction":
        raise StripeApiError(f"{url}: the answer is not a balance transaction")
    return document


def _shopify_time(value: Any) -> str:
    """The export's time format (2026-11-03 10:00:00 -0500); unreadable text is left for the
    ingest to quarantine with its reason."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S %z") if moment.tzinfo else value


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _refunded(order: dict[str, Any]) -> str:
    total = Decimal("0.00")
    for refund in order.get("refunds") or []:
        for transaction in refund.get("transactions") or []:
            if transaction.get("kind") == "refund" and transaction.get("status") == "success":
                try:
                    total += Decimal(str(transaction.get("amount")))
                except InvalidOperation:
                    return _text(transaction.get("amount"))
    return str(total)


def shopify_order_rows(order: dict[str, Any]) -> list[dict[str, str]]:
    """An Admin API order as the orders export writes it: one row per line item, the order's own
    fields on the first. Amounts are in the shop's currency; `Paid at` is the time the order was
    processed once it is paid; the export's `Payment Reference` is not in the order and stays empty."""
    shipping = ((order.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount")
    if shipping is None and order.get("shipping_lines"):
        shipping = str(sum((Decimal(str(line.get("price") or "0")) for line in order["shipping_lines"]), Decimal()))
    status = _text(order.get("financial_status"))
    first = {
        "Name": _text(order.get("name")),
        "Email": _text(order.get("email") or order.get("contact_email")),
        "Financial Status": status,
        "Paid at": _shopify_time(order.get("processed_at")) if status in SHOPIFY_PAID_STATUSES else "",
        "Fulfillment Status": _text(order.get("fulfillment_status") or "unfulfilled"),
        "Currency": _text(order.get("currency")),
        "Subtotal": _text(order.get("subtotal_price")),
        "Shipping": _text(shipping),
        "Taxes": _text(order.get("total_tax")),
        "Total": _text(order.get("total_price")),
        "Discount Code": ", ".join(_text(code.get("code")) for code in order.get("discount_codes") or []),
        "Discount Amount": _text(order.get("total_discounts")),
        "Created at": _shopify_time(order.get("created_at")),
        "Billing Name": _text((order.get("billing_address") or {}).get("name")),
        "Payment Method": " + ".join(map(str, order.get("payment_gateway_names") or [])),
        "Payment Reference": "",
        "Refunded Amount": _refunded(order),
        "Id": _text(order.get("id")),
        "Tags": _text(order.get("tags")),
        "Source": _text(order.get("source_name")),
    }
    rows = []
    for index, item in enumerate(order.get("line_items") or [{}]):
        row = dict(first) if index == 0 else {"Name": first["Name"]}
        row |= {
            "Lineitem quantity": _text(item.get("quantity")),
            "Lineitem name": _text(item.get("name") or item.get("title")),
            "Lineitem price": _text(item.get("price")),
            "Lineitem sku": _text(item.get("sku")),
        }
        rows.append(row)
    return rows


def render_batch(channel: str, records: list[dict[str, Any]]) -> bytes:
    """A micro-batch in its source's format: Stripe's list object, or the orders export CSV."""
    if channel == "stripe":
        document = {"object": "list", "data": records, "has_more": False, "url": "/v1/balance_transactions"}
        return json.dumps(document, indent=1).encode()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[f.source_key for f in SHOPIFY_ORDERS.fields], restval="")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().encode()


# --- durable state -----------------------------------------------------------------------------


@dataclass
class _Pending:
    count: int = 0
    first_received: float | None = None


class WebhookStore:
    """The receiver's own state under RECON_HOME/webhooks, and the micro-batches it lands."""

    def __init__(self, home: ReconHome) -> None:
        self.root = home.root / "webhooks"
        self.landing = home.landing
        self._lock = threading.Lock()
        # event id -> when it came (unix seconds), and when each file of ids was last trimmed
        self._seen: dict[tuple[str, str], dict[str, float]] = {}
        self._trimmed: dict[tuple[str, str], float] = {}
        self._pending: dict[tuple[str, str], _Pending] = {}
        for path in sorted((self.root / "pending").glob("*/*.jsonl")):
            key = (path.parent.name, path.stem)
            lines = [json.loads(line) for line in read_lines(path)]
            if lines:
                self._pending[key] = _Pending(len(lines), lines[0]["received_at_unix"])

    def _paths(self, channel: str, profile: str) -> tuple[Path, Path]:
        return self.root / "pending" / channel / f"{profile}.jsonl", self.root / "seen" / channel / f"{profile}.ids"

    def _seen_ids(self, channel: str, profile: str) -> dict[str, float]:
        key = (channel, profile)
        if key not in self._seen:
            pending, seen = self._paths(channel, profile)
            ids: dict[str, float] = {}
            for line in read_lines(seen):
                event_id, _, received_at = line.partition("\t")
                # a line without its time was written before ids expired: as old as the file
                ids[event_id] = float(received_at) if received_at else seen.stat().st_mtime
            # an event whose records were kept but whose id was not yet written down
            for line in read_lines(pending):
                event = json.loads(line)
                ids.setdefault(event["event_id"], event["received_at_unix"])
            self._seen[key] = ids
        return self._seen[key]

    def _trim(self, channel: str, profile: str, now: float) -> None:
        """Forget the ids older than the retention, at most once a day per file of ids."""
        key = (channel, profile)
        if now - self._trimmed.get(key, 0.0) < DAY_SECONDS:
            return
        self._trimmed[key] = now
        seen = self._seen_ids(channel, profile)
        oldest = now - DEDUP_RETENTION_DAYS * DAY_SECONDS
        expired = [event_id for event_id, received_at in seen.items() if received_at < oldest]
        if not expired:
            return
        for event_id in expired:
            del seen[event_id]
        _, seen_file = self._paths(channel, profile)
        write_atomically(seen_file, "".join(f"{event_id}\t{at}\n" for event_id, at in seen.items()))

    def is_seen(self, channel: str, profile: str, event_id: str) -> bool:
        with self._lock:
            return event_id in self._seen_ids(channel, profile)

    def accept(
        self,
        channel: str,
        profile: str,
        event_id: str,
        body: bytes,
        headers: dict[str, str],
        records: list[dict[str, Any]],
        received_at: float,
    ) -> bool:
        """Keep an event and its records; False when its id was accepted before."""
        with self._lock:
            self._trim(channel, profile, received_at)
            seen = self._seen_ids(channel, profile)
            if event_id in seen:
                return False
            moment = datetime.fromtimestamp(received_at, UTC)
            journal = self.root / "journal" / channel / profile / f"{moment.date().isoformat()}.jsonl"
            entry = {
                "event_id": event_id,
                "received_at": moment.isoformat(),
                "headers": headers,
                "records": len(records),
                "body": body.decode("utf-8", "replace"),
            }
            append_line(journal, json.dumps(entry, separators=(",", ":")))
            pending, seen_file = self._paths(channel, profile)
            if records:
                line = {"event_id": event_id, "received_at_unix": received_at, "records": records}
                append_line(pending, json.dumps(line, separators=(",", ":")))
                state = self._pending.setdefault((channel, profile), _Pending())
                state.count += 1
                state.first_received = state.first_received or received_at
            append_line(seen_file, f"{event_id}\t{received_at}")
            seen[event_id] = received_at
            return True

    def due(self, now: float, batch_events: int, batch_seconds: float) -> list[tuple[str, str]]:
        with self._lock:
            return [
                key
                for key, state in self._pending.items()
                if state.count and (state.count >= batch_events or now - (state.first_received or now) >= batch_seconds)
            ]

    def seal(self, channel: str, profile: str) -> Path | None:
        """Land the pending records of one channel and profile as one file; None when there are none."""
        with self._lock:
            pending, _ = self._paths(channel, profile)
            lines = [json.loads(line) for line in read_lines(pending)]
            if not lines:
                self._pending.pop((channel, profile), None)
                return None
            digest = hashlib.sha256("\n".join(line["event_id"] for line in lines).encode()).hexdigest()[:12]
            stamp = datetime.fromtimestamp(lines[0]["received_at_unix"], UTC).strftime("%Y%m%dT%H%M%SZ")
            name = f"webhooks_{channel}_{stamp}_{digest}{BATCH_SUFFIXES[channel]}"
            outbox = self.root / "outbox" / name
            write_atomically(outbox, render_batch(channel, [record for line in lines for record in line["records"]]))
            landed = land_file(self.landing, outbox, CHANNEL_SOURCES[channel], profile)
            with open(landed, "rb") as handle:
                os.fsync(handle.fileno())
            fsync_directory(landed.parent)
            outbox.unlink()
            write_atomically(pending, b"")
            self._pending.pop((channel, profile), None)
            progress("webhook", f"{channel}/{profile}: landed {len(lines)} event(s) as {landed}")
            return landed

    def seal_all(self) -> list[Path]:
        with self._lock:
            keys = list(self._pending)
        return [path for key in keys if (path := self.seal(*key)) is not None]


# --- the ASGI app --------------------------------------------------------------------------------


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(
    home: ReconHome, settings: WebhookSettings | None = None, clock: Callable[[], float] = time.time
) -> Starlette:
    """The receiver as an ASGI app; serve it with one process (uvicorn), never several."""
    settings = settings or load_settings(home)
    store = WebhookStore(home)

    async def read_body(request: Request) -> bytes | JSONResponse:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        return body

    async def keep(
        channel: str, profile: str, event_id: str, body: bytes, headers: dict[str, str], records: list
    ) -> JSONResponse:
        accepted = await run_in_threadpool(store.accept, channel, profile, event_id, body, headers, records, clock())
        if not accepted:
            return JSONResponse({"status": "duplicate", "id": event_id})
        progress("webhook", f"{channel}/{profile}: accepted {event_id} with {len(records)} record(s)")
        if (channel, profile) in store.due(clock(), settings.batch_events, settings.batch_seconds):
            await seal(channel, profile)
        return JSONResponse({"status": "accepted", "id": event_id, "records": len(records)})

    async def seal(channel: str, profile: str) -> None:
        try:
            await run_in_threadpool(store.seal, channel, profile)
        except OSError as error:
            # the event is kept; its batch lands on a later attempt
            progress("webhook", f"{channel}/{profile}: could not land the pending batch, will retry: {error}")

    async def stripe(request: Request) -> JSONResponse:
        profile = request.path_params["profile"]
        endpoint = settings.endpoints.get(("stripe", profile))
        if endpoint is None:
            return _error(404, f"no Stripe webhook endpoint for profile {profile!r}")
        body = await read_body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            verify_stripe_signature(
                body, request.headers.get("stripe-signature"), endpoint.secret, settings.tolerance_seconds, clock()
            )
            event = json.loads(body)
        except SignatureError as error:
            return _error(400, str(error))
        except ValueError as error:
            return _error(400, f"the body is not JSON: {error}")
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("id"), str)
            or not event["id"]
            or not isinstance(event.get("type"), str)
            or not isinstance((event.get("data") or {}).get("object"), dict)
        ):
            return _error(400, "not a Stripe event (an object with id, type and data.object)")
        if await run_in_threadpool(store.is_seen, "stripe", profile, event["id"]):
            return JSONResponse({"status": "duplicate", "id": event["id"]})
        records, ids = stripe_balance_transaction_refs(event)
        if ids and endpoint.api_key:
            try:
                for transaction_id in ids:
                    records.append(await run_in_threadpool(fetch_balance_transaction, endpoint, transaction_id))
            except StripeApiError as error:
                # not acknowledged: Stripe delivers the event again later
                return _error(502, f"could not fetch a balance transaction of {event['id']}: {error}")
        records = [with_source_expanded(record, event["data"]["object"]) for record in records]
        headers = {"stripe-signature": request.headers["stripe-signature"]}
        return await keep("stripe", profile, event["id"], body, headers, records)

    async def shopify(request: Request) -> JSONResponse:
        profile = request.path_params["profile"]
        endpoint = settings.endpoints.get(("shopify", profile))
        if endpoint is None:
            return _error(404, f"no Shopify webhook endpoint for profile {profile!r}")
        body = await read_body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            verify_shopify_signature(body, request.headers.get("x-shopify-hmac-sha256"), endpoint.secret)
        except SignatureError as error:
            return _error(401, str(error))
        webhook_id = request.headers.get("x-shopify-webhook-id")
        if not webhook_id:
            return _error(400, "missing X-Shopify-Webhook-Id header")
        try:
            payload = json.loads(body)
        except ValueError as error:
            return _error(400, f"the body is not JSON: {error}")
        topic = request.headers.get("x-shopify-topic", "")
        records: list[dict[str, str]] = []
        if topic in SHOPIFY_ORDER_TOPICS:
            if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
                return _error(400, f"a {topic} webhook without an order name")
            records = shopify_order_rows(payload)
        headers = {
            name: request.headers[name]
            for name in ("x-shopify-topic", "x-shopify-shop-domain", "x-shopify-webhook-id", "x-shopify-triggered-at")
            if name in request.headers
        }
        return await keep("shopify", profile, webhook_id, body, headers, records)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "endpoints": sorted(f"{c}/{p}" for c, p in settings.endpoints)})

    async def seal_when_due() -> None:
        while True:
            await asyncio.sleep(1)
            for key in store.due(clock(), settings.batch_events, settings.batch_seconds):
                await seal(*key)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(store.seal_all)  # whatever a previous run left pending
        sealer = asyncio.create_task(seal_when_due())
        try:
            yield
        finally:
            sealer.cancel()
            await run_in_threadpool(store.seal_all)

    return Starlette(
        routes=[
            Route("/webhooks/stripe/{profile}", stripe, methods=["POST"]),
            Route("/webhooks/shopify/{profile}", shopify, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


@contextmanager
def receiver_lock(home: ReconHome) -> Iterator[None]:
    """One receiver per home: its dedup state is kept in memory."""
    path = home.root / "webhooks" / "receiver.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WebhookConfigError(f"{path}: another webhook receiver serves {home.root}") from None
        yield


def serve(home: ReconHome, host: str, port: int) -> None:
    import uvicorn

    settings = load_settings(home)
    if not settings.endpoints:
        raise WebhookConfigError(
            f"{home.root / CONFIG_FILE}: no webhook endpoint configured (nor RECON_STRIPE_WEBHOOK_SECRET_<PROFILE> "
            "or RECON_SHOPIFY_WEBHOOK_SECRET_<PROFILE> in the environment)"
        )
    with receiver_lock(home):
        for channel, profile in sorted(settings.endpoints):
            progress("webhook", f"POST http://{host}:{port}/webhooks/{channel}/{profile}")
        uvicorn.run(create_app(home, settings), host=host, port=port, workers=1, log_level="warning")
