{#- One staging entry per order, and one per refund recorded on an order. Only the first row of
    an order in the export carries its totals, so line-item rows are left out here. -#}
with

source as (

    select * from {{ source('raw', 'shopify_orders') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

orders as (

    select
        source.*,
        currencies.minor_units,
        profiles.timezone
    from source
    inner join currencies
        on currencies.currency_code = upper(source.currency)
    left join profiles
        on profiles.profile_id = source._profile_id
    where source.total is not null

),

money_events as (

    -- an order is owed by the customer; a refund on it is owed back
    select
        orders.*,
        'order' as entry_type,
        'order' as entry_suffix,
        orders.total as event_amount,
        'DEBIT' as direction
    from orders

    union all

    select
        orders.*,
        'refund' as entry_type,
        'refund' as entry_suffix,
        orders.refunded_amount as event_amount,
        'CREDIT' as direction
    from orders
    where orders.refunded_amount > 0

),

renamed as (

    select
        -- ids
        _file_id || ':' || _source_row || ':' || entry_suffix as staging_row_id,
        _profile_id || ':shopify_orders:' || name
            || case when entry_type = 'refund' then ':refund' else '' end as entry_id,
        'shopify_orders' as source_name,
        name as source_entry_id,
        entry_type,
        _profile_id as profile_id,
        'shopify_receivable' as account_name,

        -- amounts
        {{ to_minor_units('event_amount', 'minor_units') }} as amount_minor,
        cast(0 as bigint) as fee_minor,
        case when direction = 'DEBIT' then 1 else -1 end
            * {{ to_minor_units('event_amount', 'minor_units') }} as net_minor,
        upper(currency) as currency,
        direction,
        lower(financial_status) as status,

        -- timestamps
        created_at as effective_at,
        {{ business_date('created_at', "coalesce(timezone, 'UTC')") }} as business_date,

        -- references
        name as order_ref,
        cast(null as varchar) as charge_ref,
        cast(null as varchar) as payout_ref,
        lower(email) as customer_email,
        cast(null as varchar) as description,
        json_object(
            'shopify_order_id', id,
            'payment_method', payment_method,
            'payment_reference', payment_reference,
            'fulfillment_status', fulfillment_status,
            'tags', tags
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from money_events

)

select * from renamed
