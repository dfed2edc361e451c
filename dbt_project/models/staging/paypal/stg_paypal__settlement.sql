{#- PayPal Settlement report (STL) rows as staging entries, with the semantics of the activity
    download (stg_paypal__activity), so that the PayPal rules read either: payments and refunds
    move money on the profile's `paypal_clearing` account (the PayPal balance); a withdrawal
    sweeps the balance to the bank and is money in transit on `paypal_withdrawals`. The report
    writes unsigned amounts in hundredths of a unit of their currency with a CR/DR side; entries
    carry minor units of the currency, the magnitude and a direction. The transaction event code
    says what a row is: T00xx a payment (received when CR), T1107 a payment refund, T04xx a
    withdrawal to a bank account; anything else (fees, conversions, holds, reversals) is other. -#}
with

source as (

    select * from {{ source('raw_paypal', 'paypal_settlement') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

settlement as (

    select
        source.*,
        coalesce(profiles.timezone, 'UTC') as time_zone_name,
        -- the report writes hundredths whatever the currency: 150000 is 1500 JPY, 10000 is 100.00 EUR
        case when source.debit_or_credit = 'CR' then 1 else -1 end
            * (source.gross_amount * cast(pow(10, currencies.minor_units) as bigint) // 100) as gross_minor,
        case source.fee_debit_or_credit when 'DR' then -1 when 'CR' then 1 else 0 end
            * (coalesce(source.fee_amount, 0) * cast(pow(10, currencies.minor_units) as bigint) // 100)
            as signed_fee_minor,
        case
            when source.event_code like 'T00%' and source.debit_or_credit = 'CR' then 'payment'
            when source.event_code = 'T1107' then 'refund'
            when source.event_code like 'T04%' then 'withdrawal'
            else 'other'
        end as activity_type
    from source
    inner join currencies
        on currencies.currency_code = upper(source.gross_currency)
    left join profiles
        on profiles.profile_id = source._profile_id

),

renamed as (

    select
        -- ids
        _file_id || ':' || _source_row as staging_row_id,
        _profile_id || ':paypal_settlement:' || transaction_id as entry_id,
        'paypal_settlement' as source_name,
        transaction_id as source_entry_id,
        activity_type as entry_type,
        _profile_id as profile_id,
        -- a withdrawal leaves the PayPal balance for the bank: it is money in transit
        case when activity_type = 'withdrawal' then 'paypal_withdrawals' else 'paypal_clearing' end as account_name,

        -- amounts: signed from the balance's point of view (net = gross and fee, each on its
        -- side); a withdrawal's net is what the money in transit account receives
        abs(gross_minor) as amount_minor,
        abs(signed_fee_minor) as fee_minor,
        case
            when activity_type = 'withdrawal' then abs(gross_minor + signed_fee_minor)
            else gross_minor + signed_fee_minor
        end as net_minor,
        upper(gross_currency) as currency,
        -- money into the balance (CR) is a DEBIT to it, money out (DR) a CREDIT; a withdrawal is
        -- a DEBIT to the money in transit
        case
            when activity_type = 'withdrawal' then 'DEBIT'
            when debit_or_credit = 'CR' then 'DEBIT'
            else 'CREDIT'
        end as direction,
        -- a settlement report lists what was settled
        'completed' as status,

        -- timestamps: the report's times carry their offset, read as UTC at ingest
        initiated_at as effective_at,
        {{ business_date('initiated_at', 'time_zone_name') }} as business_date,

        -- references
        invoice_id as order_ref,
        case
            when activity_type = 'payment' then transaction_id
            -- a refund refers to the payment it pays back
            when activity_type = 'refund' then paypal_reference_id
        end as charge_ref,
        case when activity_type = 'withdrawal' then transaction_id end as payout_ref,
        -- the Consumer ID is the payer's email address when PayPal knows one
        case when consumer_id like '%@%' then lower(consumer_id) end as customer_email,
        custom_field as description,
        json_object(
            'event_code', event_code,
            'debit_or_credit', debit_or_credit,
            'gross_amount', gross_amount,
            'fee_debit_or_credit', fee_debit_or_credit,
            'fee_amount', fee_amount,
            'paypal_reference_id', paypal_reference_id,
            'paypal_reference_id_type', paypal_reference_id_type,
            'completed_at', completed_at,
            'consumer_id', consumer_id,
            'custom_field', custom_field,
            'account_id', account_id,
            'payment_tracking_id', payment_tracking_id,
            'store_id', store_id,
            'bank_reference_id', bank_reference_id
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from settlement

)

select * from renamed
