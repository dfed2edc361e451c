{#- Every Shopify order is expected to be paid through Stripe: by one charge carrying its order
    id, or by several partial captures of one charge (the charge's balance transactions, grouped
    by charge id, are matched together). A charge that lost the order id is found by the
    customer's email with the same amount and currency, within the date window. An order Shopify
    still shows as unpaid while Stripe holds its money is a status conflict. A charge Stripe
    converted into its settlement currency (it carries an exchange rate) is compared in that
    currency at the reference rate of the order's day, within 3% (Stripe's own rate and fee). -#}
{% macro rule__shopify_order_to_stripe_charge() %}
{{ return({
    'name': 'shopify_order_to_stripe_charge',
    'description': 'A Shopify order is paid by a Stripe charge (or its partial captures) whose metadata carries the order id; fallback: customer email, amount and currency.',
    'profiles': ['*'],
    'priority': 100,
    'source_account': 'shopify_receivable',
    'target_account': 'stripe_clearing',
    'cardinality': 'one_to_many',
    'target_group_by': 'target.charge_ref',
    'window_days': 3,
    'filters': [
        "source.entry_type = 'order'",
        "source.status <> 'voided'",
        "coalesce(json_extract_string(source.metadata, '$.payment_method'), '') not ilike '%paypal%'",
    ],
    'target_filters': [
        "target.entry_type in ('charge', 'payment')",
    ],
    'fx': {
        'when': "json_extract_string(target.metadata, '$.exchange_rate') is not null",
        'tolerance_percent': 3,
    },
    'identifiers': [
        {'name': 'order_id',
         'source': 'normalize_reference(source.order_ref)',
         'target': 'normalize_reference(target.order_ref)'},
        {'name': 'customer_email_and_amount',
         'source': "source.customer_email || '|' || source.amount_minor || '|' || source.currency",
         'target': "target.customer_email || '|' || target.amount_minor || '|' || target.currency"},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals', 'field': 'currency',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'same_amount', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'paid_within_3_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 3},
        {'name': 'order_marked_paid', 'type': 'sql', 'field': 'financial_status',
         'expression': "source.status in ('paid', 'partially_refunded', 'refunded')",
         'expected': "'paid'", 'actual': 'source.status',
         'category': 'status_conflict'},
    ],
}) }}
{% endmacro %}
