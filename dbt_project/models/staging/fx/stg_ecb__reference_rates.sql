{#- The ECB's euro reference rates, one per day and currency: units of the currency one euro
    buys, exact (DECIMAL(18, 8)). Rates belong to no profile, and the same day may come in
    several files (the history file is republished every day, and may land for any profile):
    the rate ingested last wins. EUR itself is added at 1 on every day that has a rate. -#}
with

source as (

    select * from {{ source('raw_ecb', 'ecb_reference_rates') }}

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by rate_date, currency
        order by _ingested_at desc, _file_id desc, _source_row
    ) = 1

),

published as (

    select
        rate_date,
        currency,
        cast(units_per_eur as decimal(18, 8)) as units_per_eur,
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from latest

),

euro as (

    select distinct
        rate_date,
        'EUR' as currency,
        cast(1 as decimal(18, 8)) as units_per_eur,
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_row,
        cast(null as timestamp) as ingested_at,
        cast(null as varchar) as raw_hash
    from published

),

renamed as (

    select
        -- ids
        currency || ':' || strftime(rate_date, '%Y-%m-%d') as reference_rate_id,
        rate_date,
        currency,

        -- amounts
        units_per_eur,

        -- lineage (none for EUR, which the ECB does not publish)
        source_file,
        source_row,
        ingested_at,
        raw_hash
    from (
        select * from published
        union all
        select * from euro
    )

)

select * from renamed
