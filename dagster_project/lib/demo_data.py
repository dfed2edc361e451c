"""Deterministic demo data: Shopify orders and Stripe balance transactions with known outcomes.

For every profile and day the generator writes a Shopify orders export (CSV, the export's own
columns, one row per line item) and a Stripe balance-transaction list (the API's JSON shape),
with life's messiness injected: missing and late charges, double charges, webhook duplicates,
amount and currency mismatches, refunds, charges found only by the customer's email and amount,
charges with no reference at all, orphan charges and malformed rows. Beside the files it
writes `ground_truth.csv`: for every record, the outcome a correct reconciliation reaches as of
the last day.
"""

import csv
import json
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

SHOPIFY_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency",
    "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Created at",
    "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku", "Billing Name",
    "Payment Method", "Payment Reference", "Refunded Amount", "Id", "Tags", "Source",
]  # fmt: skip

GROUND_TRUTH_COLUMNS = [
    "source_name", "record_id", "entry_type", "copy", "profile_id", "scenario",
    "expected_status", "expected_category", "expected_counterpart", "file", "row",
]  # fmt: skip

PROFILES = {"acme_eu": "EUR", "globex_us": "USD"}
OTHER_CURRENCY = {"EUR": "USD", "USD": "EUR"}
PRODUCTS = [
    ("Linen shirt", 4900), ("Wool socks", 1450), ("Canvas tote", 2200), ("Leather belt", 3900),
    ("Rain jacket", 12900), ("Cotton cap", 1900), ("Silk scarf", 5400), ("Denim jeans", 8900),
]  # fmt: skip
FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun"]
LAST_NAMES = ["Keller", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi"]

# (scenario, weight) for each order; the rest of the order is the plain, matched case
SCENARIOS = [
    ("matched", 69), ("late_charge", 6), ("missing_charge", 4), ("amount_mismatch", 4),
    ("currency_mismatch", 3), ("refund", 5), ("partial_refund", 2), ("double_charge", 2),
    ("webhook_duplicate", 2), ("charge_found_by_email", 2), ("charge_without_references", 1),
]  # fmt: skip
ORDER_WINDOW_DAYS = 3  # the order -> charge rule's window (macros/rules)
REFUND_WINDOW_DAYS = 5


@dataclass
class DemoDataset:
    root: Path
    first_day: date
    last_day: date
    files: list[tuple[str, str, Path]] = field(default_factory=list)  # (source, profile, path)
    orders: int = 0
    balance_transactions: int = 0
    ground_truth: Path | None = None


@dataclass
class _Truth:
    rows: list[dict] = field(default_factory=list)

    def add(self, source: str, record_id: str, entry_type: str, profile: str, scenario: str,
            status: str, category: str = "", counterpart: str = "", copy: int = 1,
            file: str = "", row: int | str = "") -> None:  # fmt: skip
        self.rows.append(
            {
                "source_name": source, "record_id": record_id, "entry_type": entry_type,
                "copy": copy, "profile_id": profile, "scenario": scenario,
                "expected_status": status, "expected_category": category,
                "expected_counterpart": counterpart, "file": file, "row": row,
            }
        )  # fmt: skip


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _shopify_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000")


def _random_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    return prefix + "".join(rng.choices(string.ascii_letters + string.digits, k=length))


def _fee(amount_minor: int) -> int:
    return round(amount_minor * 29 / 1000) + 30


def generate_demo_data(
    out_dir: Path,
    *,
    days: int = 5,
    orders_per_day: int = 60,
    seed: int = 7,
    first_day: date = date(2026, 11, 1),
    bad_rows: bool = True,
) -> DemoDataset:
    """Write the demo files and ground truth under ``out_dir``; return what was written."""
    if days < 1 or orders_per_day < 1:
        raise ValueError("days and orders_per_day must be at least 1")
    rng = random.Random(seed)
    last_day = first_day + timedelta(days=days - 1)
    dataset = DemoDataset(root=out_dir, first_day=first_day, last_day=last_day)
    truth = _Truth()
    names, weights = zip(*SCENARIOS, strict=True)

    def outcome_if_unmatched(business_day: date, window: int) -> tuple[str, str]:
        aged = (last_day - business_day).days > window
        return ("exception", "missing_counterpart") if aged else ("open", "")

    for profile, currency in PROFILES.items():
        order_rows: dict[date, list[list[str]]] = {d: [] for d in _days(first_day, days)}
        transactions: dict[date, list[dict]] = {d: [] for d in _days(first_day, days)}
        order_number = 1000
        shopify_id = 5_100_000_000 + (0 if profile == "acme_eu" else 900_000_000)

        for day in _days(first_day, days):
            for _ in range(orders_per_day):
                order_number += 1
                shopify_id += rng.randint(1, 9)
                name = f"#{order_number}"
                created = datetime.combine(day, time(8), tzinfo=UTC) + timedelta(seconds=rng.randint(0, 12 * 3600))
                customer = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                # one address per order, so that the email fallback of the rule is never ambiguous
                email = customer.lower().replace(" ", ".") + f".{shopify_id % 10**8}@example.com"
                items = rng.sample(PRODUCTS, rng.randint(1, 3))
                quantities = [rng.randint(1, 3) for _ in items]
                subtotal = sum(price * qty for (_, price), qty in zip(items, quantities, strict=True))
                shipping = rng.choice([0, 490, 990])
                taxes = round(subtotal * 0.2)
                total = subtotal + shipping
                scenario = rng.choices(names, weights)[0]
                is_last_day = day == last_day
                if scenario in ("late_charge", "refund", "partial_refund") and is_last_day:
                    scenario = "matched"
                refunded = 0
                if scenario == "refund":
                    refunded = total
                elif scenario == "partial_refund":
                    refunded = rng.randint(1, total // 100) * 100 // 2 or 100
                status = {0: "paid"}.get(refunded, "refunded" if refunded == total else "partially_refunded")
                for index, ((product, price), qty) in enumerate(zip(items, quantities, strict=True)):
                    first = index == 0
                    order_rows[day].append(
                        [
                            name,
                            email if first else "",
                            status if first else "",
                            _shopify_time(created) if first else "",
                            "fulfilled" if first else "",
                            currency if first else "",
                            _money(subtotal) if first else "",
                            _money(shipping) if first else "",
                            _money(taxes) if first else "",
                            _money(total) if first else "",
                            "",
                            "0.00" if first else "",
                            _shopify_time(created) if first else "",
                            str(qty),
                            product,
                            _money(price),
                            product.upper().replace(" ", "-"),
                            customer if first else "",
                            "Stripe" if first else "",
                            "",
                            _money(refunded) if first else "",
                            str(shopify_id) if first else "",
                            "",
                            "web" if first else "",
                        ]
                    )
                dataset.orders += 1
                order_key = f"shopify_orders:{name}"
                charge_day = day + timedelta(days=1) if scenario == "late_charge" else day
                charge_time = created + timedelta(minutes=rng.randint(1, 30))
                if scenario == "late_charge":
                    charge_time = datetime.combine(charge_day, time(6), tzinfo=UTC)
                reference = name if rng.random() < 0.8 else name.lstrip("#")
                charge_currency = OTHER_CURRENCY[currency] if scenario == "currency_mismatch" else currency
                charge_amount = total
                if scenario == "amount_mismatch":
                    charge_amount = total + rng.choice([-1, 1]) * rng.randint(1, 500)

                if scenario == "missing_charge":
                    truth.add("shopify_orders", name, "order", profile, scenario,
                              *outcome_if_unmatched(day, ORDER_WINDOW_DAYS))  # fmt: skip
                    continue

                charge = _balance_transaction(
                    rng, "charge", charge_amount, charge_currency, charge_time,
                    None if scenario.startswith("charge_") else reference,
                    None if scenario == "charge_without_references" else email,
                )  # fmt: skip
                transactions[charge_day].append(charge)
                charge_key = f"stripe_balance_transactions:{charge['id']}"

                if scenario == "charge_without_references":
                    truth.add("shopify_orders", name, "order", profile, scenario,
                              *outcome_if_unmatched(day, ORDER_WINDOW_DAYS))  # fmt: skip
                    truth.add("stripe_balance_transactions", charge["id"], "charge", profile,
                              scenario, "exception", "missing_identifier")  # fmt: skip
                    continue
                if scenario in ("amount_mismatch", "currency_mismatch"):
                    category = (
                        "currency_mismatch" if scenario == "currency_mismatch"
                        else "amount_over" if charge_amount > total else "amount_under"
                    )  # fmt: skip
                    truth.add("shopify_orders", name, "order", profile, scenario, "exception",
                              category, charge_key)  # fmt: skip
                    truth.add("stripe_balance_transactions", charge["id"], "charge", profile,
                              scenario, "exception", category, order_key)  # fmt: skip
                    continue

                truth.add("shopify_orders", name, "order", profile, scenario, "matched",
                          counterpart=charge_key)  # fmt: skip
                truth.add("stripe_balance_transactions", charge["id"], "charge", profile,
                          scenario, "matched", counterpart=order_key)  # fmt: skip

                if scenario == "double_charge":
                    second = _balance_transaction(
                        rng, "charge", total, currency, charge_time + timedelta(minutes=2),
                        reference, email,
                    )  # fmt: skip
                    transactions[charge_day].append(second)
                    truth.add("stripe_balance_transactions", second["id"], "charge", profile,
                              scenario, "exception", "duplicate_entry", charge_key)  # fmt: skip
                if scenario == "webhook_duplicate":
                    transactions[charge_day].append(dict(charge))
                    truth.add("stripe_balance_transactions", charge["id"], "charge", profile,
                              scenario, "deduplicated", "", charge_key, copy=2)  # fmt: skip
                if refunded:
                    refund_day = day + timedelta(days=1)
                    refund = _balance_transaction(
                        rng, "refund", -refunded, currency,
                        datetime.combine(refund_day, time(9), tzinfo=UTC), reference, email,
                    )  # fmt: skip
                    transactions[refund_day].append(refund)
                    truth.add("shopify_orders", name, "refund", profile, scenario, "matched",
                              counterpart=f"stripe_balance_transactions:{refund['id']}")  # fmt: skip
                    truth.add("stripe_balance_transactions", refund["id"], "refund", profile,
                              scenario, "matched", counterpart=f"{order_key}")  # fmt: skip

            # a charge for an order this shop never exported
            orphan = _balance_transaction(
                rng, "charge", rng.randint(1000, 20000), currency,
                datetime.combine(day, time(21), tzinfo=UTC), f"#X{day:%Y%m%d}",
                "orphan@example.com",
            )  # fmt: skip
            transactions[day].append(orphan)
            truth.add("stripe_balance_transactions", orphan["id"], "charge", profile,
                      "orphan_charge", *outcome_if_unmatched(day, ORDER_WINDOW_DAYS))  # fmt: skip

        for day in _days(first_day, days):
            shopify_path = out_dir / "shopify_orders" / profile / f"orders_export_{day}.csv"
            bad = _bad_shopify_rows(currency, day) if bad_rows and day == first_day else []
            _write_shopify(shopify_path, order_rows[day], bad, truth, profile)
            dataset.files.append(("shopify_orders", profile, shopify_path))
            stripe_path = out_dir / "stripe_balance_transactions" / profile / f"balance_transactions_{day}.json"
            records = transactions[day]
            if bad_rows and day == first_day:
                broken = _balance_transaction(
                    rng, "charge", 1000, currency, datetime.combine(day, time(22), tzinfo=UTC),
                    "#99999", "broken@example.com",
                )  # fmt: skip
                broken["amount"] = "ten euros"
                records = [*records, broken]
                truth.add("stripe_balance_transactions", broken["id"], "charge", profile,
                          "invalid_amount", "quarantined", "invalid_input",
                          file=stripe_path.name, row=len(records))  # fmt: skip
            _write_stripe(stripe_path, records)
            dataset.balance_transactions += len(records)
            dataset.files.append(("stripe_balance_transactions", profile, stripe_path))

    ground_truth = out_dir / "ground_truth.csv"
    ground_truth.parent.mkdir(parents=True, exist_ok=True)
    with open(ground_truth, "w", newline="") as handle:
        writer = csv.DictWriter(handle, GROUND_TRUTH_COLUMNS)
        writer.writeheader()
        writer.writerows(truth.rows)
    dataset.ground_truth = ground_truth
    return dataset


def _days(first_day: date, days: int) -> list[date]:
    return [first_day + timedelta(days=offset) for offset in range(days)]


def _balance_transaction(
    rng: random.Random, kind: str, amount: int, currency: str, created: datetime,
    order_reference: str | None, email: str | None,
) -> dict:  # fmt: skip
    fee = _fee(amount) if kind == "charge" else 0
    metadata = {}
    if email is not None:
        metadata["customer_email"] = email
    if order_reference is not None:
        metadata["order_id"] = order_reference
    return {
        "id": _random_id(rng, "txn_"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": int((created + timedelta(days=2)).timestamp()),
        "created": int(created.timestamp()),
        "currency": currency.lower(),
        "description": f"Payment for order {order_reference}" if order_reference else "Payment",
        "fee": fee,
        "net": amount - fee,
        "reporting_category": kind,
        "source": _random_id(rng, "ch_" if kind == "charge" else "re_"),
        "status": "available",
        "type": kind,
        "metadata": metadata,
    }


def _bad_shopify_rows(currency: str, day: date) -> list[tuple[str, list[str], str]]:
    """(scenario, row, field) rows that must be quarantined, each with its own order name."""
    created = _shopify_time(datetime.combine(day, time(12), tzinfo=UTC))

    def row(name: str, total: str, row_currency: str) -> list[str]:
        values = [""] * len(SHOPIFY_COLUMNS)
        values[SHOPIFY_COLUMNS.index("Name")] = name
        values[SHOPIFY_COLUMNS.index("Financial Status")] = "paid"
        values[SHOPIFY_COLUMNS.index("Currency")] = row_currency
        values[SHOPIFY_COLUMNS.index("Total")] = total
        values[SHOPIFY_COLUMNS.index("Subtotal")] = "12.00"
        values[SHOPIFY_COLUMNS.index("Created at")] = created
        values[SHOPIFY_COLUMNS.index("Lineitem quantity")] = "1"
        values[SHOPIFY_COLUMNS.index("Lineitem name")] = "Gift card"
        return values

    return [
        ("malformed_row", [*row("#9901", "25.00", currency), "unexpected", "extra"], ""),
        ("wrong_type", row("#9902", "12,x0", currency), "Total"),
        ("unknown_currency", row("#9903", "30.00", "XYZ"), "Currency"),
    ]


def _write_shopify(path: Path, rows: list[list[str]], bad: list, truth: _Truth, profile: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHOPIFY_COLUMNS)
        writer.writerows(rows)
        line = len(rows) + 1
        for scenario, values, _field in bad:
            writer.writerow(values)
            line += 1
            truth.add("shopify_orders", values[0], "order", profile, scenario, "quarantined",
                      "invalid_input", file=path.name, row=line)  # fmt: skip


def _write_stripe(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "object": "list",
        "data": sorted(records, key=lambda r: (str(r["created"]), r["id"])),
        "has_more": False,
        "url": "/v1/balance_transactions",
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
