{#- Adyen's Settlement details report as staging entries. Every journal entry of a payout batch
    (Settled, Refunded, Chargeback, Fee, Balancetransfer, ...) moves money on the profile's
    `adyen_clearing` account (what Adyen holds for the merchant); the batch's MerchantPayout
    sweeps it to the bank and is money in transit on `adyen_payouts`, as a Stripe payout is on
    `stripe_payouts`. Every row names its batch (`batch:<n>`), which is how the lines of a batch
    find the payout that pays them out. The report gives unsigned debits and credits; entries
    carry the magnitude and a direction. -#}
with

source as (

    select * from {{ source('raw_adyen', 'adyen_settlement_details') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

journal as (

    select
        source.*,
        coalesce(profiles.timezone, 'UTC') as time_zone_name,
        -- the journal type in snake case: MerchantPayout -> merchant_payout
        lower(regexp_replace(source.type, '([a-z])([A-Z])', '\1_\2', 'g')) as journal_type,
        {{ to_minor_units(
            'coalesce(source.net_credit, 0) - coalesce(source.net_debit, 0)', 'currencies.minor_units'
        ) }} as signed_net_minor,
        -- the costs Adyen withheld, whichever pricing fills them (blended: the commission;
        -- Interchange++: markup, scheme fees and interchange)
        {{ to_minor_units(
            'coalesce(source.commission, 0) + coalesce(source.markup, 0)
                + coalesce(source.scheme_fees, 0) + coalesce(source.interchange, 0)',
            'currencies.minor_units'
        ) }} as cost_minor
    from source
    inner join currencies
        on currencies.currency_code = upper(source.net_currency)
    left join profiles
        on profiles.profile_id = source._profile_id

),

renamed as (

    select
        -- ids: a journal entry is known by its batch, type and references, so the same batch
        -- report landed twice repeats its ids
        _file_id || ':' || _source_row as staging_row_id,
        _profile_id || ':adyen_settlement_details:'
            || concat_ws(':', merchant_account, batch_number, type, psp_reference, modification_reference)
            as entry_id,
        'adyen_settlement_details' as source_name,
        concat_ws(':', merchant_account, batch_number, type, psp_reference, modification_reference)
            as source_entry_id,
        journal_type as entry_type,
        _profile_id as profile_id,
        -- the payout leaves Adyen for the bank: it is money in transit
        case when journal_type = 'merchant_payout' then 'adyen_payouts' else 'adyen_clearing' end as account_name,

        -- amounts: the net plus the costs withheld is the gross in the settlement currency (the
        -- Gross itself when the payment was in that currency; for a chargeback the costs come
        -- on top of the amount taken back)
        abs(signed_net_minor + cost_minor) as amount_minor,
        cost_minor as fee_minor,
        -- signed from Adyen's balance point of view; a payout's net is what the money in transit
        -- account receives
        case when journal_type = 'merchant_payout' then abs(signed_net_minor) else signed_net_minor end as net_minor,
        upper(net_currency) as currency,
        -- money into the balance is a DEBIT to it, money out a CREDIT; a payout is a DEBIT to the
        -- money in transit
        case
            when journal_type = 'merchant_payout' then 'DEBIT'
            when signed_net_minor + cost_minor >= 0 then 'DEBIT'
            else 'CREDIT'
        end as direction,
        -- every row of the report is booked to its batch
        'booked' as status,

        -- timestamps: the report's local time and zone, read as UTC at ingest
        created_at as effective_at,
        {{ business_date('created_at', 'time_zone_name') }} as business_date,

        -- references
        merchant_reference as order_ref,
        psp_reference as charge_ref,
        'batch:' || batch_number as payout_ref,
        cast(null as varchar) as customer_email,
        -- a payout's Modification Reference is the text Adyen sends the bank (TX...XT batch <n>,
        -- <merchant account>); other rows are described by the merchant's own reference
        case
            when journal_type = 'merchant_payout' then modification_reference
            else coalesce(modification_merchant_reference, modification_reference)
        end as description,
        json_object(
            'type', type,
            'company_account', company_account,
            'merchant_account', merchant_account,
            'batch_number', batch_number,
            'payment_method', payment_method,
            'payment_method_variant', payment_method_variant,
            'modification_reference', modification_reference,
            'modification_merchant_reference', modification_merchant_reference,
            'gross_currency', gross_currency,
            'gross_debit', gross_debit,
            'gross_credit', gross_credit,
            'exchange_rate', exchange_rate,
            'net_debit', net_debit,
            'net_credit', net_credit,
            'commission', commission,
            'markup', markup,
            'scheme_fees', scheme_fees,
            'interchange', interchange,
            'time_zone', time_zone
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from journal

)

select * from renamed
