{#- PayPal sweeps its balance to the bank with a withdrawal, which arrives as one bank credit
    whose remittance text carries the withdrawal's transaction id (17 upper-case letters and
    digits). A credit whose id was mistyped is found by its amount and currency, and accepted
    when the id it carries is close enough to the withdrawal's.
    Only credits that name the processor are looked at, so another processor's credit of the
    same amount is never tried. -#}
{% macro rule__paypal_withdrawal_to_bank_credit() %}
{{ return({
    'name': 'paypal_withdrawal_to_bank_credit',
    'description': 'A PayPal withdrawal is credited to the bank with its transaction id in the remittance text; fallback: amount and currency with a close id.',
    'profiles': ['*'],
    'priority': 60,
    'source_account': 'paypal_withdrawals',
    'target_account': 'bank',
    'cardinality': 'one_to_one',
    'window_days': 5,
    'filters': [
        "source.entry_type = 'withdrawal'",
    ],
    'target_filters': [
        "target.entry_type = 'bank_credit'",
        "concat_ws(' ', target.description, json_extract_string(target.metadata, '$.debtor_name')) ilike '%paypal%'",
    ],
    'identifiers': [
        {'name': 'withdrawal_transaction_id',
         'source': 'source.payout_ref',
         'target': "nullif(regexp_extract(target.description, '\\b([0-9A-Z]{17})\\b', 1), '')"},
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
        {'name': 'remittance_names_the_withdrawal', 'type': 'fuzzy', 'scorer': 'jaro_winkler',
         'field': 'description', 'threshold': 0.9,
         'source': 'source.payout_ref',
         'target': "coalesce(nullif(regexp_extract(target.description, '\\b([0-9A-Z]{17})\\b', 1), ''), target.description)"},
    ],
}) }}
{% endmacro %}
