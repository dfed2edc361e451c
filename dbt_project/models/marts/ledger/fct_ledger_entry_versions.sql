{#- The append-only ledger. A transaction goes through states (EXPECTED when its expectation is
    created, POSTED when a match consumes it); a run appends, as new versions, the states it
    knows that come after the latest one stored, or the latest state alone when the stored one
    is no longer among them (a match undone or re-pointed), and a VOID version of every live
    transaction no rule proposes any more. Nothing is updated in place, so the versions are the
    audit trail, and it does not depend on how runs were split over days. `recorded_at` is when
    the run learned it.

    The window's end bounds what a run can see (entries of business dates before `max_date`), so
    a run never rewrites what a run of a later window recorded: re-running an older day appends
    nothing, and re-running the same window appends nothing unless something changed.
    Strategy: append; key: (transaction_id, version, entry_index). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
{%- set recorded_at = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp)" -%}
with

proposed as (

    select * from {{ ref('int_ledger_transactions_proposed') }}

),

proposed_states as (

    select distinct
        transaction_id,
        state_number,
        version_hash
    from proposed

),

final_states as (

    select
        transaction_id,
        max(state_number) as state_number
    from proposed_states
    group by transaction_id

),

{% if is_incremental() %}
stored as (

    select * from {{ this }}

),

latest as (

    select
        transaction_id,
        max(version) as version,
        arg_max(version_hash, version) as version_hash,
        arg_max(transaction_status, version) as transaction_status,
        max(run_window_end) as run_window_end
    from stored
    group by transaction_id

),

-- which of the proposed states the ledger already stands at
stored_positions as (

    select
        proposed_states.transaction_id,
        max(proposed_states.state_number) as state_number
    from proposed_states
    inner join latest
        on latest.transaction_id = proposed_states.transaction_id
        and latest.version_hash = proposed_states.version_hash
    group by proposed_states.transaction_id

),

to_append as (

    -- a transaction's states are numbered from 1 without a gap (a POSTED state follows its
    -- EXPECTED one), so a state appended becomes the version its number is past the state the
    -- ledger stands at; the latest state alone, appended after a state no longer proposed, is
    -- the next version
    select
        proposed.*,
        coalesce(latest.version, 0) + case
            when latest.transaction_id is null then proposed.state_number
            when stored_positions.transaction_id is not null
                then proposed.state_number - stored_positions.state_number
            else 1
        end as version
    from proposed
    inner join final_states
        on final_states.transaction_id = proposed.transaction_id
    left join latest
        on latest.transaction_id = proposed.transaction_id
    left join stored_positions
        on stored_positions.transaction_id = proposed.transaction_id
    where (latest.run_window_end is null or latest.run_window_end <= {{ window_end() }})
        and (
            latest.transaction_id is null
            or (
                stored_positions.transaction_id is not null
                and proposed.state_number > stored_positions.state_number
            )
            or (
                stored_positions.transaction_id is null
                and proposed.state_number = final_states.state_number
            )
        )

),

voided as (

    select
        stored.transaction_id,
        stored.entry_index,
        stored.profile_id,
        stored.rule_name,
        stored.expectation_id,
        stored.source_entry_id,
        stored.target_entry_id,
        'VOID' as transaction_status,
        stored.account_id,
        stored.direction,
        stored.amount_minor,
        stored.currency,
        'VOID' as status,
        stored.effective_at,
        stored.event_date,
        md5('VOID') as version_hash,
        latest.version + 1 as version
    from stored
    inner join latest
        on latest.transaction_id = stored.transaction_id
        and latest.version = stored.version
    anti join proposed
        on proposed.transaction_id = stored.transaction_id
    where latest.transaction_status <> 'VOID'
        and latest.run_window_end <= {{ window_end() }}

),
{% else %}
to_append as (

    select
        proposed.*,
        proposed.state_number as version
    from proposed

),
{% endif %}

new_versions as (

    select * exclude (proposed_entry_id, state_number) from to_append
    {% if is_incremental() -%}
    union all by name
    select * from voided
    {%- endif %}

)

select
    -- ids
    transaction_id || '@' || version || '#' || entry_index as ledger_entry_version_id,
    transaction_id || '#' || entry_index as transaction_entry_id,
    transaction_id,
    version,
    entry_index,
    profile_id,
    rule_name,
    expectation_id,
    source_entry_id,
    target_entry_id,
    account_id,

    -- amounts
    direction,
    amount_minor,
    currency,
    status,
    transaction_status,
    -- the rate a match across currencies used (units of the settlement currency per unit of the source's)
    fx_rate,

    -- timestamps
    effective_at,
    {{ recorded_at }} as recorded_at,
    event_date,
    version_hash,
    {{ window_start() }} as run_window_start,
    {{ window_end() }} as run_window_end
from new_versions
