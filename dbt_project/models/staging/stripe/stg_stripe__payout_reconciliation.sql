{#- Which payout settled each Stripe balance transaction, from the itemized payout
    reconciliation report. A reference table, not entries: one row per balance transaction; when
    a transaction appears in several reports, the row of the report ingested last wins. -#}
with

source as (

    select * from {{ source('raw_stripe', 'stripe_payout_reconciliation') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by _profile_id, balance_transaction_id
        order by _ingested_at desc, _source_file desc, _source_row desc
    ) = 1

),

renamed as (

    select
        -- ids
        latest._profile_id as profile_id,
        latest.balance_transaction_id,
        latest.automatic_payout_id as payout_id,
        latest.reporting_category,

        -- amounts: the report gives major units; exact decimal times an integer power of ten
        {{ to_minor_units('latest.net', 'currencies.minor_units') }} as net_minor,
        upper(latest.currency) as currency,

        -- timestamps (UTC)
        coalesce(latest.automatic_payout_effective_at_utc, latest.automatic_payout_effective_at)
            as payout_effective_at,

        -- lineage
        latest._source_file as source_file,
        latest._source_row as source_row,
        latest._ingested_at as ingested_at
    from latest
    inner join currencies
        on currencies.currency_code = upper(latest.currency)

)

select * from renamed
