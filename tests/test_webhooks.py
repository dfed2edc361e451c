"""The webhook receiver, served by uvicorn on the loopback interface, fed signed events over HTTP."""

import hashlib
import hmac
import json
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import httpx
import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import ensure_raw_schema, ingest_file, landed_files
from dagster_project.lib.warehouse import connect
from dagster_project.lib.webhooks import (
    DEDUP_RETENTION_DAYS,
    SignatureError,
    WebhookConfigError,
    WebhookStore,
    create_app,
    load_settings,
    shopify_signature,
    stripe_signature,
    verify_stripe_signature,
)
from tests.conftest import recon, serving

STRIPE_SECRET = "whsec_test_secret"
SHOPIFY_SECRET = "shpss_test_secret"
API_KEY = "rk_test_reader"


def balance_transaction(txn_id: str, amount: int = 2500, fee: int = 103) -> dict:
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": 1_793_750_400,
        "created": 1_793_577_600,
        "currency": "eur",
        "description": "Payment for order #1001",
        "fee": fee,
        "net": amount - fee,
        "reporting_category": "charge",
        "source": "ch_1001",
        "status": "pending",
        "type": "charge",
    }


def stripe_event(event_id: str, event_type: str, obj: dict) -> bytes:
    document = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": 1_793_577_600,
        "data": {"object": obj},
    }
    return json.dumps(document).encode()


ORDER = {
    "id": 5100000001,
    "name": "#1001",
    "email": "Ada.Lovelace@example.com",
    "created_at": "2026-11-03T10:15:00+01:00",
    "processed_at": "2026-11-03T10:15:02+01:00",
    "currency": "EUR",
    "financial_status": "pending",
    "fulfillment_status": None,
    "subtotal_price": "20.10",
    "total_price": "25.00",
    "total_tax": "4.02",
    "total_discounts": "0.00",
    "total_shipping_price_set": {"shop_money": {"amount": "4.90", "currency_code": "EUR"}},
    "discount_codes": [],
    "payment_gateway_names": ["shopify_payments"],
    "billing_address": {"name": "Ada Lovelace"},
    "source_name": "web",
    "tags": "",
    "line_items": [
        {"name": "Tea cup", "quantity": 2, "price": "7.50", "sku": "TEA-CUP"},
        {"name": "Saucer", "quantity": 1, "price": "5.10", "sku": "SAUCER"},
    ],
    "refunds": [],
}


def write_settings(home: ReconHome, **extra: object) -> None:
    document = {
        "batch_seconds": 0,
        "stripe": {"acme_eu": {"secret": STRIPE_SECRET}},
        "shopify": {"acme_eu": {"secret": SHOPIFY_SECRET}},
        **extra,
    }
    (home.root / "webhooks.yml").write_text(yaml.safe_dump(document))


