{#- The balance movements summed per account, status, effective date (UTC) and recording run:
    the daily checkpoints a point-in-time balance is built from. A balance at effective time T as
    known at K is the sum of the totals of the days before T's date recorded by K, plus the
    movements of T's own date up to T (fct_balance_movements), so a query reads a few rows per
    day of an account's history instead of every entry. Incremental (append): each run adds the
    totals of its own movements (one `recorded_at` per run). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
with

movements as (

    select * from {{ ref('fct_balance_movements') }}
    {%- if is_incremental() %}
    where recorded_at > (select coalesce(max(recorded_at), timestamp '1900-01-01') from {{ this }})
    {%- endif %}

)

select
    account_id || '|' || status || '|' || effective_date || '|' || strftime(recorded_at, '%Y-%m-%dT%H:%M:%S.%f')
        as balance_day_total_id,
    account_id,
    status,
    effective_date,
    recorded_at,
    sum(amount_minor) as amount_minor,
    count(*) as movement_count
from movements
group by all
order by account_id, effective_date
