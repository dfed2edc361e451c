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
        'stripe_clearing' as account_name,

        -- amounts: Stripe signs amounts (refunds are negative); entries carry a direction
        abs(amount) as amount_minor,
        fee as fee_minor,
        upper(currency) as currency,
        case when amount < 0 then 'CREDIT' else 'DEBIT' end as direction,
        status,

        -- timestamps
        created as effective_at,
        {{ business_date('created', "coalesce(profiles.timezone, 'UTC')") }} as business_date,

        -- references
        json_extract_string(metadata, '$.order_id') as order_ref,
        source.source as charge_ref,
        cast(null as varchar) as payout_ref,
        lower(json_extract_string(metadata, '$.customer_email')) as customer_email,
        json_merge_patch(
            coalesce(metadata, '{}'),
            json_object(
                'reporting_category', reporting_category,
                'available_on', available_on,
                'net', net,
                'description', description
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
