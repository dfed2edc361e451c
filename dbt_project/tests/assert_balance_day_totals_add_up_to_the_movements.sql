-- the checkpoints hold exactly the movements: per account and status, their sums agree
with

totals as (

    select account_id, status, sum(amount_minor) as amount_minor, sum(movement_count) as movements
    from {{ ref('fct_balance_day_totals') }}
    group by all

),

movements as (

    select account_id, status, sum(amount_minor) as amount_minor, count(*) as movements
    from {{ ref('fct_balance_movements') }}
    group by all

)

select *
from totals
full join movements using (account_id, status)
where totals.amount_minor is distinct from movements.amount_minor
    or totals.movements is distinct from movements.movements
