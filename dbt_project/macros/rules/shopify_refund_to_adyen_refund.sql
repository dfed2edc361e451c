{#- A refund recorded on a Shopify order paid through Adyen is expected as a Refunded row of an
    Adyen settlement batch whose merchant reference is the order name. It ranks above the Stripe
    refund rule, whose filters every non-PayPal refund passes. -#}
{% macro rule__shopify_refund_to_adyen_refund() %}
{{ return({
    'name': 'shopify_refund_to_adyen_refund',
    'description': 'A refund on a Shopify order paid through Adyen is paid back by an Adyen Refunded row with the order name as its merchant reference.',
    'profiles': ['*'],
    'priority': 93,
    'source_account': 'shopify_receivable',
    'target_account': 'adyen_clearing',
    'cardinality': 'one_to_one',
    'window_days': 7,
    'filters': [
        "source.entry_type = 'refund'",
        "json_extract_string(source.metadata, '$.payment_method') ilike '%adyen%'",
    ],
    'target_filters': [
        "target.entry_type = 'refunded'",
    ],
    'identifiers': [
        {'name': 'merchant_reference',
         'source': 'normalize_reference(source.order_ref)',
         'target': 'normalize_reference(target.order_ref)'},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals', 'field': 'currency',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'same_amount', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'refunded_within_7_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 7},
    ],
}) }}
{% endmacro %}
