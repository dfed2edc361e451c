"""Deterministic demo data: the whole chain order -> charge -> payout -> bank credit, with known outcomes.

For every profile and day the generator writes a Shopify orders export (CSV, the export's own
columns, one row per line item), a Stripe balance-transaction list (the API's JSON list, each
transaction's source expanded: the charge carrying the order id, the refund and the dispute
naming their charge, the payout), the
Stripe itemized payout reconciliation report of each day's payouts (CSV), a PayPal activity
download (CSV) and the bank's camt.053 statement (XML). Stripe pays out each day the balance
transactions of two days before, one payout per currency; the bank credits a payout the next day,
with the payout id in the remittance text.

About one order in five is paid with PayPal: a PayPal payment carrying the order name as its
invoice number, a PayPal refund for a refund. Every evening PayPal sweeps its balance to the bank
with a withdrawal, which the bank credits the next day with the withdrawal's transaction id in the
remittance text (on the same statement as that day's Stripe payouts). A PayPal payment does not
say which withdrawal took it, so its part ends at its order; the withdrawal's leg to the bank is a
flow of its own.

Life's messiness is injected: missing and late charges, double charges, webhook duplicates,
amount and currency mismatches, status conflicts, full and partial refunds, partial captures,
disputes, charges found only by the customer's email and amount, look-alike orders of the same
amount and day, charges with no reference at all, orphan charges, orders and charges on either
side of midnight in the shop's time zone, bank credits with a mistyped payout id, payouts whose
bank credit never came, a bank debit no rule explains, and malformed rows; on the PayPal side, a
payment sent without the invoice number (found by the customer's email and amount), a payment
that never came, a payment of another amount, a withdrawal's bank credit with a mistyped id and
a row with an impossible date. Beside the files it
writes the ECB's euro reference rates (eurofxref-hist.csv) from ten days before the first day to
the last, a seeded random walk with weekends absent and one day without a USD rate, and
`ground_truth.csv`: for every record and role, the outcome a correct reconciliation
reaches as of the last day.
"""

import csv
import json
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster_project.lib.formats import (
    write_camt053,
    write_ecb_reference_rates,
    write_paypal_activity,
    write_stripe_payout_reconciliation,
)

# the orders export's header as Shopify writes it (Orders > Export > CSV), every column in its
# order; the demo fills the ones below and leaves the rest (addresses, taxes by name, ...) blank
SHOPIFY_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2", "Billing Company", "Billing City",
    "Billing Zip", "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes", "Cancelled at",
    "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee",
    "Location", "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount", "Tax 1 Name",
    "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value",
    "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name",
    "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
]  # fmt: skip
_SHOPIFY_FILLED = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency",
    "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Created at",
    "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku", "Billing Name",
    "Payment Method", "Payment Reference", "Refunded Amount", "Id", "Tags", "Source",
]  # fmt: skip


def shopify_export_row(values: dict[str, str]) -> list[str]:
    """One line of the orders export: the given columns' values, the others blank."""
    unknown = set(values) - set(SHOPIFY_COLUMNS)
    if unknown:
        raise ValueError(f"Not columns of the Shopify orders export: {', '.join(sorted(unknown))}")
    return [values.get(column, "") for column in SHOPIFY_COLUMNS]


GROUND_TRUTH_COLUMNS = [
    "source_name", "record_id", "entry_type", "copy", "profile_id", "side", "scenario",
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
    ("matched", 58), ("late_charge", 6), ("missing_charge", 4), ("amount_mismatch", 4),
    ("currency_mismatch", 3), ("refund", 5), ("partial_refund", 2), ("double_charge", 2),
    ("webhook_duplicate", 2), ("charge_found_by_email", 2), ("charge_without_references", 1),
    ("partial_capture", 3), ("status_conflict", 1), ("dispute", 1), ("across_midnight", 3),
    ("lookalike", 3), ("cross_currency", 3), ("split_payment", 2),
]  # fmt: skip
# every profile sees each kind of messiness at least once, on its first orders paid by card
FIRST_SCENARIOS = [name for name, _ in SCENARIOS if name != "matched"]
# the rules' windows (macros/rules): how long an expectation waits before it is missing
ORDER_WINDOW_DAYS = 3
REFUND_WINDOW_DAYS = 5
PAYOUT_WINDOW_DAYS = 7
BANK_WINDOW_DAYS = 5
PAYOUT_DELAY_DAYS = 2  # Stripe pays out a day's balance transactions two days later
MISSING_BANK_CREDIT_RATE = 0.05
MISTYPED_REFERENCE_RATE = 0.15
DISPUTE_FEE = 1500
STRIPE_CONVERSION_FEE = Decimal("0.02")  # Stripe's rate is the market's less 2%
TIMEZONES = {"acme_eu": "Europe/Berlin", "globex_us": "America/New_York"}  # seeds/profiles.csv
IBANS = {"acme_eu": "DE89370400440532013000", "globex_us": "US00GLOBEX0000000001"}

# the share of orders paid with PayPal, and (scenario, weight) for those; every profile sees
# each kind of PayPal messiness at least once, on its first PayPal orders
PAYPAL_SHARE = 0.2
PAYPAL_SCENARIOS = [
    ("paypal_matched", 80), ("paypal_found_by_email", 4), ("paypal_payment_missing", 4),
    ("paypal_amount_mismatch", 4), ("paypal_refund", 6), ("paypal_partial_refund", 2),
]  # fmt: skip
PAYPAL_FIRST_SCENARIOS = ["paypal_found_by_email", "paypal_payment_missing", "paypal_amount_mismatch"]
PAYPAL_METHOD = "PayPal Express Checkout"  # the Shopify export's Payment Method
PAYPAL_ACCOUNTS = {"acme_eu": "paypal@acme-shop.example", "globex_us": "paypal@globex-store.example"}
PAYPAL_BANK_NAMES = {"EUR": "PAYPAL EUROPE S.A R.L. ET CIE S.C.A", "USD": "PAYPAL INC"}
PAYPAL_SWEEP_TIME = time(23)  # PayPal withdraws the day's balance at 23:00 in the shop's time zone
# the date order of each profile's PayPal downloads, its account's locale: the German shop's are
# dotted and day first, so that the reader must find the order from the file (the US one's are
# declared month first in the source config: its early-month days cannot tell)
PAYPAL_DATE_FORMATS = {"acme_eu": "%d.%m.%Y", "globex_us": "%m/%d/%Y"}
PAYPAL_ID_ALPHABET = string.ascii_uppercase + string.digits
WITHDRAWAL_WINDOW_DAYS = 5

