{#- SWIFT MT942 interim report entries, in the entries' shape but not reconciled: the same
    movements come again, booked, on the end-of-day MT940 statement, which the bank rules read.
    They show what the bank reported during the day; status is `pdng` (not yet booked). -#}
with

source as (

    select * from {{ source('raw_bank', 'mt942') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

renamed as (

    select
        -- ids
        source._file_id || ':' || source._source_row as staging_row_id,
        'mt942' as source_name,
        source.statement_id,
        source.statement_number,
        source.account_id,
        source.bank_reference,
        source.customer_reference,
        source._profile_id as profile_id,

        -- amounts
        {{ to_minor_units('source.amount', 'currencies.minor_units') }} as amount_minor,
        upper(source.currency) as currency,
        source.credit_debit,
        source.is_reversal = 'true' as is_reversal,
        'pdng' as status,

        -- timestamps
        source.reported_at,
        source.value_date,
        source.booking_date as business_date,

        -- references
        source.remittance_information as description,
        source.end_to_end_id,
        source.counterparty_name,
        source.counterparty_account,

        -- lineage
        source._source_file as source_file,
        source._source_row as source_row,
        source._ingested_at as ingested_at,
        source._raw_hash as raw_hash
    from source
    inner join currencies
        on currencies.currency_code = upper(source.currency)

)

select * from renamed
