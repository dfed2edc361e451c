{#- Every landed file the ingest step loaded, with the counts it recorded for it. -#}
with

source as (

    select * from {{ source('raw_ingest', 'ingested_files') }}

),

renamed as (

    select
        -- ids
        file_id,
        source_name,
        profile_id,
        path as source_file,
        sha256,

        -- counts
        size_bytes,
        rows_read,
        rows_loaded,
        rows_quarantined,

        -- what the file settled about itself (JSON by field: the format its dates are written in,
        -- its running balance)
        read_decisions,

        -- timestamps (UTC)
        ingested_at
    from source

)

select * from renamed
