{#- Every staging entry in one shape, with its account and tenancy resolved. A record seen
    twice (the same id in the same source) is kept, flagged as a duplicate of the first copy,
    and takes no part in matching; neither does an entry whose account (name and currency) is
    not in the profile's chart of accounts. Only entries of business dates before the window's end are
    visible, so a run sees the world as it was known up to its last business date. -#}
with

staged as (

    select * from {{ ref('stg_shopify__orders') }}
    union all by name
    select * from {{ ref('stg_stripe__balance_transactions') }}

),

accounts as (

    select * from {{ ref('accounts') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

visible as (

    select * from staged
    where business_date < {{ window_end() }}

),

ranked as (

    select
        visible.*,
        row_number() over (
            partition by entry_id
            order by ingested_at, source_file, source_row
        ) as copy_number,
        first_value(source_file || '#' || source_row) over (
            partition by entry_id
            order by ingested_at, source_file, source_row
        ) as first_copy_location
    from visible

)

select
    -- ids
    case
        when ranked.copy_number = 1 then ranked.entry_id
        else ranked.entry_id || '#copy' || ranked.copy_number
    end as entry_id,
    ranked.entry_id as original_entry_id,
    ranked.source_name,
    ranked.source_entry_id,
    ranked.entry_type,
    ranked.profile_id,
    profiles.merchant_id,
    profiles.organization_id,
    ranked.account_name,
    accounts.account_id,

    -- amounts
    ranked.amount_minor,
    ranked.fee_minor,
    ranked.currency,
    ranked.direction,
    ranked.status,

    -- timestamps
    ranked.effective_at,
    ranked.business_date,

    -- references
    ranked.order_ref,
    ranked.charge_ref,
    ranked.payout_ref,
    ranked.customer_email,
    ranked.metadata,

    -- what keeps an entry out of matching: being a repeat, or an account not in the chart
    ranked.copy_number > 1 as is_duplicate,
    case when ranked.copy_number > 1 then ranked.first_copy_location end as duplicate_of,
    ranked.copy_number = 1 and accounts.account_id is not null as is_reconcilable,

    -- lineage
    ranked.source_file,
    ranked.source_row,
    ranked.ingested_at,
    ranked.raw_hash
from ranked
left join profiles
    on profiles.profile_id = ranked.profile_id
left join accounts
    on accounts.profile_id = ranked.profile_id
    and accounts.account_name = ranked.account_name
    and accounts.currency = ranked.currency
