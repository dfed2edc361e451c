"""The sources the product knows: their format, raw table, fields and default account.

A field declares the column it comes from (CSV header or JSON key), the type it is cast to and
whether it is required. The ingest step applies these declarations; the pandera contracts are
built from them too, so the two never disagree.
"""

import csv
from dataclasses import dataclass, field
from functools import cache

from dagster_project.lib.home import DBT_PROJECT_DIR

FIELD_TYPES = ("text", "decimal", "integer", "timestamp", "unix_timestamp", "json", "currency")


@dataclass(frozen=True)
class Field:
    column: str
    source_key: str
    type: str = "text"
    required: bool = False
    non_negative: bool = False
    # when set, the field is required on rows where this other column has a value
    required_with: str | None = None


@dataclass(frozen=True)
class Source:
    name: str
    format: str  # "csv" or "json_list"
    raw_table: str
    default_account: str
    description: str
    fields: tuple[Field, ...] = field(default_factory=tuple)
    lowercase_currency: bool = False

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]


SHOPIFY_ORDERS = Source(
    name="shopify_orders",
    format="csv",
    raw_table="shopify_orders",
    default_account="shopify_receivable",
    description="Shopify orders export (CSV, one row per line item; order fields on the first)",
    fields=(
        Field("name", "Name", required=True),
        Field("email", "Email"),
        Field("financial_status", "Financial Status", required_with="total"),
        Field("paid_at", "Paid at", "timestamp"),
        Field("fulfillment_status", "Fulfillment Status"),
        Field("currency", "Currency", "currency", required_with="total"),
        Field("subtotal", "Subtotal", "decimal", non_negative=True),
        Field("shipping", "Shipping", "decimal", non_negative=True),
        Field("taxes", "Taxes", "decimal", non_negative=True),
        Field("total", "Total", "decimal", non_negative=True),
        Field("discount_code", "Discount Code"),
        Field("discount_amount", "Discount Amount", "decimal", non_negative=True),
        Field("created_at", "Created at", "timestamp", required_with="total"),
        Field("lineitem_quantity", "Lineitem quantity", "integer"),
        Field("lineitem_name", "Lineitem name"),
        Field("lineitem_price", "Lineitem price", "decimal"),
        Field("lineitem_sku", "Lineitem sku"),
        Field("billing_name", "Billing Name"),
        Field("payment_method", "Payment Method"),
        Field("payment_reference", "Payment Reference"),
        Field("refunded_amount", "Refunded Amount", "decimal", non_negative=True),
        Field("id", "Id", "integer"),
        Field("tags", "Tags"),
        Field("source", "Source"),
    ),
)

STRIPE_BALANCE_TRANSACTIONS = Source(
    name="stripe_balance_transactions",
    format="json_list",
    raw_table="stripe_balance_transactions",
    default_account="stripe_clearing",
    description="Stripe balance transactions, the API's JSON list (/v1/balance_transactions)",
    lowercase_currency=True,
    fields=(
        Field("id", "id", required=True),
        Field("type", "type", required=True),
        Field("source", "source"),
        Field("amount", "amount", "integer", required=True),
        Field("fee", "fee", "integer", required=True, non_negative=True),
        Field("net", "net", "integer", required=True),
        Field("currency", "currency", "currency", required=True),
        Field("created", "created", "unix_timestamp", required=True),
        Field("available_on", "available_on", "unix_timestamp"),
        Field("reporting_category", "reporting_category"),
        Field("description", "description"),
        Field("status", "status"),
        Field("metadata", "metadata", "json"),
    ),
)

SOURCES: dict[str, Source] = {s.name: s for s in (SHOPIFY_ORDERS, STRIPE_BALANCE_TRANSACTIONS)}


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"Unknown source {name!r}; known sources: {known}") from None


@cache
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes from the dbt seed, the one list both ingest and dbt use."""
    with open(DBT_PROJECT_DIR / "seeds" / "currencies.csv", newline="") as handle:
        return frozenset(row["currency_code"] for row in csv.DictReader(handle))


@cache
def known_profiles() -> tuple[str, ...]:
    with open(DBT_PROJECT_DIR / "seeds" / "profiles.csv", newline="") as handle:
        return tuple(row["profile_id"] for row in csv.DictReader(handle))
