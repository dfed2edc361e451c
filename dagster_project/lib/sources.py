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
    format: str  # a key of ingest.READERS: "csv", "json_list", "camt053", "mt940", "bai2", ...
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

# One raw row per statement line (:61:) of a SWIFT MT940 customer statement. A field's source
# key is its tag (and subfield); :60a:/:62a: are the opening (60F or 60M) and closing (62F or
# 62M) balances, signed (a D balance is negative). The booking date is the line's entry date, or
# its value date when it has none. RC/RD marks are reversals: RC takes a credit back (DBIT), RD
# a debit (CRDT). The :86: information is parsed per its dialect (German ?NN subfields, Dutch
# /CODE/ pairs, or free text); `information` keeps it as sent.
MT940 = Source(
    name="mt940",
    format="mt940",
    raw_table="mt940",
    default_account="bank",
    description="Bank statements, SWIFT MT940 customer statement messages (text, one or more statements)",
    fields=(
        Field("statement_id", ":20:", required=True),
        Field("statement_number", ":28C:"),
        Field("account_id", ":25:", required=True),
        Field("currency", ":60a:/currency", "currency", required=True),
        Field("opening_balance", ":60a:", "decimal"),
        Field("opening_balance_date", ":60a:/date", "date"),
        Field("closing_balance", ":62a:", "decimal"),
        Field("closing_balance_date", ":62a:/date", "date"),
        Field("value_date", ":61:/value_date", "date", required=True),
        Field("booking_date", ":61:/entry_date", "date", required=True),
        Field("amount", ":61:/amount", "decimal", required=True, non_negative=True),
        Field("credit_debit", ":61:/mark", required=True, allowed=("CRDT", "DBIT")),
        Field("is_reversal", ":61:/reversal", required=True, allowed=("true", "false")),
        Field("funds_code", ":61:/funds_code"),
        Field("transaction_type", ":61:/transaction_type"),
        Field("customer_reference", ":61:/customer_reference"),
        Field("bank_reference", ":61:/bank_reference"),
        Field("supplementary_details", ":61:/supplementary_details"),
        Field("end_to_end_id", ":86:/end_to_end_id"),
        Field("remittance_information", ":86:/remittance"),
        Field("counterparty_name", ":86:/counterparty_name"),
        Field("counterparty_account", ":86:/counterparty_account"),
        Field("information", ":86:"),
    ),
)

