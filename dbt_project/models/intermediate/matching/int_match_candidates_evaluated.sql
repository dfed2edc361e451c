{#- Semantics, step 2 (finding): a target-side entry is looked up by each rule whose target
    account is its account. The rule's identifiers are tried in order and only the first that
    finds candidate expectations is used; every match rule is then evaluated on each candidate
    pair, keeping expected and actual values so the decision can be explained. -#}
{%- set rules = recon_rules() -%}
with

entries as (

    select * from {{ ref('int_entries_unioned') }}
    where is_reconcilable

),

expectations as (

    select * from {{ ref('int_expectations_created') }}

),

candidates as (

    {%- for rule in rules %}
    {%- set rule_loop = loop %}
    {%- for identifier in rule.identifiers %}
    select
        target.entry_id as target_entry_id,
        expectation.expectation_id,
        expectation.source_entry_id,
        '{{ rule.name }}' as rule_name,
        {{ rule.priority }} as rule_priority,
        {{ loop.index }} as identifier_rank,
        '{{ identifier.name | default("identifier_" ~ loop.index) }}' as identifier_name,
        expectation.identifier_{{ loop.index }} as identifier_value,
        source.effective_at as source_effective_at,
        target.effective_at as target_effective_at,
        {{ recon_match_results(rule) }} as match_results
    from entries as target
    inner join expectations as expectation
        on expectation.rule_name = '{{ rule.name }}'
        and expectation.profile_id = target.profile_id
        and expectation.identifier_{{ loop.index }} = cast({{ identifier.target }} as varchar)
    inner join entries as source
        on source.entry_id = expectation.source_entry_id
    where {{ recon_rule_applies_to_target(rule) }}
        and target.entry_id <> source.entry_id
    {{ 'union all' if not (loop.last and rule_loop.last) }}
    {%- endfor %}
    {%- endfor %}

),

first_identifier_with_candidates as (

    select * from candidates
    qualify identifier_rank = min(identifier_rank) over (partition by target_entry_id, rule_name)

)

select
    target_entry_id || '>' || expectation_id as candidate_id,
    target_entry_id,
    expectation_id,
    source_entry_id,
    rule_name,
    rule_priority,
    identifier_rank,
    identifier_name,
    identifier_value,
    match_results,
    list_bool_and(list_transform(match_results, lambda result: result.passed)) as all_passed,
    list_filter(match_results, lambda result: not result.passed)[1] as first_failure,
    -- the order in which a target entry prefers its candidates, and an expectation its targets
    row_number() over (
        partition by target_entry_id
        order by rule_priority desc, identifier_rank, source_effective_at, expectation_id
    ) as preference_of_target,
    target_effective_at,
    source_effective_at
from first_identifier_with_candidates
