{#- Every staging entry in one shape, with its account and tenancy resolved. A record seen
    again (the same id in the same source: a re-delivered webhook, an overlapping export) is
    kept as a copy: deduplicated when identical to the live one, superseded when a later copy
    changed it. Copies take no part in matching; neither does an entry whose account (name and
    currency) is not in the profile's chart of accounts. Only entries of business dates before
    the window's end are visible, so a run sees the world as it was known up to its last
    business date. A Stripe balance transaction learns the payout it was paid out in from the
    payout reconciliation reports and, when it names its charge only by id, the charge's order id
    and e-mail from the charges list; a refund or a dispute learns the order of its charge
    (`charge_order_ref`), which the refund rules take as their fallback identifier. -#}
with

staged as (

    select * from {{ ref('stg_shopify__orders') }}
    union all by name
    select * from {{ ref('stg_stripe__balance_transactions') }}
    union all by name
    select * from {{ ref('stg_bank__camt053_entries') }}
    union all by name
    select * from {{ ref('stg_bank__mt940_entries') }}
    union all by name
    select * from {{ ref('stg_bank__bai2_entries') }}
    union all by name
    select * from {{ ref('stg_paypal__activity') }}
    union all by name
    select * from {{ ref('stg_adyen__settlement_details') }}
    union all by name
    select * from {{ ref('stg_paypal__settlement') }}
    union all by name
    select * from {{ ref('stg_shopify__payouts') }}
    union all by name
    select * from {{ ref('stg_configured__entries') }}

),

payout_links as (

    -- the payout each Stripe balance transaction was paid out in, from the payout reports
    select * from {{ ref('stg_stripe__payout_reconciliation') }}

),

charge_links as (

    -- the order id and e-mail of each Stripe charge, from the charges list
    select * from {{ ref('stg_stripe__charges') }}

),

accounts as (

    select * from {{ ref('int_accounts') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

linked as (

    select
        staged.* replace (
            coalesce(staged.payout_ref, payout_links.payout_id) as payout_ref,
            -- a charge's own order id and e-mail, when its balance transaction named it by id
            case
                when staged.entry_type in ('charge', 'payment') then coalesce(staged.order_ref, charge_links.order_ref)
                else staged.order_ref
            end as order_ref,
            case
                when staged.entry_type in ('charge', 'payment')
                    then coalesce(staged.customer_email, charge_links.customer_email)
                else staged.customer_email
            end as customer_email,
            -- the order of the charge a refund or a dispute belongs to, from the charges list
            coalesce(staged.charge_order_ref, charge_links.order_ref) as charge_order_ref
        )
    from staged
    left join payout_links
        on payout_links.profile_id = staged.profile_id
        and payout_links.balance_transaction_id = staged.source_entry_id
        and staged.source_name = 'stripe_balance_transactions'
    left join charge_links
        on charge_links.profile_id = staged.profile_id
        and charge_links.charge_id = staged.charge_ref
        and staged.source_name = 'stripe_balance_transactions'
    where staged.business_date < {{ window_end() }}

),

charge_orders as (

    -- the order of each Stripe charge as its own balance transactions name it (a charge captured
    -- in parts has several)
    select
        profile_id,
        charge_ref,
        min(order_ref) as order_ref
    from linked
    where source_name = 'stripe_balance_transactions'
        and entry_type in ('charge', 'payment')
        and order_ref is not null
    group by
        profile_id,
        charge_ref

),

visible as (

    -- a refund or a dispute whose charge the charges list does not give learns its order from
    -- the charge's own balance transaction; a charge's order is its own
    select
        linked.* replace (
            coalesce(linked.charge_order_ref, charge_orders.order_ref) as charge_order_ref
        )
    from linked
    left join charge_orders
        on charge_orders.profile_id = linked.profile_id
        and charge_orders.charge_ref = linked.charge_ref
        and linked.source_name = 'stripe_balance_transactions'

),

copy_counts as (

    select
        entry_id,
        count(*) as copies
    from visible
    group by entry_id

),

single_copies as (

    -- nearly every record is seen once: it is live as it is
    select
        visible.*,
        1 as copy_number,
        visible.raw_hash as live_hash,
        true as is_live,
        cast(null as varchar) as live_location
    from visible
    inner join copy_counts
        on copy_counts.entry_id = visible.entry_id
        and copy_counts.copies = 1

),

copies as (

    -- a record seen again (the same id in the same source) has copies; the first copy of each
    -- distinct content marks when that content was first seen
    select
        visible.*,
        row_number() over (
            partition by visible.entry_id
            order by visible.ingested_at, visible.source_file, visible.source_row
        ) as copy_number,
        min(struct_pack(visible.ingested_at, visible.source_file, visible.source_row)) over (
            partition by visible.entry_id, visible.raw_hash
        ) as content_first_seen
    from visible
    inner join copy_counts
        on copy_counts.entry_id = visible.entry_id
        and copy_counts.copies > 1

),

versions as (

    -- the latest distinct content is live, carried by its first copy; an identical copy is
    -- deduplicated, an older content is superseded
    select
        *,
        arg_max(raw_hash, content_first_seen) over (partition by entry_id) as live_hash
    from copies

),

repeated_copies as (

    select
        * exclude (content_first_seen),
        raw_hash = live_hash
            and struct_pack(ingested_at, source_file, source_row) = content_first_seen as is_live,
        max(
            case
                when raw_hash = live_hash
                    and struct_pack(ingested_at, source_file, source_row) = content_first_seen
                    then source_file || '#' || source_row
            end
        ) over (partition by entry_id) as live_location
    from versions

),

ranked as (

    select * from single_copies
    union all by name
    select * from repeated_copies

)

select
    -- ids
    case
        when ranked.is_live then ranked.entry_id
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
    ranked.net_minor,
    ranked.currency,
    ranked.direction,
    ranked.status,

    -- timestamps
    ranked.effective_at,
    ranked.business_date,

    -- references
    ranked.order_ref,
    ranked.charge_ref,
    ranked.charge_order_ref,
    ranked.payout_ref,
    ranked.customer_email,
    ranked.description,
    ranked.metadata,

    -- what keeps an entry out of matching: being a copy, or an account not in the chart
    case
        when ranked.is_live then 'live'
        when ranked.raw_hash = ranked.live_hash then 'deduplicated'
        else 'superseded'
    end as copy_status,
    not ranked.is_live as is_duplicate,
    case when not ranked.is_live then ranked.live_location end as duplicate_of,
    ranked.is_live and accounts.account_id is not null as is_reconcilable,

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
