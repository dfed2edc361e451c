{#- Stripe pays out its balance in batches: every charge, refund and dispute of a payout (the
    payout reconciliation report names it) belongs to one group whose net sum is the payout. A
    dispute (an adjustment) is booked to chargebacks, its fee to processing_fees. -#}
{% macro rule__stripe_balance_to_payout() %}
{{ return({
    'name': 'stripe_balance_to_payout',
    'description': 'The charges, refunds and disputes of a Stripe payout sum, net of fees, to the payout.',
    'profiles': ['*'],
    'priority': 80,
    'source_account': 'stripe_clearing',
    'target_account': 'stripe_payouts',
    'cardinality': 'many_to_one',
    'source_group_by': 'source.payout_ref',
    'group_amount': 'net_minor',
    'window_days': 7,
    'filters': [
        "source.entry_type in ('charge', 'payment', 'refund', 'payment_refund', 'adjustment')",
    ],
    'target_filters': [
        "target.entry_type = 'payout'",
    ],
    'identifiers': [
        {'name': 'payout_id', 'source': 'source.payout_ref', 'target': 'target.payout_ref'},
    ],
    'member_postings': [
        {'when': "source.entry_type = 'adjustment'", 'account': 'chargebacks'},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals', 'field': 'currency',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'net_sum_is_the_payout', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'paid_out_within_10_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 10},
    ],
}) }}
{% endmacro %}
