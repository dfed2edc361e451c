{#- A Stripe payout arrives in the bank as one credit whose remittance text carries the payout
    id. A credit whose reference was mistyped is found by its amount and currency, and accepted
    when the reference it carries is close enough to the payout id.
    Only credits that name the processor are looked at, so another processor's credit of the
    same amount is never tried. -#}
{% macro rule__stripe_payout_to_bank_credit() %}
{{ return({
    'name': 'stripe_payout_to_bank_credit',
    'description': 'A Stripe payout is credited to the bank with the payout id in the remittance text; fallback: amount and currency with a close reference.',
    'profiles': ['*'],
    'priority': 70,
    'source_account': 'stripe_payouts',
    'target_account': 'bank',
    'cardinality': 'one_to_one',
    'window_days': 5,
    'filters': [
        "source.entry_type = 'payout'",
    ],
    'target_filters': [
        "target.entry_type = 'bank_credit'",
        "concat_ws(' ', target.description, json_extract_string(target.metadata, '$.debtor_name')) ilike '%stripe%'",
    ],
    'identifiers': [
        {'name': 'payout_reference',
         'source': 'source.payout_ref',
         'target': "nullif(regexp_extract(target.description, 'po_[A-Za-z0-9]+'), '')"},
        {'name': 'amount_and_currency',
         'source': "source.amount_minor || '|' || source.currency",
         'target': "target.amount_minor || '|' || target.currency"},
    ],
    'match_rules': [
        {'name': 'same_currency', 'type': 'equals', 'field': 'currency',
         'source': 'source.currency', 'target': 'target.currency',
         'category': 'currency_mismatch'},
        {'name': 'same_amount', 'type': 'amount_tolerance',
         'absolute_minor': 0, 'percent': 0},
        {'name': 'credited_within_5_days', 'type': 'date_window',
         'min_lag_days': 0, 'max_lag_days': 5},
        {'name': 'remittance_names_the_payout', 'type': 'fuzzy', 'scorer': 'jaro_winkler',
         'field': 'description', 'threshold': 0.9,
         'source': 'source.payout_ref',
         'target': "coalesce(nullif(regexp_extract(target.description, 'po_[A-Za-z0-9]+'), ''), target.description)"},
    ],
}) }}
{% endmacro %}
