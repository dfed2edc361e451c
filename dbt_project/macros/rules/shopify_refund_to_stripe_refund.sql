{#- A refund recorded on a Shopify order is expected as a Stripe refund for the same order: one
    whose own metadata names the order, or else one of a charge that was paid for the order (a
    Stripe refund belongs to a charge, and the charge carries the order id). -#}
{% macro rule__shopify_refund_to_stripe_refund() %}
{{ return({
    'name': 'shopify_refund_to_stripe_refund',
    'description': 'A refund on a Shopify order is paid back by a Stripe refund for that order.',
    'profiles': ['*'],
    'priority': 90,
    'source_account': 'shopify_receivable',
    'target_account': 'stripe_clearing',
    'cardinality': 'one_to_one',
    'window_days': 5,
    'filters': [
        "source.entry_type = 'refund'",
        "coalesce(json_extract_string(source.metadata, '$.payment_method'), '') not ilike '%paypal%'",
    ],
    'target_filters': [
        "target.entry_type in ('refund', 'payment_refund')",
    ],
    'identifiers': [
        {'name': 'order_id',
         'source': 'normalize_reference(source.order_ref)',
         'target': 'normalize_reference(target.order_ref)'},
        {'name': 'order_id_of_charge',
         'source': 'normalize_reference(source.order_ref)',
         'target': 'normalize_reference(target.charge_order_ref)'},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'same_amount', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
    ],
}) }}
{% endmacro %}
