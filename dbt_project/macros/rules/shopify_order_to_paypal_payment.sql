{#- A Shopify order paid with PayPal (the export's Payment Method names PayPal) is expected as
    one PayPal payment whose invoice number is the order name. A payment sent without the
    invoice number is found by the customer's email with the same amount and currency, within
    the date window. It ranks above the Stripe order rule, which leaves PayPal orders alone. -#}
{% macro rule__shopify_order_to_paypal_payment() %}
{{ return({
    'name': 'shopify_order_to_paypal_payment',
    'description': 'A Shopify order paid with PayPal is paid by a PayPal payment whose invoice number is the order name; fallback: customer email, amount and currency.',
    'profiles': ['*'],
    'priority': 110,
    'source_account': 'shopify_receivable',
    'target_account': 'paypal_clearing',
    'cardinality': 'one_to_one',
    'window_days': 3,
    'filters': [
        "source.entry_type = 'order'",
        "source.status <> 'voided'",
        "json_extract_string(source.metadata, '$.payment_method') ilike '%paypal%'",
    ],
    'target_filters': [
        "target.entry_type = 'payment'",
    ],
    'identifiers': [
        {'name': 'invoice_number',
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
    ],
}) }}
{% endmacro %}
