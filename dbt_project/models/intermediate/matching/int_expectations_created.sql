{#- Semantics, step 1: a source-side entry is tested against every rule's filters; of the rules
    that pass, the one with the highest priority applies and creates an expectation saying what
    its counterpart must look like. The identifier values are computed once, here. -#}
{%- set rules = recon_rules() -%}
{%- set identifier_count = recon_identifier_count() -%}
with

entries as (

    select * from {{ ref('int_entries_unioned') }}
    where is_reconcilable

),

rule_applications as (

    {%- for rule in rules %}
    select
        source.entry_id as source_entry_id,
        '{{ rule.name }}' as rule_name,
        {{ rule.priority }} as rule_priority,
        {{ rule.window_days }} as window_days,
        '{{ rule.target_account }}' as target_account_name,
        {%- for index in range(identifier_count) %}
        {%- if index < rule.identifiers | length %}
        cast({{ rule.identifiers[index].source }} as varchar) as identifier_{{ index + 1 }}
        {%- else %}
        cast(null as varchar) as identifier_{{ index + 1 }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from entries as source
    where {{ recon_rule_applies_to_source(rule) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

chosen as (

    select * from rule_applications
    qualify row_number() over (
        partition by source_entry_id
        order by rule_priority desc, rule_name
    ) = 1

)

select
    -- ids
    chosen.rule_name || '|' || chosen.source_entry_id as expectation_id,
    chosen.source_entry_id,
    chosen.rule_name,
    chosen.rule_priority,
    entries.profile_id,

    -- what the counterpart must look like
    chosen.target_account_name,
    entries.profile_id || ':' || chosen.target_account_name || ':' || entries.currency
        as expected_target_account_id,
    entries.amount_minor as expected_amount_minor,
    entries.currency as expected_currency,
    {%- for index in range(identifier_count) %}
    chosen.identifier_{{ index + 1 }},
    {%- endfor %}
    (
        {%- for index in range(identifier_count) %}
        chosen.identifier_{{ index + 1 }} is not null{{ ' or' if not loop.last }}
        {%- endfor %}
    ) as has_identifier,

    -- timestamps
    entries.effective_at,
    entries.business_date,
    entries.business_date + chosen.window_days as due_date,
    chosen.window_days
from chosen
inner join entries
    on entries.entry_id = chosen.source_entry_id
