{#- Per account, status and business day (the date in the profile's time zone), as the ledger
    stands now: the opening balance, the day's debits and credits, and the closing balance. Every
    day from the profile's first movement to its last is present, so a balance can be read for
    any day. Balances are debit-positive (`*_minor`) and on the account's normal side
    (`closing_normal_minor`: a CREDIT-normal account's credit balance is positive). -#}
with

movements as (

    select * from {{ ref('fct_balance_movements') }}

),

accounts as (

    select * from {{ ref('int_accounts') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

daily as (

    select
        movements.account_id,
        movements.status,
        {{ business_date('movements.effective_at', "coalesce(profiles.timezone, 'UTC')") }} as business_date,
        sum(movements.amount_minor) filter (where movements.amount_minor > 0) as debits_minor,
        -sum(movements.amount_minor) filter (where movements.amount_minor < 0) as credits_minor,
        sum(movements.amount_minor) as net_minor,
        count(*) as movement_count
    from movements
    inner join accounts
        on accounts.account_id = movements.account_id
    left join profiles
        on profiles.profile_id = accounts.profile_id
    group by all

),

profile_days as (

    select
        accounts.profile_id,
        min(daily.business_date) as first_day,
        max(daily.business_date) as last_day
    from daily
    inner join accounts
        on accounts.account_id = daily.account_id
    group by accounts.profile_id

),

spine as (

    select distinct
        daily.account_id,
        daily.status,
        cast(day.day as date) as business_date
    from daily
    inner join accounts
        on accounts.account_id = daily.account_id
    inner join profile_days
        on profile_days.profile_id = accounts.profile_id,
        unnest(generate_series(profile_days.first_day, profile_days.last_day, interval 1 day)) as day(day)

),

balances as (

    select
        spine.account_id,
        spine.status,
        spine.business_date,
        coalesce(daily.debits_minor, 0) as debits_minor,
        coalesce(daily.credits_minor, 0) as credits_minor,
        coalesce(daily.movement_count, 0) as movement_count,
        sum(coalesce(daily.net_minor, 0)) over (
            partition by spine.account_id, spine.status
            order by spine.business_date
        ) as closing_minor
    from spine
    left join daily
        on daily.account_id = spine.account_id
        and daily.status = spine.status
        and daily.business_date = spine.business_date

)

select
    balances.account_id || '|' || balances.status || '|' || balances.business_date as daily_balance_id,
    accounts.profile_id,
    accounts.merchant_id,
    accounts.organization_id,
    balances.account_id,
    accounts.account_name,
    accounts.purpose,
    accounts.currency,
    accounts.normal_side,
    balances.status,
    balances.business_date,
    balances.closing_minor - balances.debits_minor + balances.credits_minor as opening_minor,
    balances.debits_minor,
    balances.credits_minor,
    balances.closing_minor,
    case when accounts.normal_side = 'DEBIT' then balances.closing_minor else -balances.closing_minor end
        as closing_normal_minor,
    balances.movement_count
from balances
inner join accounts
    on accounts.account_id = balances.account_id
