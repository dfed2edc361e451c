{#- One checkout, several orders, one payment: Shopify splits a checkout into orders (shipped
    from different locations) that one Stripe charge pays together. Those orders carry the
    charge's id as their payment reference; grouped by it, their sum is the charge. The order rule
    would compare the charge with its first order alone, so this rule comes first for them. -#}
{% macro rule__shopify_split_orders_to_stripe_charge() %}
{{ return({
    'name': 'shopify_split_orders_to_stripe_charge',
    'description': 'Orders of one checkout whose payment reference names a Stripe charge are paid together by that charge.',
    'profiles': ['*'],
    'priority': 105,
    'source_account': 'shopify_receivable',
    'target_account': 'stripe_clearing',
    'cardinality': 'many_to_one',
    'source_group_by': "json_extract_string(source.metadata, '$.payment_reference')",
    'window_days': 3,
    'filters': [
        "source.entry_type = 'order'",
        "source.status <> 'voided'",
        "json_extract_string(source.metadata, '$.payment_reference') like 'ch!_%' escape '!'",
    ],
    'target_filters': [
        "target.entry_type in ('charge', 'payment')",
    ],
    'identifiers': [
        {'name': 'charge_id',
         'source': "json_extract_string(source.metadata, '$.payment_reference')",
         'target': 'target.charge_ref'},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals', 'field': 'currency',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'orders_sum_to_the_charge', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'paid_within_3_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 3},
    ],
}) }}
{% endmacro %}
