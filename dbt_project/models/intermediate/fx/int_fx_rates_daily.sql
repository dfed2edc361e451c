{#- Every calendar day and currency with the reference rate in force that day: the last one
    published on or before it (a weekend's, a holiday's or an N/A day's is the previous business
    day's), so a conversion looks its rate up by equality on (rate_day, currency).

    A rate serves at most `fx_rate_max_age_days` (31) days after it was published: ECB gaps last a
    few days, a month without a rate means the currency is no longer published (or rates stopped
    landing), and a conversion should then find no rate rather than a stale one. The days run from
    the first rate to the window's last day (max_date is exclusive) or the last rate's last day of
    service, whichever comes first; they do not depend on today's date. -#}
{%- set max_age_days = var('fx_rate_max_age_days', 31) %}
with

rates as (

    select
        rate_date,
        currency,
        units_per_eur
    from {{ ref('stg_ecb__reference_rates') }}

),

calendar_bounds as (

    select
        min(rate_date) as first_date,
        least(
            max(rate_date) + {{ max_age_days }},
            {{ window_end() }} - 1
        ) as last_date
    from rates

),

calendar as (

    select cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date) as rate_day
    from calendar_bounds

),

currencies as (

    select distinct currency
    from rates

),

days as (

    select
        calendar.rate_day,
        currencies.currency
    from calendar
    cross join currencies

),

in_force as (

    select
        days.rate_day,
        days.currency,
        rates.units_per_eur,
        rates.rate_date as published_on
    from days
    asof inner join rates
        on rates.currency = days.currency
        and rates.rate_date <= days.rate_day

)

select
    -- ids
    currency || ':' || strftime(rate_day, '%Y-%m-%d') as daily_rate_id,
    rate_day,
    currency,

    -- amounts
    units_per_eur,

    -- dates
    published_on
from in_force
where rate_day - published_on <= {{ max_age_days }}
