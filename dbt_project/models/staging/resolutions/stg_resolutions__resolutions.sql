{#- Every resolution an operator recorded, as logged. -#}
with

source as (

    select * from {{ source('raw_resolutions', 'resolutions') }}

),

renamed as (

    select
        -- ids
        resolution_id,
        exception_id,
        category as exception_category,
        profile_id,
        expectation_id,
        target_unit_id,
        target_entry_id,
        counterpart_entry_id,
        entry_ids,

        -- the action
        lower(action) as action,
        reason,
        resolved_by,
        assignee,

        -- amounts
        amount_minor,
        currency,

        -- timestamps (UTC)
        resolved_at
    from source

)

select * from renamed
