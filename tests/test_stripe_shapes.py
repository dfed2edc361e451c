"""Stripe's files as Stripe writes them. The balance transactions list has no metadata: the order
id and e-mail are on the charge, which the list gives as the `source` id or, fetched with
`expand[]=data.source`, as the charge itself; a refund and a dispute name their charge. The
readers' paths and the demo generator's objects are held to Stripe's own types (the `stripe`
package's, generated from Stripe's OpenAPI specification), so neither can drift from the real
shape; a value of the wrong JSON kind is quarantined, never stored as text."""

import json
from pathlib import Path

import pytest

from dagster_project.lib.demo_data import generate_demo_data, stripe_listed
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import ensure_raw_schema, ingest_file
from dagster_project.lib.source_configs import SourceConfigError, load_source_file
from dagster_project.lib.sources import SOURCES
from dagster_project.lib.warehouse import connect
from tests.stripe_api_types import BALANCE_TRANSACTION, CHARGE, path_problems, problems

CHARGE_OBJECT = {
    "id": "ch_1", "object": "charge", "amount": 1050, "currency": "eur", "created": 1793527200,
    "balance_transaction": "txn_1", "billing_details": {"address": None, "email": "Ann@Example.com", "name": None,
                                                        "phone": None},
    "metadata": {"order_id": "#1001"}, "payment_intent": "pi_1", "receipt_email": None, "status": "succeeded",
}  # fmt: skip


def _transaction(txn_id: str, kind: str, amount: int, source: object, fee: int = 0) -> dict:
    return {
        "id": txn_id, "object": "balance_transaction", "amount": amount, "available_on": 1793700000,
        "created": 1793527200, "currency": "eur", "description": None, "exchange_rate": None, "fee": fee,
        "fee_details": [], "net": amount - fee, "reporting_category": kind, "source": source,
        "status": "available", "type": kind,
    }  # fmt: skip


def _ingest(home: ReconHome, path: Path, source: str, document: dict) -> tuple[list[dict], list[tuple]]:
    path.write_text(json.dumps(document))
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, path, source, "acme_eu")
        quarantined = connection.sql("select source_row, field, reason from raw.quarantine order by 1").fetchall()
        table = SOURCES[source].raw_table
        rows = connection.sql(f"select * from raw.{table} order by _source_row").fetchall()
        columns = [c[0] for c in connection.sql(f"select * from raw.{table} limit 0").description]
    return [dict(zip(columns, row, strict=True)) for row in rows], quarantined


def test_every_path_the_stripe_sources_read_is_in_stripes_api() -> None:
    read = {"stripe_balance_transactions": BALANCE_TRANSACTION, "stripe_charges": CHARGE}
    for source_name, cls in read.items():
        for f in SOURCES[source_name].fields:
            for path in (f.source_key, *f.fallback_keys):
                assert path_problems(cls, path) == [], f"{source_name}.{f.column}"
    # the witness tells a path Stripe does not have: the balance transaction's own metadata,
    # which the readers once took the order id from
    assert path_problems(BALANCE_TRANSACTION, "metadata.order_id") == [
        "metadata.order_id: BalanceTransaction has no attribute 'metadata' in Stripe's API"
    ]


def test_the_demo_writes_stripes_documented_shapes(tmp_path: Path) -> None:
    dataset = generate_demo_data(tmp_path, days=3, orders_per_day=20, seed=3)
    listed = [
        transaction
        for source, _, path in dataset.files
        if source == "stripe_balance_transactions"
        for transaction in json.loads(path.read_text())["data"]
    ]
    kinds = {(t["type"], t["source"]["object"]) for t in listed if isinstance(t.get("source"), dict)}
    assert {("charge", "charge"), ("refund", "refund"), ("adjustment", "dispute"), ("payout", "payout")} <= kinds
    found = [p for index, t in enumerate(listed) if t["amount"] != "ten euros"
             for p in problems(t, BALANCE_TRANSACTION, f"data[{index}]")]  # fmt: skip
    assert found == []
    # and the check can fail: the shape the demo used to write does not conform
    old_shape = {**stripe_listed({**_transaction("txn_9", "charge", 100, "ch_9"), "_source_object": CHARGE_OBJECT}),
                 "metadata": {"order_id": "#1"}}  # fmt: skip
    assert problems(old_shape, BALANCE_TRANSACTION, "old") == [
        "old.metadata: not an attribute of Stripe's BalanceTransaction"
    ]


def test_an_expanded_source_gives_the_order_the_email_and_a_refunds_charge(home: ReconHome, tmp_path: Path) -> None:
    refund = {"id": "re_1", "object": "refund", "amount": 500, "charge": "ch_1", "currency": "eur",
              "created": 1793600000, "metadata": {}, "status": "succeeded"}  # fmt: skip
    dispute = {"id": "dp_1", "object": "dispute", "amount": 1050, "charge": CHARGE_OBJECT, "currency": "eur",
               "created": 1793700000, "metadata": {}, "reason": "fraudulent", "status": "lost"}  # fmt: skip
    payout = {"id": "po_1", "object": "payout", "amount": 990, "currency": "eur", "created": 1793800000,
              "metadata": {}, "status": "paid"}  # fmt: skip
    document = {
        "object": "list",
        "url": "/v1/balance_transactions",
        "has_more": False,
        "data": [
            _transaction("txn_1", "charge", 1050, CHARGE_OBJECT, fee=60),
            _transaction("txn_2", "refund", -500, refund),
            _transaction("txn_3", "adjustment", -1050, dispute, fee=1500),
            _transaction("txn_4", "payout", -990, payout),
        ],
    }
    for index, transaction in enumerate(document["data"]):
        assert problems(transaction, BALANCE_TRANSACTION, f"data[{index}]") == []
    rows, quarantined = _ingest(home, tmp_path / "expanded.json", "stripe_balance_transactions", document)
    assert quarantined == []
    got = [(r["id"], r["source"], r["source_object"], r["order_id"], r["customer_email"], r["charge"],
            r["charge_order_id"]) for r in rows]  # fmt: skip
    assert got == [
        ("txn_1", "ch_1", "charge", "#1001", "Ann@Example.com", None, None),
        ("txn_2", "re_1", "refund", None, None, "ch_1", None),
        ("txn_3", "dp_1", "dispute", None, None, "ch_1", "#1001"),
        ("txn_4", "po_1", "payout", None, None, None, None),
    ]
    assert json.loads(rows[0]["source_metadata"]) == {"order_id": "#1001"}


