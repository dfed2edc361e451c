{#- An Adyen payout arrives in the bank as one credit whose remittance text is the payout's
    description, by default `TX<reference>XT batch <n>, <merchant account>` (the payout row's
    Modification Reference). It is found by the unique TX reference, else by the batch number,
    else by its amount and currency; whichever found it, the credit must name the payout: a TX
    reference close to the payout's (one mistyped character passes) or the same batch number.
    Only credits that name Adyen (in the text or as the debtor) or carry a TX...XT reference are
    looked at, and the Stripe and PayPal bank rules only look at credits naming their own
    processor, so no rule tries another processor's credit of the same amount. -#}
{% macro rule__adyen_payout_to_bank_credit() %}
{{ return({
    'name': 'adyen_payout_to_bank_credit',
    'description': 'An Adyen payout is credited to the bank with its TX reference and batch number in the remittance text; fallback: amount and currency with a similar text.',
    'profiles': ['*'],
    'priority': 65,
    'source_account': 'adyen_payouts',
    'target_account': 'bank',
    'cardinality': 'one_to_one',
    'window_days': 5,
    'filters': [
        "source.entry_type = 'merchant_payout'",
    ],
    'target_filters': [
        "target.entry_type = 'bank_credit'",
        "concat_ws(' ', target.description, json_extract_string(target.metadata, '$.debtor_name')) ilike '%adyen%' or regexp_matches(coalesce(target.description, ''), 'TX[0-9A-Z]{8,}XT')",
    ],
    'identifiers': [
        {'name': 'payout_reference',
         'source': "nullif(regexp_extract(json_extract_string(source.metadata, '$.modification_reference'), 'TX[0-9A-Z]{8,}XT'), '')",
         'target': "nullif(regexp_extract(target.description, 'TX[0-9A-Z]{8,}XT'), '')"},
        {'name': 'batch_number',
         'source': 'source.payout_ref',
         'target': "'batch:' || nullif(regexp_extract(target.description, '(?i)batch[^0-9A-Za-z]{0,3}([0-9]+)', 1), '')"},
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
        {'name': 'remittance_names_the_payout', 'type': 'sql', 'field': 'description',
         'expression': "coalesce(similarity_jaro_winkler(regexp_extract(json_extract_string(source.metadata, '$.modification_reference'), 'TX[0-9A-Z]{8,}XT'), nullif(regexp_extract(target.description, 'TX[0-9A-Z]{8,}XT'), '')) >= 0.9, false) or coalesce(source.payout_ref = 'batch:' || nullif(regexp_extract(target.description, '(?i)batch[^0-9A-Za-z]{0,3}([0-9]+)', 1), ''), false)",
         'expected': 'source.description',
         'actual': 'target.description'},
    ],
}) }}
{% endmacro %}
