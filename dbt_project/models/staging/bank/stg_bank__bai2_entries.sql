{#- BAI2 transaction details (16 records) as staging entries on the profile's `bank` account,
    in the shape and with the meaning of the camt.053 entries: money in (a credit type code) is
    a DEBIT to our bank asset account, money out a CREDIT. The transaction's text is the
    description: a processor's payout reference appears there, and rules read it from there. -#}
with

source as (

    select * from {{ source('raw_bank', 'bai2') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

entries as (

    select
        source.*,
        coalesce(profiles.timezone, 'UTC') as time_zone,
        case when source.credit_debit = 'CRDT' then 'DEBIT' else 'CREDIT' end as direction,
        -- the bank's reference when it names one transaction of its file, else where the
        -- transaction sits: its account, as-of date and line (a file sent again repeats both)
        case
            when source.bank_reference is not null
                and count(*) over (partition by source._file_id, source.bank_reference) = 1
                then source.bank_reference
            else concat_ws(':', source.account_id, source.booking_date, source._source_row)
        end as bank_entry_id,
        {{ to_minor_units('source.amount', 'currencies.minor_units') }} as entry_amount_minor
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
        _profile_id || ':bai2:' || bank_entry_id as entry_id,
        'bai2' as source_name,
        bank_entry_id as source_entry_id,
        case when credit_debit = 'CRDT' then 'bank_credit' else 'bank_debit' end as entry_type,
        _profile_id as profile_id,
        'bank' as account_name,

        -- amounts
        entry_amount_minor as amount_minor,
        cast(0 as bigint) as fee_minor,
        case when direction = 'DEBIT' then entry_amount_minor else -entry_amount_minor end as net_minor,
        upper(currency) as currency,
        direction,
        -- a report's transaction details are booked
        'book' as status,

        -- timestamps: the as-of date is midnight in the profile's time zone
        timezone('UTC', timezone(time_zone, cast(booking_date as timestamp))) as effective_at,
        booking_date as business_date,

        -- references
        cast(null as varchar) as order_ref,
        cast(null as varchar) as charge_ref,
        cast(null as varchar) as payout_ref,
        cast(null as varchar) as customer_email,
        text as description,
        json_object(
            'originator_id', originator_id,
            'account_id', account_id,
            'value_date', value_date,
            'type_code', type_code,
            'funds_type', funds_type,
            'bank_reference', bank_reference,
            'customer_reference', customer_reference
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from entries

)

select * from renamed
