{#- Semantics, step 2 (consuming): a target (an entry, or a group of them under a one-to-many
    rule) consumes the first candidate whose match rules all pass, and no entry is consumed twice. The assignment is greedy and deterministic: in each
    round every target proposes its preferred remaining candidate and each expectation accepts
    the target that found it by the best identifier, then the earliest; the losers try again in
    the next round. A target still holding passing candidates when the rounds run out is
    reported as "several candidates" (var matching_rounds, default 4). -#}
{%- set rounds = var('matching_rounds', 4) -%}
with

passing as (

    select * from {{ ref('int_match_candidates_evaluated') }}
    where all_passed

),

{%- for round in range(1, rounds + 1) %}

{%- if round == 1 %}
remaining_1 as (

    select * from passing

),
{%- else %}
remaining_{{ round }} as (

    select remaining.*
    from remaining_{{ round - 1 }} as remaining
    anti join assigned_{{ round - 1 }} as by_target
        on by_target.target_unit_id = remaining.target_unit_id
    anti join assigned_{{ round - 1 }} as by_expectation
        on by_expectation.expectation_id = remaining.expectation_id

),
{%- endif %}

proposals_{{ round }} as (

    select * from remaining_{{ round }}
    qualify row_number() over (
        partition by target_unit_id
        order by preference_of_target
    ) = 1

),

assigned_{{ round }} as (

    select
        *,
        {{ round }} as assignment_round
    from proposals_{{ round }}
    qualify row_number() over (
        partition by expectation_id
        order by identifier_rank, target_effective_at, target_unit_id
    ) = 1

){{ ',' if not loop.last }}
{%- endfor %}

, assigned as (

    {%- for round in range(1, rounds + 1) %}
    select * from assigned_{{ round }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

passing_candidate_counts as (

    select
        target_unit_id,
        rule_name,
        identifier_rank,
        count(*) as passing_candidates
    from passing
    group by all

)

select
    assigned.expectation_id || '=' || assigned.target_unit_id as match_id,
    assigned.expectation_id,
    assigned.source_entry_id,
    assigned.source_member_count,
    assigned.target_unit_id,
    assigned.target_entry_id,
    assigned.target_member_entry_ids,
    assigned.target_member_count,
    assigned.rule_name,
    assigned.identifier_rank,
    assigned.identifier_name,
    assigned.identifier_value,
    assigned.match_results,
    assigned.assignment_round,
    -- the expected amount in the settlement currency (converted when the match crossed currencies)
    assigned.source_amount_minor,
    assigned.source_original_amount_minor,
    assigned.source_currency,
    assigned.settlement_currency,
    assigned.fx_rate,
    assigned.fx_rate_source,
    assigned.fx_rate_date,
    assigned.target_amount_minor,
    assigned.target_fee_minor,
    passing_candidate_counts.passing_candidates,
    assigned.fx_rate is not null as is_cross_currency,
    -- passed, but only thanks to an amount tolerance: reported, not an exception (a difference
    -- across currencies is the conversion's, posted to FX gain/loss)
    assigned.fx_rate is null and coalesce(
        list_bool_or(
            list_transform(
                assigned.match_results,
                lambda result: result.type = 'amount_tolerance' and result.expected <> result.actual
            )
        ),
        false
    ) as is_within_tolerance,
    greatest(assigned.source_effective_at, assigned.target_effective_at) as matched_at
from assigned
inner join passing_candidate_counts
    on passing_candidate_counts.target_unit_id = assigned.target_unit_id
    and passing_candidate_counts.rule_name = assigned.rule_name
    and passing_candidate_counts.identifier_rank = assigned.identifier_rank
