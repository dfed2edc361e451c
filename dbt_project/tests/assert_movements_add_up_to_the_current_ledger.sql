-- The movements, on both time axes, end where the ledger stands now: per account and status,
-- their sum is the sum of the current entries (debit-positive).
with

movements as (

    select account_id, status, sum(amount_minor) as amount_minor
    from {{ ref('fct_balance_movements') }}
    group by all

),

current_entries as (

    select
        account_id,
        status,
        sum(case when direction = 'DEBIT' then amount_minor else -amount_minor end) as amount_minor
    from {{ ref('fct_ledger_entries') }}
    where status <> 'VOID'
    group by all

)

select *
from movements
full join current_entries using (account_id, status)
where coalesce(movements.amount_minor, 0) <> coalesce(current_entries.amount_minor, 0)
