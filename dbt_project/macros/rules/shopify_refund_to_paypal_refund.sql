{#- A refund recorded on a Shopify order paid with PayPal is expected as a PayPal refund whose
    invoice number is the order name. It ranks above the Stripe refund rule, which leaves
    PayPal orders alone. -#}
{% macro rule__shopify_refund_to_paypal_refund() %}
{{ return({
    'name': 'shopify_refund_to_paypal_refund',
    'description': 'A refund on a Shopify order paid with PayPal is paid back by a PayPal refund with the order name as its invoice number.',
    'profiles': ['*'],
    'priority': 95,
    'source_account': 'shopify_receivable',
    'target_account': 'paypal_clearing',
    'cardinality': 'one_to_one',
    'window_days': 5,
    'filters': [
        "source.entry_type = 'refund'",
        "json_extract_string(source.metadata, '$.payment_method') ilike '%paypal%'",
    ],
    'target_filters': [
        "target.entry_type = 'refund'",
    ],
    'identifiers': [
        {'name': 'invoice_number',
         'source': 'normalize_reference(source.order_ref)',
         'target': 'normalize_reference(target.order_ref)'},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals', 'field': 'currency',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'same_amount', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'refunded_within_5_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 5},
    ],
}) }}
{% endmacro %}
