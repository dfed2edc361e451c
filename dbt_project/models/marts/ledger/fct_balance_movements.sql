{#- Every change a ledger version makes to a balance, on both time axes. A version's entries
    count from the moment it was recorded (`recorded_at`), each at its own effective time, and
    the version it replaces stops counting at that same moment: its entries are reversed with
    the new version's `recorded_at` and their own effective time. So the balance of an account
    at effective time T as known at K is the sum of the movements with effective_at <= T and
    recorded_at <= K, whatever happened in between. Amounts are signed debit-positive (a
    CREDIT entry is negative); VOID entries move nothing. Incremental (append): a run adds the
    movements of the versions it appended, and nothing when it appended none. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
with

versions as (

    select * from {{ ref('fct_ledger_entry_versions') }}

),

new_versions as (

    select * from versions
    {%- if is_incremental() %}
    where recorded_at > (select coalesce(max(recorded_at), timestamp '1900-01-01') from {{ this }})
    {%- endif %}

),

replaced_versions as (

    select distinct
        transaction_id,
        version,
        recorded_at
    from new_versions
    where version > 1

),

movements as (

    select
        transaction_id,
        version,
        entry_index,
        account_id,
        status,
        effective_at,
        recorded_at,
        case when direction = 'DEBIT' then amount_minor else -amount_minor end as amount_minor,
        'entry' as movement_kind
    from new_versions
    where status <> 'VOID'

    union all

    select
        previous.transaction_id,
        previous.version,
        previous.entry_index,
        previous.account_id,
        previous.status,
        previous.effective_at,
        replaced_versions.recorded_at,
        case when previous.direction = 'DEBIT' then -previous.amount_minor else previous.amount_minor end,
        'reversal'
    from replaced_versions
    inner join versions as previous
        on previous.transaction_id = replaced_versions.transaction_id
        and previous.version = replaced_versions.version - 1
    where previous.status <> 'VOID'

)

select
    transaction_id || '@' || version || '#' || entry_index || ':' || movement_kind as movement_id,
    account_id,
    status,
    cast(effective_at as date) as effective_date,
    effective_at,
    recorded_at,
    amount_minor,
    movement_kind,
    transaction_id,
    version,
    entry_index
from movements
-- an account's movements together, in effective order: a balance query reads one account's days
order by account_id, effective_at
