{#- Bank statement entries (camt.053) as staging entries on the profile's `bank` account. A
    statement speaks from the customer's side: money in (CRDT) is a DEBIT to our bank asset
    account, money out (DBIT) a CREDIT. The remittance text is the description: a processor's
    payout reference appears there, and rules read it from there. -#}
with

source as (

    select * from {{ source('raw_bank', 'camt053') }}

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
        -- the bank's own reference, else the entry's, else where the entry sits in its file
        coalesce(
            source.account_servicer_ref,
            source.entry_ref,
            source.statement_id || ':' || source._source_row
        ) as bank_entry_id,
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
        _profile_id || ':camt053:' || bank_entry_id as entry_id,
        'camt053' as source_name,
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
        lower(status) as status,

        -- timestamps: a booking date is midnight in the profile's time zone, a booking time is UTC
        coalesce(
            booked_at,
            timezone('UTC', timezone(time_zone, cast(booking_date as timestamp)))
        ) as effective_at,
        coalesce(booking_date, {{ business_date('booked_at', 'time_zone') }}) as business_date,

        -- references
        cast(null as varchar) as order_ref,
        cast(null as varchar) as charge_ref,
        cast(null as varchar) as payout_ref,
        cast(null as varchar) as customer_email,
        remittance_information as description,
        json_object(
            'statement_id', statement_id,
            'account_iban', account_iban,
            'value_date', value_date,
            'end_to_end_id', end_to_end_id,
            'debtor_name', debtor_name,
            'bank_transaction_code', bank_transaction_code,
            'entry_ref', entry_ref,
            'additional_information', additional_information
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from entries

)

select * from renamed
