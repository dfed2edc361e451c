with

source as (

    select * from {{ source('raw_stripe', 'stripe_balance_transactions') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

renamed as (

    select
        -- ids
        _file_id || ':' || _source_row as staging_row_id,
        _profile_id || ':stripe_balance_transactions:' || id as entry_id,
        'stripe_balance_transactions' as source_name,
        id as source_entry_id,
        type as entry_type,
        _profile_id as profile_id,
        -- a payout leaves the Stripe balance for the bank: it is money in transit
        case when type = 'payout' then 'stripe_payouts' else 'stripe_clearing' end as account_name,

        -- amounts: Stripe signs amounts from its balance's point of view (refunds, disputes and
        -- payouts are negative); entries carry a direction from their account's point of view
        abs(amount) as amount_minor,
        fee as fee_minor,
        case when type = 'payout' then -net else net end as net_minor,
        upper(currency) as currency,
        case when amount < 0 and type <> 'payout' then 'CREDIT' else 'DEBIT' end as direction,
        status,

        -- timestamps
        created as effective_at,
        {{ business_date('created', "coalesce(profiles.timezone, 'UTC')") }} as business_date,

        -- references: what the transaction is about is its source (a charge, refund, dispute,
        -- payout, ...); a charge's order id and e-mail are on the charge, read from the expanded
        -- source here or from the charges list downstream; a refund or a dispute belongs to a
        -- charge, whose order is its own order's fallback
        order_id as order_ref,
        case
            when type = 'payout' then null
            else coalesce(source.charge, source.source)
        end as charge_ref,
        charge_order_id as charge_order_ref,
        -- a payout names itself; the transactions it paid out learn it from the payout reports
        case when type = 'payout' then source.source end as payout_ref,
        lower(source.customer_email) as customer_email,
        source.description,
        json_merge_patch(
            coalesce(source_metadata, '{}'),
            json_object(
                'reporting_category', reporting_category,
                'available_on', available_on,
                'exchange_rate', exchange_rate,
                'net', net,
                'description', description,
                'source_object', source_object,
                'payment_intent', payment_intent
            )
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from source
    left join profiles
        on profiles.profile_id = source._profile_id

)

select * from renamed
