{#- ISO 20022 camt.054 notification entries, in the shape of MT942 interim entries and like them
    not reconciled: the bank notifies credits and debits during the day, and the same movements
    come again, booked, on the end-of-day camt.053 statement, which the bank rules read. They
    show what the bank notified; status is `pdng` (not on a statement yet), and the bank's own
    status of the entry is kept beside it. -#}
with

source as (

    select * from {{ source('raw_bank', 'camt054') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

renamed as (

    select
        -- ids
        source._file_id || ':' || source._source_row as staging_row_id,
        'camt054' as source_name,
        source.notification_id,
        source.account_iban,
        source.account_servicer_ref,
        source.entry_ref,
        source._profile_id as profile_id,

        -- amounts
        {{ to_minor_units('source.amount', 'currencies.minor_units') }} as amount_minor,
        upper(source.currency) as currency,
        source.credit_debit,
        'pdng' as status,
        lower(source.status) as notified_status,

        -- timestamps
        source.notified_at,
        source.value_date,
        coalesce(source.booking_date, cast(source.booked_at as date), source.value_date) as business_date,

        -- references
        source.remittance_information as description,
        source.end_to_end_id,
        source.debtor_name,
        source.bank_transaction_code,

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