# ECB reference rates: units per euro on the day before the rates begin, and their decimals as
# published; each business day moves every rate by at most 0.3%
REFERENCE_RATES_START = {
    "USD": Decimal("1.0800"), "JPY": Decimal("162.00"), "GBP": Decimal("0.8500"), "CHF": Decimal("0.9400"),
    "SEK": Decimal("11.4500"), "DKK": Decimal("7.4600"), "PLN": Decimal("4.3000"),
}  # fmt: skip
REFERENCE_RATE_DECIMALS = {"JPY": 2}  # the others have 4
REFERENCE_RATES_LEAD_DAYS = 10  # rates begin this many days before the demo's first day
REFERENCE_RATE_GAP_CURRENCY = "USD"  # has no rate on one business day of the demo
# as the warehouse's int_fx_rates_daily: a rate serves at most this many days after it was published
REFERENCE_RATE_MAX_AGE_DAYS = 31


@dataclass
class DemoDataset:
    root: Path
    first_day: date
    last_day: date
    files: list[tuple[str, str, Path]] = field(default_factory=list)  # (source, profile, path)
    orders: int = 0
    balance_transactions: int = 0
    payouts: int = 0
    bank_entries: int = 0
    paypal_rows: int = 0
    # units of each currency per euro, by the day the ECB published them (see reference_rate)
    reference_rates: dict[date, dict[str, Decimal]] = field(default_factory=dict)
    ground_truth: Path | None = None


class _Truth:
    """The ground truth, written row by row as the generator learns it (a large demo's truth
    does not fit in memory)."""

    def __init__(self, handle) -> None:
        self.writer = csv.writer(handle)
        self.writer.writerow(GROUND_TRUTH_COLUMNS)

    def add(self, source: str, record_id: str, entry_type: str, profile: str, scenario: str,
            status: str, category: str = "", counterpart: str = "", copy: int = 1,
            file: str = "", row: int | str = "", side: str = "") -> None:  # fmt: skip
        """One record in one role: `side` is source (it expects a counterpart), target (a rule
        looks for it) or none; by default a Shopify record is a source, a copy or a quarantined
        row none, anything else a target."""
        if not side:
            side = (
                "none" if copy != 1 or status == "quarantined"
                else "source" if source == "shopify_orders" else "target"
            )  # fmt: skip
        # in the order of GROUND_TRUTH_COLUMNS
        self.writer.writerow(
            [source, record_id, entry_type, copy, profile, side, scenario, status, category, counterpart, file, row]
        )


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _shopify_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000")


def _random_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    return prefix + "".join(rng.choices(string.ascii_letters + string.digits, k=length))


def _fee(amount_minor: int) -> int:
    return round(amount_minor * 29 / 1000) + 30


def _paypal_fee(amount_minor: int) -> int:
    return round(amount_minor * 349 / 10000) + 49


