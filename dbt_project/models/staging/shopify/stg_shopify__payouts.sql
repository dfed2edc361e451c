{#- The Shopify Payments transactions export as staging entries. Charges, refunds, disputes,
    adjustments and reserves move money on the profile's `shopify_payments_clearing` account
    (what Shopify Payments holds for the shop); a payout sweeps it to the bank and is money in
    transit on `shopify_payments_payouts`, as a Stripe payout is on `stripe_payouts`. Every row
    names the payout it was paid out in once it is paid out. The export signs amounts from the
    balance's point of view; entries carry the magnitude and a direction. -#}
with

source as (

    select * from {{ source('raw', 'shopify_payouts') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

transactions as (

    select
        source.*,
        coalesce(profiles.timezone, 'UTC') as time_zone_name,
        lower(source.type) as transaction_type,
        {{ to_minor_units('source.amount', 'currencies.minor_units') }} as signed_amount_minor,
        {{ to_minor_units('coalesce(source.fee, 0)', 'currencies.minor_units') }} as fee_minor,
        {{ to_minor_units('source.net', 'currencies.minor_units') }} as signed_net_minor,
        -- the export has no transaction id: a row is known by what does not change when it is
        -- paid out (its type, order or checkout, time, amount and currency); a payout by its id
        case
            when lower(source.type) = 'payout' and source.payout_id is not null then 'payout:' || source.payout_id
            else concat_ws(
                '|',
                lower(source.type),
                coalesce(source.order_name, source.checkout),
                strftime(source.transaction_date, '%Y-%m-%dT%H:%M:%S'),
                cast(source.amount as varchar),
                upper(source.currency)
            )
        end as transaction_key
    from source
    inner join currencies
        on currencies.currency_code = upper(source.currency)
    left join profiles
        on profiles.profile_id = source._profile_id

),

renamed as (

    select
        -- ids
        _file_id || ':' || _source_row as staging_row_id,
        _profile_id || ':shopify_payouts:' || transaction_key as entry_id,
        'shopify_payouts' as source_name,
        transaction_key as source_entry_id,
        transaction_type as entry_type,
        _profile_id as profile_id,
        -- a payout leaves the balance for the bank: it is money in transit
        case
            when transaction_type = 'payout' then 'shopify_payments_payouts'
            else 'shopify_payments_clearing'
        end as account_name,

        -- amounts: signed from the balance's point of view; a payout's net is what the money in
        -- transit account receives
        abs(signed_amount_minor) as amount_minor,
        fee_minor,
        case when transaction_type = 'payout' then -signed_net_minor else signed_net_minor end as net_minor,
        upper(currency) as currency,
        case when signed_amount_minor < 0 and transaction_type <> 'payout' then 'CREDIT' else 'DEBIT' end as direction,
        lower(payout_status) as status,

        -- timestamps
        transaction_date as effective_at,
        {{ business_date('transaction_date', 'time_zone_name') }} as business_date,

        -- references
        order_name as order_ref,
        checkout as charge_ref,
        payout_id as payout_ref,
        cast(null as varchar) as customer_email,
        payment_method_name as description,
        json_object(
            'type', type,
            'card_brand', card_brand,
            'card_source', card_source,
            'payout_status', payout_status,
            'payout_date', payout_date,
            'available_on', available_on,
            'amount', amount,
            'fee', fee,
            'net', net,
            'presentment_amount', presentment_amount,
            'presentment_currency', presentment_currency,
            'payment_method_name', payment_method_name
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from transactions

)

select * from renamed
