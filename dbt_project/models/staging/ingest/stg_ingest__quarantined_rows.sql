{#- Every row rejected at the door. A row has no key of its own in the quarantine (an ECB line
    may have several bad rates, one row each), so it is named by its file, its row and its place
    among that row's rejections. -#}
with

source as (

    select * from {{ source('raw_ingest', 'quarantine') }}

),

renamed as (

    select
        -- ids
        file_id
        || ':' || source_row
        || ':' || row_number() over (partition by file_id, source_row order by field nulls first, reason)
            as quarantined_row_id,
        file_id,
        source_name,
        profile_id,
        source_file,
        source_row,

        -- the rejection
        field,
        reason,
        raw_record,

        -- timestamps (UTC)
        quarantined_at
    from source

)

select * from renamed