def _paypal_id(rng: random.Random) -> str:
    """A PayPal transaction id: 17 upper-case letters and digits."""
    return "".join(rng.choices(PAYPAL_ID_ALPHABET, k=17))


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
    # rates are the same for every profile, so the file lands once, for the first
    dataset.reference_rates = _reference_rates(seed, first_day, last_day)
    rates_profile = next(iter(PROFILES))
    rates_path = out_dir / "ecb_reference_rates" / rates_profile / "eurofxref-hist.csv"
    write_ecb_reference_rates(rates_path, dataset.reference_rates)
    dataset.files.append(("ecb_reference_rates", rates_profile, rates_path))
    ground_truth = out_dir / "ground_truth.csv"
    ground_truth.parent.mkdir(parents=True, exist_ok=True)
    truth_file = open(ground_truth, "w", newline="")
    truth = _Truth(truth_file)
    names, weights = zip(*SCENARIOS, strict=True)
    paypal_names, paypal_weights = zip(*PAYPAL_SCENARIOS, strict=True)

    def outcome_if_unmatched(business_day: date, window: int) -> tuple[str, str]:
        aged = (last_day - business_day).days > window
        return ("exception", "missing_counterpart") if aged else ("open", "")

    for profile, currency in PROFILES.items():
        zone = ZoneInfo(TIMEZONES[profile])
        # Each day's files are written as soon as nothing later adds to them, so that a large
        # demo holds a few days in memory, not the whole run: the rows of the day's orders, the
        # balance transactions (by day created, UTC) not written yet, those not paid out yet,
        # and the PayPal rows not written (or swept to the bank) yet
        order_rows: list[list[str]] = []
        transactions: dict[date, list[dict]] = {}
        in_payouts: dict[date, list[dict]] = {}
        # the files in the order they land: payout reports, statements, then each day's exports
        report_files: list[tuple[str, str, Path]] = []
        day_files: list[tuple[str, str, Path]] = []
        order_number = 1000
        shopify_id = 5_100_000_000 + (0 if profile == "acme_eu" else 900_000_000)

        def local_day(moment: datetime) -> date:
            return moment.astimezone(zone).date()  # noqa: B023 - the profile's zone

        def add_order(day: date, created: datetime, total_items: list, status: str, refunded: int,
                      customer: str | None = None, payment_method: str = "Stripe",
                      order_currency: str | None = None,
                      payment_reference: str = "") -> tuple[str, int, str]:  # fmt: skip
            """Write one order's export rows (in the shop's currency unless the customer paid in
            another); return its name, total and the customer's email."""
            nonlocal order_number, shopify_id
            order_number += 1
            shopify_id += rng.randint(1, 9)
            name = f"#{order_number}"
            customer = customer or f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            # one address per order, so that the email fallback of the rule is never ambiguous
            email = customer.lower().replace(" ", ".") + f".{shopify_id % 10**8}@example.com"
            quantities = [qty for _, qty in total_items]
            items = [item for item, _ in total_items]
            subtotal, shipping = _order_amounts(total_items)
            total = subtotal + shipping
            for index, ((product, price), qty) in enumerate(zip(items, quantities, strict=True)):
                first = index == 0
                filled = [
                        name, email if first else "", status if first else "",
                        _shopify_time(created) if first else "", "fulfilled" if first else "",
                        (order_currency or currency) if first else "",  # noqa: B023
                        _money(subtotal) if first else "",
                        _money(shipping) if first else "", _money(round(subtotal * 0.2)) if first else "",
                        _money(total) if first else "", "", "0.00" if first else "",
                        _shopify_time(created) if first else "", str(qty), product, _money(price),
                        product.upper().replace(" ", "-"), customer if first else "",
                        payment_method if first else "", payment_reference if first else "",
                        _money(refunded) if first else "",
                        str(shopify_id) if first else "", "", "web" if first else "",
                ]  # fmt: skip
                order_rows.append(shopify_export_row(dict(zip(_SHOPIFY_FILLED, filled, strict=True))))  # noqa: B023
            dataset.orders += 1
            return name, total, email

        def random_items() -> list:
            chosen = rng.sample(PRODUCTS, rng.randint(1, 3))
            return [(item, rng.randint(1, 3)) for item in chosen]

        def charge(kind: str, amount: int, charge_currency: str, created: datetime, reference: str | None,
                   email: str | None, source_id: str | None = None, **source_details) -> dict:  # fmt: skip
            record = _balance_transaction(rng, kind, amount, charge_currency, created, reference, email, source_id,
                                          **source_details)  # fmt: skip
            transactions.setdefault(created.date(), []).append(record)  # noqa: B023 - the profile's
            in_payouts.setdefault(created.date(), []).append(record)  # noqa: B023
            return record

        def key(record: dict) -> str:
            return f"stripe_balance_transactions:{record['id']}"

        paypal_rows: list[dict] = []  # the rows of the profile's PayPal activity downloads not written yet
        unswept: list[dict] = []  # the payments and refunds no withdrawal has taken yet
        paypal_first_scenarios = list(PAYPAL_FIRST_SCENARIOS)

        def paypal_row(kind: str, moment: datetime, gross: int, fee: int, *, name: str, payer: str,
                       payee: str, invoice: str | None = None, reference: str | None = None) -> dict:  # fmt: skip
            """One completed row of the activity download, in the shop's time zone; fees are negative."""
            row = {
                "at": moment.astimezone(zone), "Name": name, "Type": kind, "Status": "Completed",  # noqa: B023
                "Currency": currency, "Gross": gross, "Fee": fee, "From Email Address": payer,  # noqa: B023
                "To Email Address": payee, "Transaction ID": _paypal_id(rng), "Reference Txn ID": reference,
                "Invoice Number": invoice,
            }  # fmt: skip
            paypal_rows.append(row)  # noqa: B023 - the profile's rows
            if kind != "General Withdrawal":
                unswept.append(row)  # noqa: B023
            return row

        def paypal_key(row: dict) -> str:
            return f"paypal_activity:{row['Transaction ID']}"

        def paypal_order(day: date, is_last_day: bool) -> None:
            """An order paid with PayPal, its payment and any refund, with their ground truth."""
            shop = profile  # noqa: B023 - the profile's
            if paypal_first_scenarios:  # noqa: B023
                scenario = paypal_first_scenarios.pop(0)  # noqa: B023
            else:
                scenario = rng.choices(paypal_names, paypal_weights)[0]
            if scenario in ("paypal_refund", "paypal_partial_refund") and is_last_day:
                scenario = "paypal_matched"
            created = datetime.combine(day, time(8), tzinfo=UTC) + timedelta(seconds=rng.randint(0, 12 * 3600))
            items = random_items()
            total = sum(_order_amounts(items))
            refunded = {
                "paypal_refund": total,
                "paypal_partial_refund": rng.randint(1, total // 100) * 100 // 2 or 100,
            }.get(scenario, 0)
            status = {0: "paid"}.get(refunded, "refunded" if refunded == total else "partially_refunded")
            customer = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            name, total, email = add_order(day, created, items, status, refunded, customer, PAYPAL_METHOD)
            order_key = f"shopify_orders:{name}"
            if scenario == "paypal_payment_missing":
                truth.add("shopify_orders", name, "order", shop, scenario,
                          *outcome_if_unmatched(local_day(created), ORDER_WINDOW_DAYS))  # fmt: skip
                return
            amount = total
            if scenario == "paypal_amount_mismatch":
                amount = total + rng.choice([-1, 1]) * rng.randint(1, 500)
            # PayPal carries the order name as the invoice number, sometimes without its '#'
            invoice = name if rng.random() < 0.8 else name.lstrip("#")
            payment = paypal_row(
                "Express Checkout Payment", created + timedelta(minutes=rng.randint(1, 30)), amount,
                -_paypal_fee(amount), name=customer, payer=email, payee=PAYPAL_ACCOUNTS[shop],
                invoice=None if scenario == "paypal_found_by_email" else invoice,
            )  # fmt: skip
            if scenario == "paypal_amount_mismatch":
                category = "amount_over" if amount > total else "amount_under"
                truth.add("shopify_orders", name, "order", shop, scenario, "exception", category,
                          paypal_key(payment))  # fmt: skip
                truth.add("paypal_activity", payment["Transaction ID"], "payment", shop, scenario, "exception",
                          category, order_key, side="target")  # fmt: skip
                return
            truth.add("shopify_orders", name, "order", shop, scenario, "matched",
                      counterpart=paypal_key(payment))  # fmt: skip
            truth.add("paypal_activity", payment["Transaction ID"], "payment", shop, scenario, "matched",
                      counterpart=order_key, side="target")  # fmt: skip
            if refunded:
                refund = paypal_row(
                    "Payment Refund", datetime.combine(day + timedelta(days=1), time(9), tzinfo=UTC), -refunded, 0,
                    name=customer, payer=PAYPAL_ACCOUNTS[shop], payee=email, invoice=invoice,
                    reference=payment["Transaction ID"],
                )  # fmt: skip
                truth.add("shopify_orders", name, "refund", shop, scenario, "matched",
                          counterpart=paypal_key(refund))  # fmt: skip
                truth.add("paypal_activity", refund["Transaction ID"], "refund", shop, scenario, "matched",
                          counterpart=order_key, side="target")  # fmt: skip

        # Stripe pays out, per currency, the balance transactions of two days before; the bank
        # credits each payout the next day
        statements: dict[tuple[str, date], list[dict]] = {}

        def credit_bank(transfer: str, entry_type: str, amount: int, transfer_currency: str, day: date,
                        bank_ref: str, debtor: str, remittance: str, scenario: str) -> None:  # fmt: skip
            """The bank credits a processor's transfer (`source:record id`) on `day` under its own
            reference `bank_ref`; both are matched."""
            credit = {
                "amount_minor": amount, "credit_debit": "CRDT", "booking_date": day, "value_date": day,
                "account_servicer_ref": bank_ref, "end_to_end_id": "NOTPROVIDED",
                "debtor_name": debtor, "remittance": remittance,
            }  # fmt: skip
            statements.setdefault((transfer_currency, day), []).append(credit)  # noqa: B023 - the profile's
            source, record_id = transfer.split(":", 1)
            truth.add(source, record_id, entry_type, profile, scenario, "matched",  # noqa: B023
                      counterpart=f"camt053:{credit['account_servicer_ref']}", side="source")  # fmt: skip
            truth.add("camt053", credit["account_servicer_ref"], "bank_credit", profile, scenario,  # noqa: B023
                      "matched", counterpart=transfer, side="target")  # fmt: skip

        credited = 0

        def pay_out(payout_day: date) -> None:
            """Stripe's payouts of `payout_day`: the balance transactions created two days before
            (all known by then), one payout per currency, and their bank credits."""
            nonlocal credited
            members_by_currency: dict[str, list[dict]] = {}
            for record in in_payouts.pop(payout_day - timedelta(PAYOUT_DELAY_DAYS), []):  # noqa: B023
                members_by_currency.setdefault(record["currency"].upper(), []).append(record)
            report_rows: list[dict] = []
            for payout_currency, members in sorted(members_by_currency.items()):
                paid_out = sum(record["net"] for record in members)
                payout_id = _random_id(rng, "po_")
                payout_time = datetime.combine(payout_day, time(12), tzinfo=UTC)
                payout = _balance_transaction(rng, "payout", -paid_out, payout_currency, payout_time, None, None,
                                              payout_id)  # fmt: skip
                transactions.setdefault(payout_day, []).append(payout)  # noqa: B023
                dataset.payouts += 1
                members.sort(key=lambda record: (record["created"], record["id"]))
                truth.add("stripe_balance_transactions", payout["id"], "payout", profile, "payout", "matched",  # noqa: B023
                          counterpart=key(members[0]), side="target")  # fmt: skip
                for record in members:
                    truth.add("stripe_balance_transactions", record["id"], record["type"], profile, "paid_out",  # noqa: B023
                              "matched", counterpart=key(payout), side="source")  # fmt: skip
                    report_rows.append(_report_row(record, payout_id, payout_day + timedelta(days=1)))
                bank_day = payout_day + timedelta(days=1)
                # every profile's first payout the bank credits carries a mistyped id, and its
                # second one never arrives; the rest by chance
                credited += bank_day <= last_day
                if bank_day > last_day or credited == 2 or rng.random() < MISSING_BANK_CREDIT_RATE:
                    truth.add("stripe_balance_transactions", payout["id"], "payout", profile,  # noqa: B023
                              "missing_bank_credit" if bank_day <= last_day else "payout",
                              *outcome_if_unmatched(payout_day, BANK_WINDOW_DAYS), side="source")  # fmt: skip
                    continue
                mistyped = credited == 1 or rng.random() < MISTYPED_REFERENCE_RATE
                bank_ref = _random_id(rng, "BKR", 16).upper()
                reference = _mistype(rng, payout_id) if mistyped else payout_id
                credit_bank(key(payout), "payout", paid_out, payout_currency, bank_day, bank_ref,
                            "STRIPE PAYMENTS EUROPE LTD", f"STRIPE PAYOUT {reference}",
                            "mistyped_reference" if mistyped else "credited")  # fmt: skip
            if report_rows:
                report_path = out_dir / "stripe_payout_reconciliation" / profile / f"payouts_{payout_day}.csv"  # noqa: B023
                write_stripe_payout_reconciliation(report_path, report_rows)
                report_files.append(("stripe_payout_reconciliation", profile, report_path))  # noqa: B023

        # PayPal withdraws its balance to the bank every evening; the bank credits the withdrawal
        # the next day with its transaction id in the remittance text
        balance = 0
        # the balance PayPal shows after each row of its downloads: every row written moves it,
        # the one with an impossible date too (its money is real, only its date is unreadable)
        shown_balance = 0

        def sweep(sweep_day: date) -> None:
            """PayPal's withdrawal at 23:00 of `sweep_day` in the shop's time zone (every payment
            and refund before it is known by the end of the day's orders)."""
            nonlocal balance, unswept
            sweep_at = datetime.combine(sweep_day, PAYPAL_SWEEP_TIME, tzinfo=zone)  # noqa: B023
            due = [row for row in unswept if row["at"] < sweep_at]
            unswept = [row for row in unswept if row["at"] >= sweep_at]
            balance += sum(row["Gross"] + row["Fee"] for row in due)
            if balance <= 0:
                return
            withdrawal = paypal_row("General Withdrawal", sweep_at, -balance, 0, name="",
                                    payer=PAYPAL_ACCOUNTS[profile], payee="")  # fmt: skip  # noqa: B023
            withdrawal_id, withdrawn, balance = withdrawal["Transaction ID"], balance, 0
            bank_day = sweep_day + timedelta(days=1)
            if bank_day > last_day:
                truth.add("paypal_activity", withdrawal_id, "withdrawal", profile, "paypal_withdrawal",  # noqa: B023
                          *outcome_if_unmatched(sweep_day, WITHDRAWAL_WINDOW_DAYS), side="source")  # fmt: skip
                return
            mistyped = rng.random() < MISTYPED_REFERENCE_RATE
            reference = _mistype(rng, withdrawal_id, PAYPAL_ID_ALPHABET, start=0) if mistyped else withdrawal_id
            credit_bank(f"paypal_activity:{withdrawal_id}", "withdrawal", withdrawn, currency, bank_day,  # noqa: B023
                        _random_id(rng, "BKR", 16).upper(), PAYPAL_BANK_NAMES.get(currency, "PAYPAL"),  # noqa: B023
                        f"PAYPAL TRANSFER {reference}",
                        "paypal_mistyped_reference" if mistyped else "paypal_withdrawal")  # fmt: skip

        def write_day(day: date) -> None:
            """The day's Shopify export, Stripe balance transactions (UTC day) and PayPal
            download (the shop's day): nothing later adds to them."""
            nonlocal paypal_rows, shown_balance
            shopify_path = out_dir / "shopify_orders" / profile / f"orders_export_{day}.csv"  # noqa: B023
            bad = _bad_shopify_rows(currency, day) if bad_rows and day == first_day else []  # noqa: B023
            _write_shopify(shopify_path, order_rows, bad, truth, profile)  # noqa: B023
            order_rows.clear()  # noqa: B023
            day_files.append(("shopify_orders", profile, shopify_path))  # noqa: B023
            stripe_path = out_dir / "stripe_balance_transactions" / profile / f"balance_transactions_{day}.json"  # noqa: B023
            records = transactions.pop(day, [])  # noqa: B023
            if bad_rows and day == first_day:
                broken = _balance_transaction(
                    rng, "charge", 1000, currency, datetime.combine(day, time(22), tzinfo=UTC),  # noqa: B023
                    "#99999", "broken@example.com",
                )  # fmt: skip
                broken["amount"] = "ten euros"
                records = [*records, broken]
            records = sorted(records, key=lambda r: (str(r["created"]), r["id"]))
            for row, record in enumerate(records, start=1):
                if record["amount"] == "ten euros":
                    truth.add("stripe_balance_transactions", record["id"], "charge", profile,  # noqa: B023
                              "invalid_amount", "quarantined", "invalid_input",
                              file=stripe_path.name, row=row)  # fmt: skip
            _write_stripe(stripe_path, records)
            dataset.balance_transactions += len(records)
            day_files.append(("stripe_balance_transactions", profile, stripe_path))  # noqa: B023
            paypal_path = out_dir / "paypal_activity" / profile / f"activity_{day}.csv"  # noqa: B023
            rows = sorted((r for r in paypal_rows if r["at"].date() == day), key=lambda r: r["at"])
            paypal_rows = [r for r in paypal_rows if r["at"].date() != day]
            date_format = PAYPAL_DATE_FORMATS[profile]  # noqa: B023
            if bad_rows and day == first_day:
                # a payment dated a day the calendar does not have, in the account's date order
                impossible = date_format.replace("%d", "30").replace("%m", "02").replace("%Y", f"{day:%Y}")
                broken = {
                    "at": datetime.combine(day, time(22), tzinfo=UTC).astimezone(zone), "Date": impossible,  # noqa: B023
                    "Name": "Broken Row", "Type": "Express Checkout Payment", "Status": "Completed",
                    "Currency": currency, "Gross": 1000, "Fee": -_paypal_fee(1000),  # noqa: B023
                    "From Email Address": "broken@example.com", "To Email Address": PAYPAL_ACCOUNTS[profile],  # noqa: B023
                    "Transaction ID": _paypal_id(rng), "Invoice Number": "#99998",
                }  # fmt: skip
                rows.append(broken)
                truth.add("paypal_activity", broken["Transaction ID"], "payment", profile, "invalid_date",  # noqa: B023
                          "quarantined", "invalid_input", file=paypal_path.name, row=len(rows) + 1)  # fmt: skip
            for row in rows:
                shown_balance += row["Gross"] + row["Fee"]
                row["Balance"] = shown_balance
            write_paypal_activity(paypal_path, rows, date_format=date_format)
            dataset.paypal_rows += len(rows)
            day_files.append(("paypal_activity", profile, paypal_path))  # noqa: B023

        first_scenarios = list(FIRST_SCENARIOS)
        for day in _days(first_day, days):
            is_last_day = day == last_day
            for _ in range(orders_per_day):
                if rng.random() < PAYPAL_SHARE:
                    paypal_order(day, is_last_day)
                    continue
                scenario = rng.choices(names, weights)[0]
                if first_scenarios and (last_day - day).days >= 2:
                    scenario = first_scenarios.pop(0)
                if scenario in ("late_charge", "refund", "partial_refund", "across_midnight") and is_last_day:
                    scenario = "matched"
                if scenario == "dispute" and (last_day - day).days < 2:
                    scenario = "matched"
                created = datetime.combine(day, time(8), tzinfo=UTC) + timedelta(seconds=rng.randint(0, 12 * 3600))
                if scenario == "across_midnight":
                    # ordered ten minutes before midnight in the shop's time zone, paid just after
                    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
                    created = midnight - timedelta(minutes=10)
                items = random_items()
                if scenario == "split_payment":
                    # one checkout split into two orders (shipped apart), paid by one charge: both
                    # orders name the charge as their payment reference
                    charge_id = _random_id(rng, "ch_")
                    first, first_total, first_email = add_order(day, created, items, "paid", 0,
                                                                payment_reference=charge_id)  # fmt: skip
                    second, second_total, _ = add_order(day, created + timedelta(minutes=1), random_items(), "paid", 0,
                                                        payment_reference=charge_id)  # fmt: skip
                    paid = charge("charge", first_total + second_total, currency, created + timedelta(minutes=4),
                                  first, first_email, charge_id)  # fmt: skip
                    for order in (first, second):
                        truth.add("shopify_orders", order, "order", profile, scenario, "matched",
                                  counterpart=key(paid))  # fmt: skip
                    truth.add("stripe_balance_transactions", paid["id"], "charge", profile, scenario, "matched",
                              counterpart=f"shopify_orders:{first}")  # fmt: skip
                    continue
                total = sum(_order_amounts(items))
                refunded = 0
                if scenario == "refund":
                    refunded = total
                elif scenario == "partial_refund":
                    refunded = rng.randint(1, total // 100) * 100 // 2 or 100
                status = {0: "paid"}.get(refunded, "refunded" if refunded == total else "partially_refunded")
                if scenario == "status_conflict":
                    status = "pending"  # Shopify never heard that the payment went through
                # a customer abroad pays in their own currency; Stripe converts it into the shop's
                order_currency = OTHER_CURRENCY[currency] if scenario == "cross_currency" else currency
                name, total, email = add_order(day, created, items, status, refunded, order_currency=order_currency)
                order_key = f"shopify_orders:{name}"
                order_day = local_day(created)

                charge_time = created + timedelta(minutes=rng.randint(1, 30))
                if scenario == "late_charge":
                    charge_time = datetime.combine(day + timedelta(days=1), time(6), tzinfo=UTC)
                if scenario == "across_midnight":
                    charge_time = created + timedelta(minutes=25)
                reference = name if rng.random() < 0.8 else name.lstrip("#")
                charge_currency = OTHER_CURRENCY[currency] if scenario == "currency_mismatch" else currency
                charge_amount = total
                exchange_rate = None
                if scenario == "cross_currency":
                    # at the reference rate of the order's day, less Stripe's conversion fee
                    market_rate = reference_rate(dataset.reference_rates, order_day, currency) / reference_rate(
                        dataset.reference_rates, order_day, order_currency
                    )
                    exchange_rate = (market_rate * (1 - STRIPE_CONVERSION_FEE)).quantize(Decimal("0.000001"))
                    charge_amount = int((total * exchange_rate).to_integral_value(ROUND_HALF_EVEN))
                if scenario == "amount_mismatch":
                    charge_amount = total + rng.choice([-1, 1]) * rng.randint(1, 500)

                if scenario == "missing_charge":
                    truth.add("shopify_orders", name, "order", profile, scenario,
                              *outcome_if_unmatched(order_day, ORDER_WINDOW_DAYS))  # fmt: skip
                    continue

                if scenario == "lookalike":
                    # another customer's order of the same amount, the same day, paid normally
                    twin_created = created + timedelta(minutes=rng.randint(1, 90))
                    twin, twin_total, twin_email = add_order(day, twin_created, items, "paid", 0)
                    twin_charge = charge("charge", twin_total, currency, twin_created + timedelta(minutes=3),
                                         twin, twin_email)  # fmt: skip
                    truth.add("shopify_orders", twin, "order", profile, scenario, "matched",
                              counterpart=key(twin_charge))  # fmt: skip
                    truth.add("stripe_balance_transactions", twin_charge["id"], "charge", profile, scenario,
                              "matched", counterpart=f"shopify_orders:{twin}")  # fmt: skip
                    # and a stranger's charge of that amount with no order id: no order is its
                    stranger_time = created + timedelta(minutes=45)
                    stranger = charge("charge", total, currency, stranger_time, None,
                                      f"stranger.{order_number}@example.com")  # fmt: skip
                    truth.add("stripe_balance_transactions", stranger["id"], "charge", profile, scenario,
                              *outcome_if_unmatched(local_day(stranger_time), ORDER_WINDOW_DAYS))  # fmt: skip

                if scenario == "partial_capture":
                    # the charge is captured in two parts: two balance transactions of one charge
                    first_part = total // 2
                    source_id = _random_id(rng, "ch_")
                    captures = [
                        charge("charge", first_part, currency, charge_time, reference, email, source_id),
                        charge("charge", total - first_part, currency, charge_time + timedelta(minutes=5),
                               reference, email, source_id),
                    ]  # fmt: skip
                    truth.add("shopify_orders", name, "order", profile, scenario, "matched",
                              counterpart=key(captures[0]))  # fmt: skip
                    for capture in captures:
                        truth.add("stripe_balance_transactions", capture["id"], "charge", profile, scenario,
                                  "matched", counterpart=order_key)  # fmt: skip
                    continue

                lost_reference = scenario in ("charge_found_by_email", "charge_without_references", "lookalike")
                paid = charge(
                    "charge", charge_amount, charge_currency, charge_time,
                    None if lost_reference else reference,
                    None if scenario == "charge_without_references" else email,
                    presentment=None if exchange_rate is None else (total, order_currency),
                )  # fmt: skip
                if exchange_rate is not None:
                    paid["exchange_rate"] = float(exchange_rate)
                charge_key = key(paid)

                if scenario == "charge_without_references":
                    truth.add("shopify_orders", name, "order", profile, scenario,
                              *outcome_if_unmatched(order_day, ORDER_WINDOW_DAYS))  # fmt: skip
                    truth.add("stripe_balance_transactions", paid["id"], "charge", profile,
                              scenario, "exception", "missing_identifier")  # fmt: skip
                    continue
                if scenario in ("amount_mismatch", "currency_mismatch", "status_conflict"):
                    category = (
                        "currency_mismatch" if scenario == "currency_mismatch"
                        else "status_conflict" if scenario == "status_conflict"
                        else "amount_over" if charge_amount > total else "amount_under"
                    )  # fmt: skip
                    truth.add("shopify_orders", name, "order", profile, scenario, "exception",
                              category, charge_key)  # fmt: skip
                    truth.add("stripe_balance_transactions", paid["id"], "charge", profile,
                              scenario, "exception", category, order_key)  # fmt: skip
                    continue

                truth.add("shopify_orders", name, "order", profile, scenario, "matched",
                          counterpart=charge_key)  # fmt: skip
                truth.add("stripe_balance_transactions", paid["id"], "charge", profile,
                          scenario, "matched", counterpart=order_key)  # fmt: skip

                if scenario == "double_charge":
                    second = charge("charge", total, currency, charge_time + timedelta(minutes=2), reference, email)
                    truth.add("stripe_balance_transactions", second["id"], "charge", profile,
                              scenario, "exception", "duplicate_entry", charge_key)  # fmt: skip
                if scenario == "webhook_duplicate":
                    transactions[charge_time.date()].append(dict(paid))
                    truth.add("stripe_balance_transactions", paid["id"], "charge", profile,
                              scenario, "deduplicated", "", charge_key, copy=2)  # fmt: skip
                if scenario == "dispute":
                    # the customer disputes the charge two days later: Stripe takes it back, with a fee
                    disputed_at = datetime.combine(day + timedelta(days=2), time(9), tzinfo=UTC)
                    charge("adjustment", -total, currency, disputed_at, reference, email, charge_id=paid["source"])
                if refunded:
                    # a refund names its charge, not the order: it is found through the charge
                    refund = charge("refund", -refunded, currency,
                                    datetime.combine(day + timedelta(days=1), time(9), tzinfo=UTC),
                                    reference, email, charge_id=paid["source"])  # fmt: skip
                    truth.add("shopify_orders", name, "refund", profile, scenario, "matched",
                              counterpart=key(refund))  # fmt: skip
                    truth.add("stripe_balance_transactions", refund["id"], "refund", profile,
                              scenario, "matched", counterpart=f"{order_key}")  # fmt: skip

            # a charge for an order this shop never exported
            orphan = charge("charge", rng.randint(1000, 20000), currency, datetime.combine(day, time(21), tzinfo=UTC),
                            f"#X{day:%Y%m%d}", "orphan@example.com")  # fmt: skip
            truth.add("stripe_balance_transactions", orphan["id"], "charge", profile, "orphan_charge",
                      *outcome_if_unmatched(local_day(datetime.combine(day, time(21), tzinfo=UTC)),
                                            ORDER_WINDOW_DAYS))  # fmt: skip
            # by the end of a day's orders, everything created that day (UTC) is known: Stripe
            # pays it out two days later; PayPal sweeps the day; the day's files are complete
            if day + timedelta(PAYOUT_DELAY_DAYS) <= last_day:
                pay_out(day + timedelta(PAYOUT_DELAY_DAYS))
            sweep(day)
            write_day(day)

        # the balance transactions no payout has taken yet wait for one
        for records in in_payouts.values():
            for record in records:
                created = datetime.fromtimestamp(record["created"], UTC)
                truth.add("stripe_balance_transactions", record["id"], record["type"], profile, "not_paid_out_yet",
                          *outcome_if_unmatched(local_day(created), PAYOUT_WINDOW_DAYS), side="source")  # fmt: skip
        if transactions or paypal_rows:
            raise AssertionError(f"records dated after {last_day} were generated and not written")

        # a bank fee no rule explains
        if statements:
            first_statement = min(statements)
            fee = {
                "amount_minor": 1500, "credit_debit": "DBIT", "booking_date": first_statement[1],
                "value_date": first_statement[1], "account_servicer_ref": _random_id(rng, "BKF", 16).upper(),
                "end_to_end_id": "NOTPROVIDED", "debtor_name": "", "remittance": "ACCOUNT MAINTENANCE FEE",
            }  # fmt: skip
            statements[first_statement].append(fee)
            truth.add("camt053", fee["account_servicer_ref"], "bank_debit", profile, "unexplained_bank_debit",
                      "exception", "no_rule_found", side="none")  # fmt: skip
        balances: dict[str, int] = {}
        statement_files: list[tuple[str, str, Path]] = []
        for (statement_currency, booking_day), entries in sorted(statements.items()):
            opening = balances.get(statement_currency, 1_000_000)
            path = out_dir / "camt053" / profile / f"statement_{statement_currency}_{booking_day}.xml"
            write_camt053(
                path, statement_id=f"STMT-{profile}-{statement_currency}-{booking_day:%Y%m%d}",
                iban=IBANS[profile], currency=statement_currency, opening_balance_minor=opening,
                entries=entries, created_at=datetime.combine(booking_day, time(23), tzinfo=UTC),
            )  # fmt: skip
            balances[statement_currency] = opening + sum(
                e["amount_minor"] if e["credit_debit"] == "CRDT" else -e["amount_minor"] for e in entries
            )
            dataset.bank_entries += len(entries)
            statement_files.append(("camt053", profile, path))
        dataset.files.extend([*report_files, *statement_files, *day_files])

    truth_file.close()
    dataset.ground_truth = ground_truth
    return dataset


def _days(first_day: date, days: int) -> list[date]:
    return [first_day + timedelta(days=offset) for offset in range(days)]


def _reference_rates(seed: int, first_day: date, last_day: date) -> dict[date, dict[str, Decimal]]:
    """The ECB's rates from REFERENCE_RATES_LEAD_DAYS before ``first_day`` to ``last_day``: a
    random walk on business days (none on weekends) with its own generator, so the other demo
    files do not change with it; REFERENCE_RATE_GAP_CURRENCY has no rate (N/A) on the demo's
    second business day (its first, if it has only one)."""
    rng = random.Random(f"{seed}:ecb_reference_rates")
    start = first_day - timedelta(days=REFERENCE_RATES_LEAD_DAYS)
    business_days = [d for d in _days(start, (last_day - start).days + 1) if d.weekday() < 5]
    in_demo = [d for d in business_days if d >= first_day]
    gap_day = (in_demo[1:2] or in_demo[:1] or business_days[-1:])[0]
    levels = dict(REFERENCE_RATES_START)
    rates: dict[date, dict[str, Decimal]] = {}
    for day in business_days:
        published: dict[str, Decimal] = {}
        for currency, level in levels.items():
            places = Decimal(1).scaleb(-REFERENCE_RATE_DECIMALS.get(currency, 4))
            levels[currency] = (level * (1 + Decimal(rng.randint(-30, 30)).scaleb(-4))).quantize(places)
            if not (day == gap_day and currency == REFERENCE_RATE_GAP_CURRENCY):
                published[currency] = levels[currency]
        rates[day] = published
    return rates


def reference_rate(rates: dict[date, dict[str, Decimal]], day: date, currency: str) -> Decimal:
    """Units of ``currency`` per euro on ``day``: the last rate published on or before it, as the
    warehouse's int_fx_rates_daily finds it (EUR is 1)."""
    currency = currency.upper()
    if currency == "EUR":
        return Decimal(1)
    for published_on in sorted((d for d in rates if d <= day), reverse=True):
        if (day - published_on).days > REFERENCE_RATE_MAX_AGE_DAYS:
            break
        if currency in rates[published_on]:
            return rates[published_on][currency]
    raise LookupError(f"No {currency} reference rate published in the {REFERENCE_RATE_MAX_AGE_DAYS} days up to {day}")


def _balance_transaction(
    rng: random.Random, kind: str, amount: int, currency: str, created: datetime,
    order_reference: str | None, email: str | None, source_id: str | None = None, *,
    charge_id: str | None = None, presentment: tuple[int, str] | None = None,
) -> dict:  # fmt: skip
    """A balance transaction: a charge (with its fee), refund, dispute (adjustment) or payout, in
    the shape GET /v1/balance_transactions lists it. A balance transaction has no metadata: the
    object it is about (its `source`) is kept beside it, under `_source_object`, for the file
    writer to expand in its place as `expand[]=data.source` does. The order id is the charge's
    metadata and the e-mail its billing details; a refund or a dispute names its charge
    (``charge_id``); a converted charge was made in the customer's currency (``presentment``)."""
    fee = {"charge": _fee(amount), "adjustment": DISPUTE_FEE}.get(kind, 0)
    description = {
        "payout": "STRIPE PAYOUT",
        "adjustment": "Chargeback withdrawal",
    }.get(kind, f"Payment for order {order_reference}" if order_reference else "Payment")
    prefix = {"charge": "ch_", "refund": "re_", "adjustment": "dp_", "payout": "po_"}[kind]
    record = {
        "id": _random_id(rng, "txn_"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": int((created + timedelta(days=2)).timestamp()),
        "created": int(created.timestamp()),
        "currency": currency.lower(),
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [_fee_detail(fee, currency)] if fee else [],
        "net": amount - fee,
        "reporting_category": {"adjustment": "dispute"}.get(kind, kind),
        "source": source_id or _random_id(rng, prefix),
        "status": "available",
        "type": kind,
    }
    record["_source_object"] = _source_object(record, order_reference, email, charge_id, presentment)
    return record


def _fee_detail(fee: int, currency: str) -> dict:
    return {
        "amount": fee,
        "application": None,
        "currency": currency.lower(),
        "description": "Stripe processing fees",
        "type": "stripe_fee",
    }


def _source_object(
    record: dict, order_reference: str | None, email: str | None, charge_id: str | None,
    presentment: tuple[int, str] | None,
) -> dict:  # fmt: skip
    """The charge, refund, dispute or payout a balance transaction is about, as Stripe expands it."""
    object_id, created, currency = record["source"], record["created"], record["currency"]
    if record["type"] == "charge":
        amount, charge_currency = presentment or (record["amount"], currency)
        return {
            "id": object_id, "object": "charge", "amount": amount, "amount_captured": amount,
            "amount_refunded": 0, "balance_transaction": record["id"],
            "billing_details": {"address": None, "email": email, "name": None, "phone": None},
            "captured": True, "created": created, "currency": charge_currency.lower(),
            "description": record["description"],
            "metadata": {"order_id": order_reference} if order_reference is not None else {},
            "paid": True, "payment_intent": "pi_" + object_id.removeprefix("ch_"), "receipt_email": email,
            "refunded": False, "status": "succeeded",
        }  # fmt: skip
    if record["type"] == "refund":
        return {
            "id": object_id, "object": "refund", "amount": -record["amount"],
            "balance_transaction": record["id"], "charge": charge_id, "created": created, "currency": currency,
            "metadata": {}, "payment_intent": "pi_" + charge_id.removeprefix("ch_") if charge_id else None,
            "reason": "requested_by_customer", "status": "succeeded",
        }  # fmt: skip
    if record["type"] == "adjustment":
        return {
            "id": object_id, "object": "dispute", "amount": -record["amount"], "charge": charge_id,
            "created": created, "currency": currency, "is_charge_refundable": False, "livemode": False,
            "metadata": {}, "payment_intent": "pi_" + charge_id.removeprefix("ch_") if charge_id else None,
            "reason": "fraudulent", "status": "lost",
        }  # fmt: skip
    return {
        "id": object_id, "object": "payout", "amount": -record["amount"],
        "arrival_date": created + 86_400, "automatic": True, "balance_transaction": record["id"],
        "created": created, "currency": currency, "description": "STRIPE PAYOUT", "metadata": {},
        "method": "standard", "statement_descriptor": None, "status": "paid", "type": "bank_account",
    }  # fmt: skip


def stripe_listed(record: dict) -> dict:
    """A balance transaction as the list returns it with `expand[]=data.source`."""
    listed = {key: value for key, value in record.items() if not key.startswith("_")}
    listed["source"] = record["_source_object"]
    return listed


def _order_amounts(items: list) -> tuple[int, int]:
    """Subtotal and shipping of an order's ((product, price), quantity) items: shipping is free from 50.00."""
    subtotal = sum(price * quantity for (_, price), quantity in items)
    return subtotal, 490 if subtotal < 5000 else 0


def _report_row(record: dict, payout_id: str, effective: date) -> dict:
    """The itemized payout reconciliation report's line for one paid-out balance transaction."""
    created = datetime.fromtimestamp(record["created"], UTC)
    return {
        "automatic_payout_id": payout_id,
        "automatic_payout_effective_at": datetime.combine(effective, time(0)),
        "balance_transaction_id": record["id"],
        "created_utc": created.replace(tzinfo=None),
        "available_on_utc": datetime.fromtimestamp(record["available_on"], UTC).replace(tzinfo=None),
        "currency": record["currency"],
        "gross": record["amount"],
        "fee": record["fee"],
        "net": record["net"],
        "reporting_category": record["reporting_category"],
        "source_id": record["source"],
        "description": record["description"],
        "customer_email": (record["_source_object"].get("billing_details") or {}).get("email") or "",
        "charge_id": record["source"] if record["type"] == "charge" else "",
    }


def _mistype(rng: random.Random, reference: str, alphabet: str = string.ascii_letters + string.digits,
             start: int = 3) -> str:  # fmt: skip
    """The reference with one character from ``start`` on (after its prefix) replaced, as a typing slip does."""
    position = rng.randrange(start, len(reference))
    replacement = rng.choice([c for c in alphabet if c != reference[position]])
    return reference[:position] + replacement + reference[position + 1 :]


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
    """The list as GET /v1/balance_transactions?expand[]=data.source returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "object": "list",
        "data": [stripe_listed(record) for record in records],
        "has_more": False,
        "url": "/v1/balance_transactions",
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
