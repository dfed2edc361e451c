{#- The chart of accounts as it applies to every profile, with its place in the organization ->
    merchant -> profile hierarchy. -#}
with

accounts as (

    select * from {{ ref('int_accounts') }}

),

profiles as (

    select * from {{ ref('profiles') }}

)

select
    accounts.account_id,
    accounts.account_name,
    accounts.currency,
    accounts.purpose,
    accounts.normal_side,
    accounts.description,
    accounts.is_default,
    profiles.organization_id,
    profiles.organization_name,
    profiles.merchant_id,
    profiles.merchant_name,
    accounts.profile_id,
    profiles.profile_name
from accounts
left join profiles
    on profiles.profile_id = accounts.profile_id