def test_a_source_given_as_an_id_is_read_as_the_id(home: ReconHome, tmp_path: Path) -> None:
    document = {"object": "list", "data": [_transaction("txn_1", "charge", 1050, "ch_1", fee=60)]}
    rows, quarantined = _ingest(home, tmp_path / "ids.json", "stripe_balance_transactions", document)
    assert quarantined == []
    assert [(r["source"], r["order_id"], r["customer_email"]) for r in rows] == [("ch_1", None, None)]


def test_a_value_of_the_wrong_json_kind_is_quarantined_not_stored_as_text(home: ReconHome, tmp_path: Path) -> None:
    no_id = {key: value for key, value in CHARGE_OBJECT.items() if key != "id"}
    document = {
        "object": "list",
        "data": [
            _transaction("txn_1", "charge", 1050, "ch_1"),
            {**_transaction("txn_2", "charge", 1050, "ch_2"), "description": {"text": "an object"}},
            {**_transaction("txn_3", "charge", 1050, "ch_3"), "status": ["available"]},
            _transaction("txn_4", "charge", 1050, no_id),
            {**_transaction("txn_5", "charge", 1050, "ch_5"), "amount": {"value": 1050}},
        ],
    }
    rows, quarantined = _ingest(home, tmp_path / "kinds.json", "stripe_balance_transactions", document)
    assert [r["id"] for r in rows] == ["txn_1"]
    assert quarantined == [
        (2, "description", "field 'description': a JSON object where a text is expected"),
        (3, "status", "field 'status': a JSON list where a text is expected"),
        (4, "source", "field 'source': an expanded object without an id text"),
        (5, "amount", "field 'amount': a JSON object where a whole number is expected"),
    ]


def test_the_charges_list_gives_order_ids_and_emails(home: ReconHome, tmp_path: Path) -> None:
    receipt_only = {**CHARGE_OBJECT, "id": "ch_2", "billing_details": {"email": None}, "receipt_email": "b@x.example",
                    "metadata": {}}  # fmt: skip
    refund = {"id": "re_1", "object": "refund", "amount": 500, "currency": "eur", "created": 1793600000,
              "status": "succeeded"}  # fmt: skip
    document = {"object": "list", "url": "/v1/charges", "data": [CHARGE_OBJECT, receipt_only, refund]}
    for index, charge in enumerate(document["data"][:2]):
        assert problems(charge, CHARGE, f"data[{index}]") == []
    rows, quarantined = _ingest(home, tmp_path / "charges.json", "stripe_charges", document)
    assert [(r["id"], r["order_id"], r["customer_email"], r["balance_transaction"]) for r in rows] == [
        ("ch_1", "#1001", "Ann@Example.com", "txn_1"),
        ("ch_2", None, "b@x.example", "txn_1"),
    ]
    assert [(row, field) for row, field, _ in quarantined] == [(3, "object")]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("{column: amount, expandable: true}", "fields[0].expandable: applies to fields of a JSON source"),
        ("{column: amount, source_key: [Amount, Betrag]}", "fields[0].source_key: expected a non-empty text"),
    ],
)
def test_json_only_field_keys_are_refused_elsewhere(tmp_path: Path, field: str, message: str) -> None:
    path = tmp_path / "bank.yml"
    path.write_text(
        "name: bank\nformat: csv\nraw_table: bank\ndefault_account: bank_eur\ndescription: a bank\n"
        f"fields:\n  - {field}\n"
    )
    with pytest.raises(SourceConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_source_file(path)


def test_an_impossible_time_is_quarantined_not_loaded(home: ReconHome, tmp_path: Path) -> None:
    document = {
        "object": "list",
        "data": [
            _transaction("txn_1", "charge", 1050, "ch_1"),
            {**_transaction("txn_2", "charge", 1050, "ch_2"), "created": -99999999999999},
            {**_transaction("txn_3", "charge", 1050, "ch_3"), "available_on": 99999999999},
            {**_transaction("txn_4", "charge", 1050, "ch_4"), "created": -2208988801},
        ],
    }
    rows, quarantined = _ingest(home, tmp_path / "times.json", "stripe_balance_transactions", document)
    assert [r["id"] for r in rows] == ["txn_1"]
    suffix = "is not a date a record can have (from 1900-01-01 to 2199-12-31)"
    assert quarantined == [
        (2, "created", f"field 'created': '-99999999999999' {suffix}"),
        (3, "available_on", f"field 'available_on': '99999999999' {suffix}"),
        (4, "created", f"field 'created': '-2208988801' {suffix}"),
    ]


def test_the_charges_fixture_is_in_stripes_shape() -> None:
    fixture = Path(__file__).parent / "fixtures" / "processors" / "stripe_charges_list.json"
    charges = json.loads(fixture.read_text())["data"]
    assert [p for index, c in enumerate(charges) for p in problems(c, CHARGE, f"data[{index}]")] == []
