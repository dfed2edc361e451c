{#- The trial balance per profile, business day, currency and status: the accounts' closing
    balances at the end of the day, debit balances and credit balances apart. Every transaction
    balances per currency, so the two totals are equal and `difference_minor` is zero on every
    row (a data test holds it to that). -#}
with

balances as (

    select * from {{ ref('mart_daily_balances') }}

)

select
    profile_id || '|' || business_date || '|' || currency || '|' || status as trial_balance_id,
    profile_id,
    business_date,
    currency,
    status,
    coalesce(sum(closing_minor) filter (where closing_minor > 0), 0) as debit_balances_minor,
    coalesce(-sum(closing_minor) filter (where closing_minor < 0), 0) as credit_balances_minor,
    coalesce(sum(closing_minor), 0) as difference_minor,
    count(*) filter (where closing_minor <> 0) as accounts_with_balance
from balances
group by all
