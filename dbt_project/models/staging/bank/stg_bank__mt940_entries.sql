{#- SWIFT MT940 statement lines as staging entries on the profile's `bank` account, in the
    shape and with the meaning of the camt.053 entries: a statement speaks from the customer's
    side, so money in (a credit) is a DEBIT to our bank asset account and money out a CREDIT. A
    reversal (RC, RD) is booked on the side it moves money (RC takes a credit back: money out).
    The remittance text is the description: a processor's payout reference appears there, and
    rules read it from there; the counterparty of a credit is its debtor. -#}
with

source as (

    select * from {{ source('raw_bank', 'mt940') }}

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
        -- the bank's reference when it names one line of its file, else where the line sits:
        -- its account, statement and line (a statement sent again repeats both)
        case
            when source.bank_reference is not null
                and count(*) over (partition by source._file_id, source.bank_reference) = 1
                then source.bank_reference
            else concat_ws(
                ':',
                source.account_id,
                coalesce(source.statement_number, source.statement_id),
                source._source_row
            )
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
        _profile_id || ':mt940:' || bank_entry_id as entry_id,
        'mt940' as source_name,
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
        -- a statement lists booked lines only
        'book' as status,

        -- timestamps: the booking date is midnight in the profile's time zone
        timezone('UTC', timezone(time_zone, cast(booking_date as timestamp))) as effective_at,
        booking_date as business_date,

        -- references
        cast(null as varchar) as order_ref,
        cast(null as varchar) as charge_ref,
        cast(null as varchar) as payout_ref,
        cast(null as varchar) as customer_email,
        remittance_information as description,
        json_object(
            'statement_id', statement_id,
            'statement_number', statement_number,
            'account_id', account_id,
            'value_date', value_date,
            'end_to_end_id', end_to_end_id,
            'debtor_name', case when credit_debit = 'CRDT' then counterparty_name end,
            'counterparty_name', counterparty_name,
            'counterparty_account', counterparty_account,
            'transaction_type', transaction_type,
            'customer_reference', customer_reference,
            'bank_reference', bank_reference,
            'is_reversal', is_reversal = 'true',
            'supplementary_details', supplementary_details,
            'information', information
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from entries

)

select * from renamed
