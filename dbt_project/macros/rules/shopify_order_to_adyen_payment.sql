{#- A Shopify order paid through Adyen (the export's Payment Method names Adyen) is expected as
    one Settled row of an Adyen settlement batch whose merchant reference is the order name. A
    payment sent without it is found by its PSP reference when the order carries it as its
    payment reference. Adyen settles a capture a few days after the order. A payment Adyen
    converted into its settlement currency (its gross currency differs) is compared in that
    currency at the reference rate of the order's day, within 3% (Adyen's own rate and costs).
    It ranks above the Stripe order rule, whose filters every non-PayPal order passes. -#}
{% macro rule__shopify_order_to_adyen_payment() %}
{{ return({
    'name': 'shopify_order_to_adyen_payment',
    'description': 'A Shopify order paid through Adyen is settled by an Adyen Settled row whose merchant reference is the order name; fallback: the PSP reference the order carries.',
    'profiles': ['*'],
    'priority': 120,
    'source_account': 'shopify_receivable',
    'target_account': 'adyen_clearing',
    'cardinality': 'one_to_one',
    'window_days': 5,
    'filters': [
        "source.entry_type = 'order'",
        "source.status <> 'voided'",
        "json_extract_string(source.metadata, '$.payment_method') ilike '%adyen%'",
    ],
    'target_filters': [
        "target.entry_type = 'settled'",
    ],
    'fx': {
        'when': "json_extract_string(target.metadata, '$.gross_currency') <> target.currency",
        'tolerance_percent': 3,
    },
    'identifiers': [
        {'name': 'merchant_reference',
         'source': 'normalize_reference(source.order_ref)',
         'target': 'normalize_reference(target.order_ref)'},
        {'name': 'psp_reference',
         'source': "nullif(json_extract_string(source.metadata, '$.payment_reference'), '')",
         'target': 'target.charge_ref'},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals', 'field': 'currency',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'same_amount', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'settled_within_5_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 5},
    ],
}) }}
{% endmacro %}
