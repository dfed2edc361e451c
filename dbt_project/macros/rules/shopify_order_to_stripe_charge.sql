{#- Every Shopify order is expected to be paid by one Stripe charge carrying its order id. -#}
{% macro rule__shopify_order_to_stripe_charge() %}
{{ return({
    'name': 'shopify_order_to_stripe_charge',
    'description': 'A Shopify order is paid by one Stripe charge whose metadata carries the order id.',
    'profiles': ['*'],
    'priority': 100,
    'source_account': 'shopify_receivable',
    'target_account': 'stripe_clearing',
    'cardinality': 'one_to_one',
    'window_days': 3,
    'filters': [
        "source.entry_type = 'order'",
        "source.status not in ('voided', 'pending')",
    ],
    'target_filters': [
        "target.entry_type = 'charge'",
    ],
    'identifiers': [
        {'name': 'order_id',
         'source': 'normalize_reference(source.order_ref)',
         'target': 'normalize_reference(target.order_ref)'},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'same_amount', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'paid_within_3_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 3},
    ],
}) }}
{% endmacro %}
