{#- The state every ledger transaction should be in after this run. An expectation is a
    transaction whose entries are EXPECTED; the match that consumes it posts them, and the
    processor's fee is posted in the same transaction. Balanced per currency by construction:
    every amount appears once as a debit and once as a credit in one currency. -#}
with

expectations as (

    select * from {{ ref('int_expectations_created') }}

),

matches as (

    select * from {{ ref('int_matches_assigned') }}

),

entries as (

    select * from {{ ref('int_entries_unioned') }}

),

transactions as (

    select
        'txn|' || expectations.expectation_id as transaction_id,
        expectations.expectation_id,
        expectations.rule_name,
        expectations.profile_id,
        source.entry_id as source_entry_id,
        target.entry_id as target_entry_id,
        case when matches.match_id is null then 'EXPECTED' else 'POSTED' end as status,
        source.account_id as source_account_id,
        source.direction as source_direction,
        expectations.expected_target_account_id as target_account_id,
        source.amount_minor,
        source.currency,
        coalesce(target.fee_minor, 0) as fee_minor,
        source.profile_id || ':processing_fees:' || source.currency as fee_account_id,
        coalesce(target.effective_at, source.effective_at) as effective_at,
        greatest(source.ingested_at, coalesce(target.ingested_at, source.ingested_at)) as ingested_at,
        greatest(source.business_date, coalesce(target.business_date, source.business_date)) as event_date
    from expectations
    inner join entries as source
        on source.entry_id = expectations.source_entry_id
    left join matches
        on matches.expectation_id = expectations.expectation_id
    left join entries as target
        on target.entry_id = matches.target_entry_id

),

ledger_entries as (

    -- the counterpart's account receives what the source account gives up
    select
        *,
        1 as entry_index,
        target_account_id as account_id,
        source_direction as direction,
        amount_minor as entry_amount_minor,
        status as entry_status
    from transactions

    union all

    select
        *,
        2 as entry_index,
        source_account_id as account_id,
        case when source_direction = 'DEBIT' then 'CREDIT' else 'DEBIT' end as direction,
        amount_minor as entry_amount_minor,
        status as entry_status
    from transactions

    union all

    -- the processor keeps its fee out of the money it holds
    select
        *,
        3 as entry_index,
        fee_account_id as account_id,
        'DEBIT' as direction,
        fee_minor as entry_amount_minor,
        'POSTED' as entry_status
    from transactions
    where status = 'POSTED' and fee_minor <> 0

    union all

    select
        *,
        4 as entry_index,
        target_account_id as account_id,
        'CREDIT' as direction,
        fee_minor as entry_amount_minor,
        'POSTED' as entry_status
    from transactions
    where status = 'POSTED' and fee_minor <> 0

)

select
    transaction_id || '#' || entry_index as transaction_entry_id,
    transaction_id,
    entry_index,
    profile_id,
    rule_name,
    expectation_id,
    source_entry_id,
    target_entry_id,
    status as transaction_status,
    account_id,
    direction,
    entry_amount_minor as amount_minor,
    currency,
    entry_status as status,
    effective_at,
    ingested_at,
    event_date,
    -- every entry follows from these fields, so they identify the transaction's state
    md5(
        concat_ws(
            '|', status, source_account_id, source_direction, target_account_id,
            target_entry_id, amount_minor, currency, fee_minor, fee_account_id
        )
    ) as version_hash
from ledger_entries
