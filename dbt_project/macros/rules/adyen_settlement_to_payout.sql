{#- Adyen pays out a settlement batch at once: every journal entry booked to the batch
    (settlements, refunds, chargebacks, fees, corrections, balance transfers) belongs to one
    group whose net sum is the batch's MerchantPayout. A batch number is the merchant account's
    own count, so the group is the batch of one merchant account. Chargebacks (and their
    reversals) are booked to chargebacks, fee lines to processing_fees. -#}
{% macro rule__adyen_settlement_to_payout() %}
{{ return({
    'name': 'adyen_settlement_to_payout',
    'description': 'The journal entries of an Adyen settlement batch sum, net of costs, to the batch payout.',
    'profiles': ['*'],
    'priority': 75,
    'source_account': 'adyen_clearing',
    'target_account': 'adyen_payouts',
    'cardinality': 'many_to_one',
    'source_group_by': "json_extract_string(source.metadata, '$.merchant_account') || '/' || source.payout_ref",
    'group_amount': 'net_minor',
    'window_days': 10,
    'filters': [
        "source.entry_type <> 'merchant_payout'",
    ],
    'target_filters': [
        "target.entry_type = 'merchant_payout'",
    ],
    'identifiers': [
        {'name': 'merchant_account_and_batch',
         'source': "json_extract_string(source.metadata, '$.merchant_account') || '/' || source.payout_ref",
         'target': "json_extract_string(target.metadata, '$.merchant_account') || '/' || target.payout_ref"},
    ],
    'member_postings': [
        {'when': "source.entry_type in ('chargeback', 'second_chargeback', 'chargeback_reversal')", 'account': 'chargebacks'},
        {'when': "source.entry_type in ('fee', 'invoice_deduction', 'payment_cost')", 'account': 'processing_fees'},
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
