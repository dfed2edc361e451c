"""The sources the product knows: their format, raw table, fields and default account.

A field declares the column it comes from (CSV header, JSON key, or the element path of an XML
statement), the type it is cast to and whether it is required. The ingest step applies these
declarations; the pandera contracts are built from them too, so the two never disagree.
"""

import csv
from dataclasses import dataclass, field
from functools import cache

from dagster_project.lib.home import DBT_PROJECT_DIR

# "timestamp" must carry its UTC offset; "utc_timestamp" is UTC unless it carries one
FIELD_TYPES = ("text", "decimal", "integer", "timestamp", "utc_timestamp", "unix_timestamp", "date", "json", "currency")


@dataclass(frozen=True)
class Field:
    column: str
    source_key: str
    type: str = "text"
    required: bool = False
    non_negative: bool = False
    # when set, the field is required on rows where this other column has a value
    required_with: str | None = None
    # when set, the field is required on rows where this other column has no value
    required_unless: str | None = None
    # when set, the only values the field may take
    allowed: tuple[str, ...] = ()
    # when set, the texts of these other declared columns follow this one's (joined with a
    # space) before the value is cast: a timestamp exported as a date, a time and a time zone
    joined_with: tuple[str, ...] = ()
    # when set, the strptime formats the value is read with instead of its type's defaults; a
    # trailing %Z reads a time zone abbreviation (PST, CET, ...)
    formats: tuple[str, ...] = ()
    # when set, the thousands separator a decimal may carry between groups of three digits
    thousands_separator: str | None = None


@dataclass(frozen=True)
class Source:
    name: str
    format: str  # "csv", "json_list", "camt053" or "ecb_rates_csv"
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
        # set when Stripe converted the charge into the account's currency: units of it per unit
        # of the customer's currency (kept as text, exactly as sent)
        Field("exchange_rate", "exchange_rate"),
    ),
)

# Columns in the order of Stripe's report, under their report names; amounts are decimals in
# major units of the (lowercase) currency, times are UTC without an offset
STRIPE_PAYOUT_RECONCILIATION = Source(
    name="stripe_payout_reconciliation",
    format="csv",
    raw_table="stripe_payout_reconciliation",
    default_account="stripe_clearing",
    description="Stripe itemized payout reconciliation report (CSV, payout_reconciliation.itemized.5)",
    lowercase_currency=True,
    fields=(
        Field("automatic_payout_id", "automatic_payout_id"),
        Field("automatic_payout_effective_at", "automatic_payout_effective_at", "utc_timestamp"),
        Field("balance_transaction_id", "balance_transaction_id", required=True),
        Field("created_utc", "created_utc", "utc_timestamp"),
        Field("available_on_utc", "available_on_utc", "utc_timestamp"),
        Field("currency", "currency", "currency", required=True),
        Field("gross", "gross", "decimal"),
        Field("fee", "fee", "decimal"),
        Field("net", "net", "decimal", required=True),
        Field("reporting_category", "reporting_category"),
        Field("source_id", "source_id"),
        Field("description", "description"),
        Field("customer_facing_amount", "customer_facing_amount", "decimal"),
        Field("customer_facing_currency", "customer_facing_currency", "currency"),
        Field("automatic_payout_effective_at_utc", "automatic_payout_effective_at_utc", "utc_timestamp"),
        Field("customer_id", "customer_id"),
        Field("customer_email", "customer_email"),
        Field("charge_id", "charge_id"),
        Field("payment_intent_id", "payment_intent_id"),
    ),
)

# One raw row per statement entry (Ntry). A field's source key is its element path: from the
# entry, or from its statement (Stmt/..., Bal[OPBD]/...). Balances are signed (a DBIT balance is
# negative); remittance lines are joined with a space.
CAMT053 = Source(
    name="camt053",
    format="camt053",
    raw_table="camt053",
    default_account="bank",
    description="Bank statements, ISO 20022 camt.053 XML (BkToCstmrStmt, versions 001.02 and later)",
    fields=(
        Field("statement_id", "Stmt/Id", required=True),
        Field("account_iban", "Stmt/Acct/Id"),
        Field("account_currency", "Stmt/Acct/Ccy", "currency"),
        Field("opening_balance", "Bal[OPBD]/Amt", "decimal"),
        Field("opening_balance_date", "Bal[OPBD]/Dt", "date"),
        Field("closing_balance", "Bal[CLBD]/Amt", "decimal"),
        Field("closing_balance_date", "Bal[CLBD]/Dt", "date"),
        Field("entry_ref", "NtryRef"),
        Field("amount", "Amt", "decimal", required=True, non_negative=True),
        Field("currency", "Amt/@Ccy", "currency", required=True),
        Field("credit_debit", "CdtDbtInd", required=True, allowed=("CRDT", "DBIT")),
        Field("status", "Sts", required=True),
        Field("booking_date", "BookgDt/Dt", "date", required_unless="booked_at"),
        Field("booked_at", "BookgDt/DtTm", "utc_timestamp"),
        Field("value_date", "ValDt", "date"),
        Field("account_servicer_ref", "AcctSvcrRef"),
        Field("bank_transaction_code", "BkTxCd"),
        Field("end_to_end_id", "TxDtls/Refs/EndToEndId"),
        Field("remittance_information", "TxDtls/RmtInf/Ustrd"),
        Field("debtor_name", "TxDtls/RltdPties/Dbtr/Nm"),
        Field("additional_information", "AddtlNtryInf"),
    ),
)

