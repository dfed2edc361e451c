{#- The states every ledger transaction goes through, as far as this run knows: an expectation
    (of one entry or of a group) is a transaction whose entries are EXPECTED (state 1); the
    match that consumes it posts them, with the processor's fee, in the same transaction
    (state 2). Balanced per currency by
    construction: every amount appears once as a debit and once as a credit in one currency. -#}
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

expected_states as (

    -- every expectation is first a transaction of EXPECTED entries
    select
        'txn|' || expectations.expectation_id as transaction_id,
        1 as state_number,
        expectations.expectation_id,
        expectations.rule_name,
        expectations.profile_id,
        source.entry_id as source_entry_id,
        cast(null as varchar) as target_entry_id,
        'EXPECTED' as status,
        expectations.source_account_id,
        expectations.expected_direction as source_direction,
        expectations.expected_target_account_id as target_account_id,
        expectations.expected_amount_minor as amount_minor,
        expectations.expected_currency as currency,
        cast(0 as bigint) as fee_minor,
        source.profile_id || ':processing_fees:' || source.currency as fee_account_id,
        expectations.effective_at,
        expectations.ingested_at,
        expectations.business_date as event_date
    from expectations
    inner join entries as source
        on source.entry_id = expectations.source_entry_id

),

posted_states as (

    -- then the match that consumes it posts them, with the processor's fee
    select
        expected_states.* replace (
            2 as state_number,
            target.entry_id as target_entry_id,
            'POSTED' as status,
            coalesce(matches.target_fee_minor, 0) as fee_minor,
            target.effective_at as effective_at,
            greatest(expected_states.ingested_at, target.ingested_at) as ingested_at,
            greatest(expected_states.event_date, target.business_date) as event_date
        )
    from expected_states
    inner join matches
        on matches.expectation_id = expected_states.expectation_id
    inner join entries as target
        on target.entry_id = matches.target_entry_id

),

transactions as (

    select * from expected_states
    union all
    select * from posted_states

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
    transaction_id || '@' || state_number || '#' || entry_index as proposed_entry_id,
    transaction_id,
    state_number,
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
