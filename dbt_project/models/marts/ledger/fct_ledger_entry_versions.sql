{#- The append-only ledger. A run appends a new version of every transaction whose state
    changed (an expectation created, posted by a match, re-pointed to another counterpart) and a
    VOID version of every live transaction no rule proposes any more; nothing is updated in
    place, so the versions are the audit trail. `recorded_at` is when the run learned it.

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

changed as (

    select
        proposed.* exclude (ingested_at),
        coalesce(latest.version, 0) + 1 as version
    from proposed
    left join latest
        on latest.transaction_id = proposed.transaction_id
    where (latest.transaction_id is null or latest.version_hash <> proposed.version_hash)
        and (latest.run_window_end is null or latest.run_window_end <= {{ window_end() }})

),

voided as (

    select
        stored.transaction_entry_id,
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

new_versions as (

    select * from changed
    union all by name
    select * from voided

)
{% else %}
new_versions as (

    select
        proposed.* exclude (ingested_at),
        1 as version
    from proposed

)
{% endif %}

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

    -- timestamps
    effective_at,
    {{ recorded_at }} as recorded_at,
    event_date,
    version_hash,
    {{ window_start() }} as run_window_start,
    {{ window_end() }} as run_window_end
from new_versions
