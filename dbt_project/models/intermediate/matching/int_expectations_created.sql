{#- Semantics, step 1: a source-side entry is tested against every rule's filters; of the rules
    that pass, the one with the highest priority applies and creates an expectation saying what
    its counterpart must look like. Under a many-to-one rule the entries sharing a group key
    (and currency) make one expectation together: a group, matched as one entry whose amount is
    the sum of its members', whose dates are its latest member's and whose other fields are its
    first member's. The identifier values are computed once, here. -#}
{#- Each rule reads its entries straight from the table (`not materialized`), with its own
    filters and columns, rather than from one shared copy of every column. -#}
{%- set rules = recon_rules() -%}
{%- set identifier_count = recon_identifier_count() -%}
with

entries as not materialized (

    select * from {{ ref('int_entries_unioned') }}
    where is_reconcilable

),

rule_applications as (

    {%- for rule in rules %}
    select
        source.entry_id as source_entry_id,
        '{{ rule.name }}' as rule_name,
        {{ rule.priority }} as rule_priority,
        '{{ rule.cardinality }}' as cardinality,
        {{ rule.window_days }} as window_days,
        '{{ rule.target_account }}' as target_account_name,
        {%- if rule.cardinality == 'many_to_one' %}
        cast({{ rule.source_group_by }} as varchar) as group_key,
        {%- else %}
        cast(null as varchar) as group_key,
        {%- endif %}
        cast(source.{{ rule.group_amount }} as bigint) as group_amount_minor,
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

    select
        rule_applications.*,
        entries.profile_id,
        entries.currency,
        entries.account_id,
        entries.effective_at,
        entries.business_date,
        entries.ingested_at,
        -- an entry is its own expectation, unless a many-to-one rule groups it with others
        case
            when rule_applications.group_key is null then rule_applications.rule_name || '|' || entries.entry_id
            else rule_applications.rule_name || '|group:' || entries.profile_id || ':'
                || entries.currency || ':' || rule_applications.group_key
        end as expectation_id
    from rule_applications
    inner join entries
        on entries.entry_id = rule_applications.source_entry_id
    qualify row_number() over (
        partition by rule_applications.source_entry_id
        order by rule_applications.rule_priority desc, rule_applications.rule_name
    ) = 1

),

expectations as (

    -- an entry that is its own expectation (nearly all are) needs no aggregation
    select
        expectation_id,
        rule_name,
        rule_priority,
        cardinality,
        group_key,
        profile_id,
        currency,
        account_id as source_account_id,
        target_account_name,
        window_days,
        source_entry_id,
        [source_entry_id] as member_entry_ids,
        1 as member_count,
        group_amount_minor,
        effective_at,
        business_date,
        ingested_at,
        {%- for index in range(identifier_count) %}
        identifier_{{ index + 1 }}{{ ',' if not loop.last }}
        {%- endfor %}
    from chosen
    where group_key is null

    union all by name

    select
        expectation_id,
        any_value(rule_name) as rule_name,
        any_value(rule_priority) as rule_priority,
        any_value(cardinality) as cardinality,
        any_value(group_key) as group_key,
        any_value(profile_id) as profile_id,
        any_value(currency) as currency,
        any_value(account_id) as source_account_id,
        any_value(target_account_name) as target_account_name,
        any_value(window_days) as window_days,
        -- the first member stands for the group where one entry's fields are needed
        arg_min(source_entry_id, struct_pack(effective_at, source_entry_id)) as source_entry_id,
        list(source_entry_id order by effective_at, source_entry_id) as member_entry_ids,
        count(*) as member_count,
        sum(group_amount_minor) as group_amount_minor,
        max(effective_at) as effective_at,
        max(business_date) as business_date,
        max(ingested_at) as ingested_at,
        {%- for index in range(identifier_count) %}
        min(identifier_{{ index + 1 }}) as identifier_{{ index + 1 }}{{ ',' if not loop.last }}
        {%- endfor %}
    from chosen
    where group_key is not null
    group by expectation_id

)

select
    -- ids
    expectations.expectation_id,
    expectations.source_entry_id,
    expectations.member_entry_ids,
    expectations.member_count,
    expectations.group_key,
    expectations.rule_name,
    expectations.rule_priority,
    expectations.cardinality,
    expectations.profile_id,

    -- what the counterpart must look like
    expectations.source_account_id,
    expectations.target_account_name,
    expectations.profile_id || ':' || expectations.target_account_name || ':' || expectations.currency
        as expected_target_account_id,
    -- under a many-to-one rule an expectation (a group, or an entry waiting for its group key)
    -- is worth the sum of its members' group amounts, whose sign says which way the money moves
    case
        when expectations.cardinality <> 'many_to_one' then first_member.amount_minor
        else abs(expectations.group_amount_minor)
    end as expected_amount_minor,
    case
        when expectations.cardinality <> 'many_to_one' then first_member.direction
        when expectations.group_amount_minor >= 0 then 'DEBIT'
        else 'CREDIT'
    end as expected_direction,
    expectations.currency as expected_currency,
    {%- for index in range(identifier_count) %}
    expectations.identifier_{{ index + 1 }},
    {%- endfor %}
    (
        {%- for index in range(identifier_count) %}
        expectations.identifier_{{ index + 1 }} is not null{{ ' or' if not loop.last }}
        {%- endfor %}
    ) as has_identifier,

    -- timestamps
    expectations.effective_at,
    expectations.business_date,
    -- when the last member became known
    expectations.ingested_at,
    expectations.business_date + expectations.window_days as due_date,
    expectations.window_days
from expectations
inner join entries as first_member
    on first_member.entry_id = expectations.source_entry_id