def post_stripe(client: httpx.Client, body: bytes, *, timestamp: int | None = None, header: str | None = None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    header = header or f"t={timestamp},v1={stripe_signature(body, STRIPE_SECRET, timestamp)}"
    return client.post(
        "/webhooks/stripe/acme_eu",
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def post_shopify(client: httpx.Client, order: dict, webhook_id: str, topic: str = "orders/create", secret: str = ""):
    body = json.dumps(order).encode()
    headers = {
        "X-Shopify-Hmac-Sha256": shopify_signature(body, secret or SHOPIFY_SECRET),
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "acme-eu.myshopify.com",
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/shopify/acme_eu", content=body, headers=headers)


def landed(home: ReconHome, source: str) -> list[Path]:
    return [path for path, _ in landed_files(home.landing, source)]


def ingest_all(home: ReconHome, source: str) -> None:
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        for path, profile in landed_files(home.landing, source):
            ingest_file(connection, path, source, profile)


def test_stripe_events_are_verified_deduplicated_and_land_once(home: ReconHome) -> None:
    write_settings(home)
    with serving(create_app(home)) as url, httpx.Client(base_url=url) as client:
        event = stripe_event("evt_1", "balance_transaction.created", balance_transaction("txn_1"))
        first = post_stripe(client, event)
        assert first.status_code == 200 and first.json() == {"status": "accepted", "id": "evt_1", "records": 1}
        again = post_stripe(client, event)  # Stripe delivers again, signed afresh
        assert again.status_code == 200 and again.json()["status"] == "duplicate"

        tampered = post_stripe(client, event, header=f"t={int(time.time())},v1={'0' * 64}")
        assert tampered.status_code == 400 and "no v1 signature matches" in tampered.json()["error"]
        old = int(time.time()) - 600
        replayed = post_stripe(client, stripe_event("evt_2", "balance_transaction.created", {}), timestamp=old)
        assert replayed.status_code == 400 and "outside the tolerance of 300s" in replayed.json()["error"]
        unsigned = client.post("/webhooks/stripe/acme_eu", content=event)
        assert unsigned.status_code == 400 and "missing Stripe-Signature" in unsigned.json()["error"]
        malformed = post_stripe(client, b'{"id": "evt_3", ')
        assert malformed.status_code == 400 and "not JSON" in malformed.json()["error"]
        not_an_event = post_stripe(client, b'{"id": "evt_4"}')
        assert not_an_event.status_code == 400
        nowhere = client.post("/webhooks/stripe/globex_us", content=event)
        assert nowhere.status_code == 404

        # while a secret is rolled Stripe signs with both; one matching v1 is enough
        rolled = stripe_event("evt_5", "balance_transaction.created", balance_transaction("txn_5", 1000, 44))
        now = int(time.time())
        both = (
            f"t={now},v1={stripe_signature(rolled, 'whsec_old', now)},v1={stripe_signature(rolled, STRIPE_SECRET, now)}"
        )
        assert post_stripe(client, rolled, header=both).json()["status"] == "accepted"

    files = landed(home, "stripe_balance_transactions")
    assert len(files) == 2
    assert sorted(record["id"] for path in files for record in json.loads(path.read_text())["data"]) == [
        "txn_1",
        "txn_5",
    ]
    ingest_all(home, "stripe_balance_transactions")
    with connect(home.warehouse, read_only=True) as connection:
        rows = connection.sql(
            "select id, amount, fee, net, currency from raw.stripe_balance_transactions order by id"
        ).fetchall()
    assert rows == [("txn_1", 2500, 103, 2397, "EUR"), ("txn_5", 1000, 44, 956, "EUR")]


@contextmanager
def fake_stripe_api(transactions: dict[str, dict]) -> Iterator[str]:
    async def retrieve(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse({"error": {"message": "Invalid API Key provided"}}, status_code=401)
        if request.query_params.getlist("expand[]") != ["source"]:
            return JSONResponse({"error": {"message": "this test's API serves expand[]=source only"}}, 400)
        found = transactions.get(request.path_params["txn_id"])
        return JSONResponse(found) if found else JSONResponse({"error": {"type": "invalid_request_error"}}, 404)

    with serving(Starlette(routes=[Route("/v1/balance_transactions/{txn_id}", retrieve)])) as url:
        yield url


def test_charge_events_land_their_balance_transaction_fetched_from_the_api(
    home: ReconHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    charge = {
        "id": "ch_1001", "object": "charge", "amount": 2500, "currency": "eur", "balance_transaction": "txn_9",
        "metadata": {"order_id": "#1001"}, "billing_details": {"email": "ann@example.com"},
    }  # fmt: skip
    with fake_stripe_api({"txn_9": {**balance_transaction("txn_9"), "source": "ch_1001"}}) as api:
        monkeypatch.setenv("TEST_STRIPE_KEY", API_KEY)
        stripe = {"acme_eu": {"secret": STRIPE_SECRET, "api_key_env": "TEST_STRIPE_KEY", "api_base": api}}
        write_settings(home, stripe=stripe)
        with serving(create_app(home)) as url, httpx.Client(base_url=url) as client:
            answer = post_stripe(client, stripe_event("evt_10", "charge.succeeded", charge))
            assert answer.json() == {"status": "accepted", "id": "evt_10", "records": 1}
            missing = dict(charge, id="ch_1002", balance_transaction="txn_unknown")
            failed = post_stripe(client, stripe_event("evt_11", "charge.succeeded", missing))
            # not acknowledged, so that Stripe delivers it again; nor remembered as seen
            assert failed.status_code == 502 and "HTTP 404" in failed.json()["error"]
            ignored = post_stripe(client, stripe_event("evt_12", "customer.created", {"id": "cus_1"}))
            assert ignored.json()["records"] == 0
    [batch] = landed(home, "stripe_balance_transactions")
    # the balance transaction has no metadata: the event's charge, which carries the order id,
    # lands in place of its source id, as an expanded source
    assert [(record["id"], record["source"]) for record in json.loads(batch.read_text())["data"]] == [("txn_9", charge)]
    ingest_all(home, "stripe_balance_transactions")
    with connect(home.warehouse, read_only=True) as connection:
        rows = connection.sql("select source, order_id, customer_email from raw.stripe_balance_transactions").fetchall()
    assert rows == [("ch_1001", "#1001", "ann@example.com")]
    journal = sorted((home.root / "webhooks" / "journal" / "stripe" / "acme_eu").glob("*.jsonl"))
    kept = [json.loads(line)["event_id"] for path in journal for line in path.read_text().splitlines()]
    assert kept == ["evt_10", "evt_12"]


def test_without_an_api_key_charge_events_are_kept_but_not_landed(home: ReconHome) -> None:
    write_settings(home)
    charge = {"id": "ch_1", "object": "charge", "balance_transaction": "txn_1"}
    with serving(create_app(home)) as url, httpx.Client(base_url=url) as client:
        assert post_stripe(client, stripe_event("evt_1", "charge.succeeded", charge)).json()["records"] == 0
    assert landed(home, "stripe_balance_transactions") == []


def test_shopify_orders_are_verified_deduplicated_and_ingest_as_the_export(home: ReconHome) -> None:
    write_settings(home)
    with serving(create_app(home)) as url, httpx.Client(base_url=url) as client:
        created = post_shopify(client, ORDER, "wh-1")
        assert created.status_code == 200 and created.json()["records"] == 2  # one row per line item
        assert post_shopify(client, ORDER, "wh-1").json()["status"] == "duplicate"
        forged = post_shopify(client, ORDER, "wh-2", secret="not the secret")
        assert forged.status_code == 401 and "does not match" in forged.json()["error"]
        body = b"{not json"
        broken = client.post(
            "/webhooks/shopify/acme_eu",
            content=body,
            headers={"X-Shopify-Hmac-Sha256": shopify_signature(body, SHOPIFY_SECRET), "X-Shopify-Webhook-Id": "wh-3"},
        )
        assert broken.status_code == 400
        paid = dict(ORDER, financial_status="paid")
        assert post_shopify(client, paid, "wh-4", topic="orders/paid").json()["status"] == "accepted"
        assert post_shopify(client, {"id": 1}, "wh-5", topic="customers/create").json()["records"] == 0

    assert len(landed(home, "shopify_orders")) == 2
    ingest_all(home, "shopify_orders")
    with connect(home.warehouse, read_only=True) as connection:
        rows = connection.sql(
            """
            select name, financial_status, total, shipping, currency, created_at, paid_at, lineitem_sku, id
            from raw.shopify_orders
            """
        ).fetchall()
        quarantined = connection.sql("select count(*) from raw.quarantine").fetchall()[0][0]
    assert quarantined == 0
    orders = sorted(row for row in rows if row[2] is not None)
    assert [row[:5] for row in orders] == [
        ("#1001", "paid", Decimal("25.00"), Decimal("4.90"), "EUR"),
        ("#1001", "pending", Decimal("25.00"), Decimal("4.90"), "EUR"),
    ]
    assert [row[5] for row in orders] == [datetime(2026, 11, 3, 9, 15)] * 2  # UTC
    assert [row[6] for row in orders] == [datetime(2026, 11, 3, 9, 15, 2), None]
    assert sorted(row[7] for row in rows) == ["SAUCER", "SAUCER", "TEA-CUP", "TEA-CUP"]
    assert {row[8] for row in orders} == {5100000001}


def test_events_gather_into_micro_batches(home: ReconHome) -> None:
    write_settings(home, batch_seconds=3600, batch_events=2)
    events = [stripe_event(f"evt_{n}", "x", balance_transaction(f"txn_{n}")) for n in range(3)]
    with serving(create_app(home)) as url, httpx.Client(base_url=url) as client:
        for event in events[:2]:
            assert post_stripe(client, event).status_code == 200
        [full] = landed(home, "stripe_balance_transactions")
        assert [r["id"] for r in json.loads(full.read_text())["data"]] == ["txn_0", "txn_1"]
        assert post_stripe(client, events[2]).status_code == 200
        assert landed(home, "stripe_balance_transactions") == [full]
    # stopping the receiver lands what was pending
    rest = set(landed(home, "stripe_balance_transactions")) - {full}
    assert [r["id"] for path in rest for r in json.loads(path.read_text())["data"]] == ["txn_2"]


def test_state_survives_a_restart_and_a_crash_while_landing(home: ReconHome) -> None:
    body = stripe_event("evt_1", "x", balance_transaction("txn_1"))
    store = WebhookStore(home)
    assert store.accept("stripe", "acme_eu", "evt_1", body, {}, [balance_transaction("txn_1")], time.time())
    pending = home.root / "webhooks" / "pending" / "stripe" / "acme_eu.jsonl"
    kept = pending.read_bytes()
    restarted = WebhookStore(home)
    assert not restarted.accept("stripe", "acme_eu", "evt_1", body, {}, [balance_transaction("txn_1")], time.time())
    first = restarted.seal("stripe", "acme_eu")
    assert first is not None and pending.read_bytes() == b""
    # a crash after the batch landed but before its records were cleared: it lands again as the same file
    pending.write_bytes(kept + b'{"event_id": "evt_torn"')  # and a line torn by the crash
    again = WebhookStore(home).seal("stripe", "acme_eu")
    assert again == first and landed(home, "stripe_balance_transactions") == [first]


def test_event_ids_are_forgotten_after_the_retention(home: ReconHome) -> None:
    day = 86_400
    start = 1_800_000_000.0
    store = WebhookStore(home)
    txn = [balance_transaction("txn_1")]
    assert store.accept("stripe", "acme_eu", "evt_old", b"{}", {}, txn, start)
    assert not store.accept("stripe", "acme_eu", "evt_old", b"{}", {}, txn, start + 3 * day)  # Stripe's retries
    assert store.accept("stripe", "acme_eu", "evt_recent", b"{}", {}, txn, start + 6 * day)
    # a week on, the first id is forgotten (in the file too); the recent one is still known
    later = start + (DEDUP_RETENTION_DAYS + 1) * day
    assert not store.accept("stripe", "acme_eu", "evt_recent", b"{}", {}, txn, later)
    seen_file = home.root / "webhooks" / "seen" / "stripe" / "acme_eu.ids"
    assert [line.split("\t")[0] for line in seen_file.read_text().splitlines()] == ["evt_recent"]
    restarted = WebhookStore(home)
    assert not restarted.accept("stripe", "acme_eu", "evt_recent", b"{}", {}, txn, later)
    assert restarted.accept("stripe", "acme_eu", "evt_old", b"{}", {}, txn, later)
    # a file of ids written before ids had times: each is as old as the file, so kept for now
    legacy = home.root / "webhooks" / "seen" / "shopify" / "acme_eu.ids"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_text("evt_legacy\n")
    assert not WebhookStore(home).accept("shopify", "acme_eu", "evt_legacy", b"{}", {}, [], time.time())


def test_the_landing_sensor_requests_a_run_for_a_webhook_batch(home: ReconHome) -> None:
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    from dagster_project.definitions import defs

    sensor = defs.resolve_sensor_def("landing_sensor")
    instance = dg.DagsterInstance.ephemeral()
    quiet = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    store = WebhookStore(home)
    store.accept("stripe", "acme_eu", "evt_1", b"{}", {}, [balance_transaction("txn_1")], time.time())
    store.seal("stripe", "acme_eu")
    fired = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs, cursor=quiet.cursor))
    assert len(fired.run_requests) == 1


def test_signature_rules() -> None:
    body, now = b'{"id":"evt_1"}', 1_800_000_000
    good = stripe_signature(body, STRIPE_SECRET, now)
    assert verify_stripe_signature(body, f"t={now},v0=ignored,v1={good}", STRIPE_SECRET, 300, now + 300) == now
    with pytest.raises(SignatureError, match="in the future"):
        verify_stripe_signature(body, f"t={now},v1={good}", STRIPE_SECRET, 300, now - 301)
    with pytest.raises(SignatureError, match="no v1 signature"):
        verify_stripe_signature(body, f"t={now},v0={good}", STRIPE_SECRET, 300, now)
    with pytest.raises(SignatureError, match="no timestamp"):
        verify_stripe_signature(body, f"v1={good}", STRIPE_SECRET, 300, now)
    assert good == hmac.new(STRIPE_SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()


def test_secrets_come_from_the_file_or_the_environment(home: ReconHome) -> None:
    environment = {"RECON_STRIPE_WEBHOOK_SECRET_GLOBEX_US": "whsec_env", "RECON_STRIPE_API_KEY_GLOBEX_US": "rk_env"}
    write_settings(home)
    settings = load_settings(home, environment)
    assert settings.endpoints[("stripe", "acme_eu")].secret == STRIPE_SECRET
    assert settings.endpoints[("stripe", "globex_us")].api_key == "rk_env"
    assert ("shopify", "globex_us") not in settings.endpoints
    write_settings(home, shopify={"acme_eu": {"secret_env": "UNSET_SECRET"}})
    with pytest.raises(WebhookConfigError, match=r"webhooks\.yml: shopify\.acme_eu\.secret_env: .*UNSET_SECRET"):
        load_settings(home, {})
    write_settings(home, shopify={"nowhere": {"secret": "x"}})
    with pytest.raises(WebhookConfigError, match=r"shopify\.nowhere: unknown profile"):
        load_settings(home, {})


def test_the_commands_explain_what_is_missing(home: ReconHome) -> None:
    served = recon(home.root, "serve-webhooks", "--port", "1", check=False)
    assert served.returncode == 2 and "no webhook endpoint configured" in served.stderr
    pulled = recon(home.root, "pull-sftp", check=False)
    assert pulled.returncode == 2 and "sftp.yml: no such file" in pulled.stderr