# PayPal's activity download (Reports > Activity download, CSV) under its default column names.
# Dates are month first, as PayPal documents the export (MM/DD/YYYY); the time is the account's
# local time, its zone an abbreviation (PST, PDT, CET, ...). Amounts are signed decimals in major
# units with a comma between thousands (-1,234.56): Gross and Net are negative when money leaves
# the balance, and Fee is negative when PayPal takes one.
PAYPAL_DATE_FORMAT = "%m/%d/%Y"
PAYPAL_ACTIVITY = Source(
    name="paypal_activity",
    format="csv",
    raw_table="paypal_activity",
    default_account="paypal_clearing",
    description="PayPal activity download (CSV, Reports > Activity download)",
    fields=(
        Field(
            "occurred_at",
            "Date",
            "timestamp",
            required=True,
            joined_with=("Time", "TimeZone"),
            formats=(f"{PAYPAL_DATE_FORMAT} %H:%M:%S %Z",),
        ),
        Field("local_time", "Time", required=True),
        Field("time_zone", "TimeZone", required=True),
        Field("name", "Name"),
        Field("type", "Type", required=True),
        Field("status", "Status", required=True),
        Field("currency", "Currency", "currency", required=True),
        Field("gross", "Gross", "decimal", required=True, thousands_separator=","),
        Field("fee", "Fee", "decimal", thousands_separator=","),
        Field("net", "Net", "decimal", required=True, thousands_separator=","),
        Field("from_email", "From Email Address"),
        Field("to_email", "To Email Address"),
        Field("transaction_id", "Transaction ID", required=True),
        Field("item_title", "Item Title"),
        Field("reference_txn_id", "Reference Txn ID"),
        Field("invoice_number", "Invoice Number"),
        Field("custom_number", "Custom Number"),
        Field("receipt_id", "Receipt ID"),
        Field("subject", "Subject"),
        Field("note", "Note"),
        Field("balance_impact", "Balance Impact", allowed=("Credit", "Debit", "Memo")),
    ),
)

# The ECB's euro foreign exchange reference rates as published (eurofxref-hist.csv, or the
# one-day eurofxref.csv): a wide CSV with one row per TARGET business day, newest first (weekends
# and holidays have no row), and one column per currency, each cell the units of that currency
# one euro buys; a trailing comma leaves an empty last column, and a currency without a rate that
# day is N/A or empty. The reader turns it into one row per (day, currency) with a rate, so
# `Currency` is a column's header and `Rate` its cell. A rate is kept as the text published (GBP
# has five decimals, more than a "decimal" field holds) once the reader has checked it is a
# positive decimal. Rates move no money, so the source has no account; nor do they belong to a
# profile: whichever profile a file lands for, staging keeps one rate per day and currency.
ECB_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y")  # the history file's, and the one-day file's "04 November 2026"
ECB_REFERENCE_RATES = Source(
    name="ecb_reference_rates",
    format="ecb_rates_csv",
    raw_table="ecb_reference_rates",
    default_account="",
    description="ECB euro foreign exchange reference rates (CSV as published, eurofxref-hist.csv)",
    fields=(
        Field("rate_date", "Date", "date", required=True, formats=ECB_DATE_FORMATS),
        Field("currency", "Currency", "currency", required=True),
        Field("units_per_eur", "Rate", "text", required=True),
    ),
)

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        SHOPIFY_ORDERS,
        STRIPE_BALANCE_TRANSACTIONS,
        STRIPE_PAYOUT_RECONCILIATION,
        CAMT053,
        PAYPAL_ACTIVITY,
        ECB_REFERENCE_RATES,
    )
}


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"Unknown source {name!r}; known sources: {known}") from None


@cache
def currency_minor_units() -> dict[str, int]:
    """Digits after the decimal point of every ISO 4217 currency in the dbt seed."""
    with open(DBT_PROJECT_DIR / "seeds" / "currencies.csv", newline="") as handle:
        return {row["currency_code"]: int(row["minor_units"]) for row in csv.DictReader(handle)}


@cache
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes from the dbt seed, the one list both ingest and dbt use."""
    return frozenset(currency_minor_units())


@cache
def known_profiles() -> tuple[str, ...]:
    with open(DBT_PROJECT_DIR / "seeds" / "profiles.csv", newline="") as handle:
        return tuple(row["profile_id"] for row in csv.DictReader(handle))
