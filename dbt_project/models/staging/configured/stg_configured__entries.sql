{#- Entries of every source configured with an `entry:` block (a YAML file in
    dagster_project/sources/ or a directory of RECON_SOURCES_DIR), one select per source. recon
    writes what this model reads from the configs into the home (dbt/configured/): the raw
    tables' declarations (source 'raw_configured') and `configured_entry_sources()`, the list of
    sources with their entry blocks. Without such a source the model is empty.

    Amounts are integer minor units already (the config's `units` rule made them so). The
    direction is a column's DEBIT/CREDIT, a constant, or else the amount's sign: a positive
    amount (money in) is a DEBIT. `amount_minor` is the magnitude, `net_minor` the amount less
    the fee, + for a DEBIT and - for a CREDIT. A date is midnight in the profile's time zone. -#}
{%- set configured_sources = configured_entry_sources() -%}
with

profiles as (

    select * from {{ ref('profiles') }}

),

{% for configured_source in configured_sources %}
{{ configured_source.name }}_entries as (

    select
        -- ids
        source._file_id || ':' || source._source_row
            {%- if configured_source.exploded %} || ':' || {{ configured_entry_id(configured_source) }}{% endif %}
            as staging_row_id,
        '{{ configured_source.name }}' as source_name,
        {{ configured_entry_id(configured_source) }} as source_entry_id,
        {{ configured_entry_value(configured_source.entry_type) }} as entry_type,
        source._profile_id as profile_id,
        '{{ configured_source.account }}' as account_name,

        -- amounts
        cast(source."{{ configured_source.amount_minor }}" as bigint) as signed_amount_minor,
        {% if configured_source.fee_minor -%}
        cast(coalesce(source."{{ configured_source.fee_minor }}", 0) as bigint)
        {%- else -%}
        cast(0 as bigint)
        {%- endif %} as fee_minor,
        upper({{ configured_entry_value(configured_source.currency) }}) as currency,
        {% if configured_source.direction -%}
        {{ configured_entry_value(configured_source.direction) }}
        {%- else -%}
        case when source."{{ configured_source.amount_minor }}" < 0 then 'CREDIT' else 'DEBIT' end
        {%- endif %} as direction,
        {% if configured_source.status -%}
        {{ configured_entry_value(configured_source.status) }}
        {%- else -%}
        cast(null as varchar)
        {%- endif %} as status,

        -- timestamps
        {% if configured_source.effective_at_is_date -%}
        timezone(
            'UTC',
            timezone(coalesce(profiles.timezone, 'UTC'), cast(source."{{ configured_source.effective_at }}" as timestamp))
        ) as effective_at,
        source."{{ configured_source.effective_at }}" as business_date,
        {%- else -%}
        cast(source."{{ configured_source.effective_at }}" as timestamp) as effective_at,
        {{ business_date('source."' ~ configured_source.effective_at ~ '"', "coalesce(profiles.timezone, 'UTC')") }}
            as business_date,
        {%- endif %}

        -- references
        {% for reference in ['order_ref', 'charge_ref', 'payout_ref', 'customer_email', 'description'] -%}
        {% if configured_source[reference] -%}
        cast(source."{{ configured_source[reference] }}" as varchar)
        {%- else -%}
        cast(null as varchar)
        {%- endif %} as {{ reference }},
        {% endfor -%}
        {% if configured_source.metadata -%}
        json_object(
            {%- for column in configured_source.metadata %}
            '{{ column }}', source."{{ column }}"{{ "," if not loop.last }}
            {%- endfor %}
        )
        {%- else -%}
        cast(null as json)
        {%- endif %} as metadata,

        -- lineage
        source._source_file as source_file,
        source._source_row as source_row,
        source._ingested_at as ingested_at,
        source._raw_hash as raw_hash
    from {{ source('raw_configured', configured_source.raw_table) }} as source
    left join profiles
        on profiles.profile_id = source._profile_id

),

{% endfor %}
mapped as (

    {% for configured_source in configured_sources -%}
    select * from {{ configured_source.name }}_entries
    {% if not loop.last %}union all by name
    {% endif %}
    {%- else -%}
    -- no source is configured with an entry block: no rows, in the entry shape
    select
        cast(null as varchar) as staging_row_id,
        cast(null as varchar) as source_name,
        cast(null as varchar) as source_entry_id,
        cast(null as varchar) as entry_type,
        cast(null as varchar) as profile_id,
        cast(null as varchar) as account_name,
        cast(null as bigint) as signed_amount_minor,
        cast(null as bigint) as fee_minor,
        cast(null as varchar) as currency,
        cast(null as varchar) as direction,
        cast(null as varchar) as status,
        cast(null as timestamp) as effective_at,
        cast(null as date) as business_date,
        cast(null as varchar) as order_ref,
        cast(null as varchar) as charge_ref,
        cast(null as varchar) as payout_ref,
        cast(null as varchar) as customer_email,
        cast(null as varchar) as description,
        cast(null as json) as metadata,
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_row,
        cast(null as timestamp) as ingested_at,
        cast(null as varchar) as raw_hash
    where false
    {%- endfor %}

),

renamed as (

    select
        -- ids
        staging_row_id,
        profile_id || ':' || source_name || ':' || source_entry_id as entry_id,
        source_name,
        source_entry_id,
        entry_type,
        profile_id,
        account_name,

        -- amounts
        abs(signed_amount_minor) as amount_minor,
        fee_minor,
        case
            when direction = 'DEBIT' then abs(signed_amount_minor) - fee_minor
            else fee_minor - abs(signed_amount_minor)
        end as net_minor,
        currency,
        direction,
        status,

        -- timestamps
        effective_at,
        business_date,

        -- references
        order_ref,
        charge_ref,
        payout_ref,
        customer_email,
        description,
        metadata,

        -- lineage
        source_file,
        source_row,
        ingested_at,
        raw_hash
    from mapped

)

select * from renamed
