{#- The append-only ledger. Each run appends a new version of a transaction whose state changed
    (an expectation created, an expectation posted by a match); nothing is updated in place, so
    the versions are the audit trail. Only transactions whose latest event falls inside the run's
    window [min_date, max_date) are considered, and re-running a window appends nothing: a
    version is written only when it differs from the latest one stored and is not older
    knowledge than it. Strategy: append; key: (transaction_id, version, entry_index). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
with

proposed as (

    select * from {{ ref('int_ledger_transactions_proposed') }}
    where event_date >= {{ window_start() }}
        and event_date < {{ window_end() }}

),

{% if is_incremental() %}
latest as (

    select
        transaction_id,
        max(version) as version,
        arg_max(version_hash, version) as version_hash,
        max(recorded_at) as recorded_at
    from {{ this }}
    group by transaction_id

),
{% endif %}

new_versions as (

    select
        proposed.*,
        {% if is_incremental() -%}
        coalesce(latest.version, 0) + 1 as version
        {%- else -%}
        1 as version
        {%- endif %}
    from proposed
    {% if is_incremental() -%}
    left join latest
        on latest.transaction_id = proposed.transaction_id
    where latest.transaction_id is null
        or (
            latest.version_hash <> proposed.version_hash
            and proposed.recorded_at >= latest.recorded_at
        )
    {%- endif %}

)

select
    -- ids
    transaction_id || '@' || version || '#' || entry_index as ledger_entry_version_id,
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
    recorded_at,
    event_date,
    version_hash,
    {{ window_start() }} as run_window_start,
    {{ window_end() }} as run_window_end
from new_versions
