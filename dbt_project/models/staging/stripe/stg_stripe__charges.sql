{#- The order id and e-mail of each Stripe charge, from the charges list. A reference table,
    not entries (a charge's money moves in its balance transactions): one row per charge; when a
    charge appears in several lists, the row of the list ingested last wins. -#}
with

source as (

    select * from {{ source('raw_stripe', 'stripe_charges') }}

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by _profile_id, id
        order by _ingested_at desc, _source_file desc, _source_row desc
    ) = 1

),

renamed as (

    select
        -- ids
        _profile_id as profile_id,
        id as charge_id,
        balance_transaction as balance_transaction_id,
        payment_intent as payment_intent_id,

        -- amounts
        amount as amount_minor,
        upper(currency) as currency,
        status,

        -- timestamps
        created as created_at,

        -- references
        order_id as order_ref,
        lower(customer_email) as customer_email,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at
    from latest

)

select * from renamed
