{#- The daily reconciliation: per profile, business date, rule, side and currency, how many
    entries (and how much money) matched (of which within a tolerance rather than exactly), are
    still open, or are exceptions. -#}
with

outcomes as (

    -- copies of a record (deduplicated, superseded) are not money events of their own
    select * from {{ ref('int_entries_reconciled') }}
    where status in ('matched', 'open', 'exception')

),

profiles as (

    select * from {{ ref('profiles') }}

),

daily as (

    select
        profile_id,
        business_date,
        coalesce(rule_name, 'no_rule') as rule_name,
        side,
        currency,
        count(*) as entries,
        count(*) filter (where status = 'matched') as matched_entries,
        count(*) filter (where status = 'matched' and is_within_tolerance) as matched_within_tolerance_entries,
        count(*) filter (where status = 'open') as open_entries,
        count(*) filter (where status = 'exception') as exception_entries,
        sum(amount_minor) as amount_minor,
        coalesce(sum(amount_minor) filter (where status = 'matched'), 0) as matched_amount_minor,
        coalesce(sum(amount_minor) filter (where status = 'open'), 0) as open_amount_minor,
        coalesce(sum(amount_minor) filter (where status = 'exception'), 0) as exception_amount_minor
    from outcomes
    group by all

)

select
    -- ids
    md5(
        daily.profile_id || '|' || daily.business_date || '|' || daily.rule_name || '|'
        || daily.side || '|' || daily.currency
    ) as daily_reconciliation_id,
    profiles.organization_id,
    profiles.merchant_id,
    daily.profile_id,
    daily.business_date,
    daily.rule_name,
    daily.side,
    daily.currency,

    -- counts
    daily.entries,
    daily.matched_entries,
    daily.matched_within_tolerance_entries,
    daily.open_entries,
    daily.exception_entries,

    -- amounts
    daily.amount_minor,
    daily.matched_amount_minor,
    daily.open_amount_minor,
    daily.exception_amount_minor,
    round(daily.matched_entries / daily.entries, 4) as match_rate
from daily
left join profiles
    on profiles.profile_id = daily.profile_id