# One raw row per transaction detail (16 record, with its 88 continuations) of a BAI2 cash
# management balance report. A field's source key is its record type and field. Amounts are
# written in minor units of the account's currency (03, else the group's 02, else USD) and kept
# here as exact decimals; the type code says the side (credits 100-399 and 920-959, debits
# 400-699 and 960-999). The booking date is the group's as-of date; 03/010 and 03/015 are the
# account's opening and closing ledger balances.
BAI2 = Source(
    name="bai2",
    format="bai2",
    raw_table="bai2",
    default_account="bank",
    description="Bank statements, BAI2 cash management balance reporting files (BAI version 2)",
    fields=(
        Field("originator_id", "02/originator"),
        Field("account_id", "03/account", required=True),
        Field("currency", "03/currency", "currency", required=True),
        Field("opening_ledger", "03/010", "decimal"),
        Field("closing_ledger", "03/015", "decimal"),
        Field("booking_date", "02/as_of_date", "date", required=True),
        Field("value_date", "16/value_date", "date"),
        Field("type_code", "16/type_code", required=True),
        Field("amount", "16/amount", "decimal", required=True, non_negative=True),
        Field("credit_debit", "16/side", required=True, allowed=("CRDT", "DBIT")),
        Field("funds_type", "16/funds_type"),
        Field("bank_reference", "16/bank_reference"),
        Field("customer_reference", "16/customer_reference"),
        Field("text", "16/text"),
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

# Adyen's Settlement details report (Reports > Settlement details, one CSV per payout batch:
# settlement_detail_report_batch_<n>.csv) under its column names; the report's Reserved columns
# are not read. One row per journal entry booked to the batch: Settled, Refunded, Chargeback, Fee,
# Balancetransfer, DepositCorrection, InvoiceDeduction, ..., and last the MerchantPayout that
# pays the batch out (its Modification Reference is the text Adyen sends the bank). Creation Date
# is the account's local time, its zone an abbreviation (CET, CEST, BST, ...). Amounts are
# unsigned decimals in major units, debits and credits in separate columns: the gross in the
# payment's currency (GC), the net and the costs Adyen withheld in the settlement currency (NC).
# The exchange rate is kept as the text published (it may carry more decimals than a decimal
# field holds).
ADYEN_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S %Z"
ADYEN_SETTLEMENT_DETAILS = Source(
    name="adyen_settlement_details",
    format="csv",
    raw_table="adyen_settlement_details",
    default_account="adyen_clearing",
    description="Adyen Settlement details report (CSV, one per settlement batch)",
    fields=(
        Field("company_account", "Company Account"),
        Field("merchant_account", "Merchant Account", required=True),
        Field("psp_reference", "Psp Reference"),
        Field("merchant_reference", "Merchant Reference"),
        Field("payment_method", "Payment Method"),
        Field(
            "created_at",
            "Creation Date",
            "timestamp",
            required=True,
            joined_with=("TimeZone",),
            formats=(ADYEN_TIMESTAMP_FORMAT,),
        ),
        Field("time_zone", "TimeZone", required=True),
        Field("type", "Type", required=True),
        Field("modification_reference", "Modification Reference"),
        Field("gross_currency", "Gross Currency", "currency"),
        Field("gross_debit", "Gross Debit (GC)", "decimal", non_negative=True),
        Field("gross_credit", "Gross Credit (GC)", "decimal", non_negative=True),
        Field("exchange_rate", "Exchange Rate"),
        Field("net_currency", "Net Currency", "currency", required=True),
        Field("net_debit", "Net Debit (NC)", "decimal", non_negative=True, required_unless="net_credit"),
        Field("net_credit", "Net Credit (NC)", "decimal", non_negative=True),
        Field("commission", "Commission (NC)", "decimal"),
        Field("markup", "Markup (NC)", "decimal"),
        Field("scheme_fees", "Scheme Fees (NC)", "decimal"),
        Field("interchange", "Interchange (NC)", "decimal"),
        Field("payment_method_variant", "Payment Method Variant"),
        Field("modification_merchant_reference", "Modification Merchant Reference"),
        Field("batch_number", "Batch Number", "integer", required=True, non_negative=True),
    ),
)

# PayPal's Settlement report (STL-yyyymmdd.<sequence>.<version>.CSV on PayPal's SFTP server),
# read by readers/paypal_settlement.py: one raw row per section body (SB) record, its fields
# named by the section's column header (CH) record, and the account of its section header (SH).
# Times carry their UTC offset (2026/11/01 10:15:32 -0800). Amounts are unsigned whole numbers of
# hundredths of a unit of their currency, their side (CR money in, DR money out) in a column of
# their own.
PAYPAL_STL_TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S %z"
PAYPAL_SETTLEMENT = Source(
    name="paypal_settlement",
    format="paypal_stl",
    raw_table="paypal_settlement",
    default_account="paypal_clearing",
    description="PayPal Settlement report (STL, record-typed CSV from PayPal's SFTP server)",
    fields=(
        Field("account_id", "SH Account ID"),
        Field("transaction_id", "Transaction ID", required=True),
        Field("invoice_id", "Invoice ID"),
        Field("paypal_reference_id", "PayPal Reference ID"),
        Field("paypal_reference_id_type", "PayPal Reference ID Type"),
        Field("event_code", "Transaction Event Code", required=True),
        Field(
            "initiated_at",
            "Transaction Initiation Date",
            "timestamp",
            required=True,
            formats=(PAYPAL_STL_TIMESTAMP_FORMAT,),
        ),
        Field("completed_at", "Transaction Completion Date", "timestamp", formats=(PAYPAL_STL_TIMESTAMP_FORMAT,)),
        Field("debit_or_credit", "Transaction Debit or Credit", required=True, allowed=("CR", "DR")),
        Field("gross_amount", "Gross Transaction Amount", "integer", required=True, non_negative=True),
        Field("gross_currency", "Gross Transaction Currency", "currency", required=True),
        Field("fee_debit_or_credit", "Fee Debit or Credit", allowed=("CR", "DR"), required_with="fee_amount"),
        Field("fee_amount", "Fee Amount", "integer", non_negative=True),
        Field("fee_currency", "Fee Currency", "currency"),
        Field("custom_field", "Custom Field"),
        Field("consumer_id", "Consumer ID"),
        Field("payment_tracking_id", "Payment Tracking ID"),
        Field("store_id", "Store ID"),
        Field("bank_reference_id", "Bank Reference ID"),
    ),
)

# Shopify Payments' transactions export (Finance > Payouts > View transactions > Export, CSV)
# under its column names: the ledger of the Shopify Payments balance, one row per charge, refund,
# dispute, adjustment, reserve and payout, each naming the payout that paid it out (Payout ID,
# Payout Date) once it is paid out. The payouts export (one row per payout) adds nothing the
# payout rows here lack, so this one file family is read. Amounts are signed decimals in major
# units of Currency (a refund, a dispute and a payout take money out: negative), Fee is what
# Shopify kept; Transaction Date carries its UTC offset, Payout Date and Available On are dates.
# The export has no transaction id: a row is known by its type, order or checkout, time, amount
# and currency, which do not change when it is paid out.
SHOPIFY_PAYOUTS = Source(
    name="shopify_payouts",
    format="csv",
    raw_table="shopify_payouts",
    default_account="shopify_payments_clearing",
    description="Shopify Payments transactions export (CSV, the balance transactions of the payouts)",
    fields=(
        Field("transaction_date", "Transaction Date", "timestamp", required=True),
        Field("type", "Type", required=True),
        Field("order_name", "Order"),
        Field("card_brand", "Card Brand"),
        Field("card_source", "Card Source"),
        Field("payout_status", "Payout Status"),
        Field("payout_date", "Payout Date", "date"),
        Field("payout_id", "Payout ID"),
        Field("available_on", "Available On", "date"),
        Field("amount", "Amount", "decimal", required=True),
        Field("fee", "Fee", "decimal"),
        Field("net", "Net", "decimal", required=True),
        Field("checkout", "Checkout"),
        Field("payment_method_name", "Payment Method Name"),
        Field("presentment_amount", "Presentment Amount", "decimal"),
        Field("presentment_currency", "Presentment Currency", "currency"),
        Field("currency", "Currency", "currency", required=True),
    ),
)

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        SHOPIFY_ORDERS,
        STRIPE_BALANCE_TRANSACTIONS,
        STRIPE_PAYOUT_RECONCILIATION,
        CAMT053,
        MT940,
        BAI2,
        PAYPAL_ACTIVITY,
        ECB_REFERENCE_RATES,
        ADYEN_SETTLEMENT_DETAILS,
        PAYPAL_SETTLEMENT,
        SHOPIFY_PAYOUTS,
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
