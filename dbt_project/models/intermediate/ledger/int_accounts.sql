{#- The chart of accounts of every profile: the default chart (seeds/account_defaults.csv) in
    each currency the profile declares (seeds/profiles.csv, `currencies`), with a profile's own
    accounts (seeds/accounts.csv) added, or replacing a default of the same name and currency.
    An account holds one currency; its id is `<profile>:<name>:<currency>`. -#}
with

defaults as (

    select * from {{ ref('account_defaults') }}

),

profile_accounts as (

    select * from {{ ref('accounts') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

profile_currencies as (

    select distinct
        profiles.profile_id,
        upper(trim(currency.code)) as currency
    from profiles,
        unnest(string_split(trim(profiles.currencies), ' ')) as currency(code)
    where trim(currency.code) <> ''

),

default_chart as (

    select
        profile_currencies.profile_id,
        defaults.account_name,
        profile_currencies.currency,
        defaults.purpose,
        defaults.normal_side,
        defaults.description || ' (' || profile_currencies.currency || ')' as description,
        true as is_default
    from profile_currencies
    cross join defaults

),

own_chart as (

    select
        profile_id,
        account_name,
        upper(currency) as currency,
        purpose,
        normal_side,
        description,
        false as is_default
    from profile_accounts

),

chart as (

    select * from own_chart
    union all
    select * from default_chart
    anti join own_chart
        on own_chart.profile_id = default_chart.profile_id
        and own_chart.account_name = default_chart.account_name
        and own_chart.currency = default_chart.currency

)

select
    chart.profile_id || ':' || chart.account_name || ':' || chart.currency as account_id,
    chart.profile_id,
    chart.account_name,
    chart.currency,
    chart.purpose,
    chart.normal_side,
    chart.description,
    chart.is_default,
    profiles.merchant_id,
    profiles.organization_id
from chart
left join profiles
    on profiles.profile_id = chart.profile_id
