"""The sources the product knows: their format, raw table, fields and default account.

Every source is configured in a YAML file, one per source: the built-in ones in
`dagster_project/sources/`, a user's beside them or in a directory named by RECON_SOURCES_DIR
(see source_configs.py and README.md, "Adding a source"). A field declares the column it comes
from (CSV header, JSON path, fixed-width position, or the element path of an XML statement), the
rules that turn its text into a value, the type it is cast to and whether it is required. The
ingest step applies these declarations; the pandera contracts are built from them too, so the two
never disagree.
"""

import csv
from functools import cache

from dagster_project.currencies.iso4217 import currencies as iso4217_currencies
from dagster_project.lib.home import DBT_PROJECT_DIR
from dagster_project.lib.source_configs import (
    FIELD_TYPES,
    FORMATS,
    EntryMapping,
    Field,
    ReaderOptions,
    SignFrom,
    Source,
    SourceConfigError,
    load_sources,
    source_directories,
)

__all__ = [
    "ADYEN_SETTLEMENT_DETAILS",
    "ADYEN_TIMESTAMP_FORMAT",
    "BAI2",
    "CAMT053",
    "ECB_DATE_FORMATS",
    "ECB_REFERENCE_RATES",
    "FIELD_TYPES",
    "FORMATS",
    "MT940",
    "PAYPAL_ACTIVITY",
    "PAYPAL_DATE_FORMAT",
    "PAYPAL_SETTLEMENT",
    "PAYPAL_STL_TIMESTAMP_FORMAT",
    "SHOPIFY_ORDERS",
    "SHOPIFY_PAYOUTS",
    "SOURCES",
    "STRIPE_BALANCE_TRANSACTIONS",
    "STRIPE_PAYOUT_RECONCILIATION",
    "EntryMapping",
    "Field",
    "ReaderOptions",
    "SignFrom",
    "Source",
    "SourceConfigError",
    "currency_minor_units",
    "get_source",
    "known_currencies",
    "known_profiles",
]

SOURCES: dict[str, Source] = load_sources(source_directories())


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"Unknown source {name!r}; known sources: {known}") from None


def _formats(source: Source, column: str) -> tuple[str, ...]:
    return source.field_of(column).formats


# The built-in sources under the names the code and tests use; their configs are the truth
SHOPIFY_ORDERS = SOURCES["shopify_orders"]
STRIPE_BALANCE_TRANSACTIONS = SOURCES["stripe_balance_transactions"]
STRIPE_PAYOUT_RECONCILIATION = SOURCES["stripe_payout_reconciliation"]
CAMT053 = SOURCES["camt053"]
MT940 = SOURCES["mt940"]
BAI2 = SOURCES["bai2"]
PAYPAL_ACTIVITY = SOURCES["paypal_activity"]
ECB_REFERENCE_RATES = SOURCES["ecb_reference_rates"]
ADYEN_SETTLEMENT_DETAILS = SOURCES["adyen_settlement_details"]
PAYPAL_SETTLEMENT = SOURCES["paypal_settlement"]
SHOPIFY_PAYOUTS = SOURCES["shopify_payouts"]

# the formats the writers of these files (formats.py, the demo) write them in
PAYPAL_DATE_FORMAT = _formats(PAYPAL_ACTIVITY, "occurred_at")[0].split(" ")[0]  # MM/DD/YYYY
ECB_DATE_FORMATS = _formats(ECB_REFERENCE_RATES, "rate_date")
ADYEN_TIMESTAMP_FORMAT = _formats(ADYEN_SETTLEMENT_DETAILS, "created_at")[0]
PAYPAL_STL_TIMESTAMP_FORMAT = _formats(PAYPAL_SETTLEMENT, "initiated_at")[0]


@cache
def currency_minor_units() -> dict[str, int]:
    """Digits after the decimal point of every ISO 4217 code that has them, current or withdrawn
    (gold, SDR and the like have none)."""
    return {code: c.minor_units for code, c in iso4217_currencies().items() if c.minor_units is not None}


@cache
def known_currencies() -> frozenset[str]:
    """Every ISO 4217 code of the generated seed, the one list both ingest and dbt use; a
    withdrawn code is valid only on records dated up to its `valid_until` (checked at ingest)."""
    return frozenset(iso4217_currencies())


@cache
def known_profiles() -> tuple[str, ...]:
    with open(DBT_PROJECT_DIR / "seeds" / "profiles.csv", newline="") as handle:
        return tuple(row["profile_id"] for row in csv.DictReader(handle))
