{#- The bank statements of the ingested files, each with the check of the claim it makes about
    its lines against the lines that were loaded: amounts in minor units of the statement's
    currency, the loaded lines named by their staging row ids. -#}
with

source as (

    select * from {{ source('raw_bank', 'bank_statements') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

renamed as (

    select
        -- ids
        source.file_id || ':' || source.statement_position as statement_key,
        source.file_id,
        source.source_name,
        source.profile_id,
        source.statement_id,
        source.statement_number,
        source.account_id,
        list_transform(source.loaded_rows, lambda row_number: source.file_id || ':' || row_number) as staging_row_ids,

        -- amounts (minor units of the statement's currency; null when it names none we know)
        upper(source.currency) as currency,
        {{ to_minor_units('source.opening_balance', 'currencies.minor_units') }} as opening_balance_minor,
        {{ to_minor_units('source.closing_balance', 'currencies.minor_units') }} as closing_balance_minor,
        {{ to_minor_units('source.expected_total', 'currencies.minor_units') }} as expected_total_minor,
        {{ to_minor_units('source.loaded_total', 'currencies.minor_units') }} as loaded_total_minor,
        {{ to_minor_units('source.difference', 'currencies.minor_units') }} as difference_minor,

        -- the check
        source.check_kind,
        source.check_status,
        source.reason as check_reason,
        source.rows_read,
        source.rows_loaded,
        source.rows_quarantined,

        -- dates and lineage
        coalesce(source.statement_date, cast(source.checked_at as date)) as statement_date,
        source.source_file,
        source.statement_row as source_row,
        source.checked_at
    from source
    left join currencies
        on currencies.currency_code = upper(source.currency)

)

select * from renamed
