{#- Semantics, step 2 (consuming): a target (an entry, or a group of them under a one-to-many
    rule) consumes the first candidate whose match rules all pass, and no entry is consumed twice. The assignment is greedy and deterministic: in each
    round every target proposes its preferred remaining candidate and each expectation accepts
    the target that found it by the best identifier, then the earliest; the losers try again in
    the next round. A target still holding passing candidates when the rounds run out is
    reported as "several candidates" (var matching_rounds, default 4). The rounds move the keys
    and orderings of the passing candidates only; the assigned pairs take their columns (the
    match rules' results, amounts, rates) from the candidates at the end.

    Ahead of the rounds (round 0) come the pairs an operator resolved: a force_match or link in
    the resolutions log matches its expectation with its target unit whatever the match rules
    said, and the entries it consumes take no part in the rounds. The pair's candidate supplies
    the amounts when the rules evaluated it; a link to an entry no identifier found is built from
    the expectation and the entry (same currency: recon resolve refuses a link across currencies). -#}
{%- set rounds = var('matching_rounds', 4) -%}
with

candidates as (

    select * from {{ ref('int_match_candidates_evaluated') }}

),

resolved_pairs as (

    -- the first resolution of an expectation, and of a target unit, wins
    select * from (
        select
            resolution_id,
            expectation_id,
            target_unit_id,
            target_entry_id,
            resolved_at
        from {{ ref('stg_resolutions__resolutions') }}
        where action in ('force_match', 'link')
            and expectation_id is not null
            and target_unit_id is not null
        qualify row_number() over (partition by expectation_id order by resolved_at, resolution_id) = 1
    )
    qualify row_number() over (partition by target_unit_id order by resolved_at, resolution_id) = 1

),

resolved_from_candidates as (

    select
        candidates.* exclude (candidate_id, all_passed, first_failure, failed_checks, rule_priority),
        resolved_pairs.resolution_id
    from resolved_pairs
    inner join candidates
        on candidates.expectation_id = resolved_pairs.expectation_id
        and candidates.target_unit_id = resolved_pairs.target_unit_id

),

resolved_constructed as (

    select
        resolved_pairs.target_unit_id,
        target.entry_id as target_entry_id,
        [target.entry_id] as target_member_entry_ids,
        1 as target_member_count,
        expectations.expectation_id,
        expectations.source_entry_id,
        expectations.member_count as source_member_count,
        expectations.rule_name,
        cast(0 as bigint) as identifier_rank,
        'resolution' as identifier_name,
        resolved_pairs.resolution_id as identifier_value,
        cast(1 as bigint) as preference_of_target,
        expectations.expected_amount_minor as source_amount_minor,
        expectations.expected_amount_minor as source_original_amount_minor,
        expectations.expected_currency as source_currency,
        target.currency as settlement_currency,
        target.amount_minor as target_amount_minor,
        target.fee_minor as target_fee_minor,
        target.effective_at as target_effective_at,
        expectations.effective_at as source_effective_at,
        resolved_pairs.resolution_id
    from resolved_pairs
    inner join {{ ref('int_expectations_created') }} as expectations
        on expectations.expectation_id = resolved_pairs.expectation_id
    inner join {{ ref('int_entries_unioned') }} as target
        on target.entry_id = resolved_pairs.target_entry_id
    anti join resolved_from_candidates
        on resolved_from_candidates.resolution_id = resolved_pairs.resolution_id

),

resolved as (

    select
        *,
        0 as assignment_round
    from resolved_from_candidates
    union all by name
    select
        *,
        0 as assignment_round
    from resolved_constructed

),

passing as (

    select
        candidates.target_unit_id,
        candidates.expectation_id,
        candidates.rule_name,
        candidates.identifier_rank,
        candidates.preference_of_target,
        candidates.target_effective_at
    from candidates
    anti join resolved as by_expectation
        on by_expectation.expectation_id = candidates.expectation_id
    anti join resolved as by_target
        on list_has_any(by_target.target_member_entry_ids, candidates.target_member_entry_ids)
    where candidates.all_passed

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
        target_unit_id,
        expectation_id,
        {{ round }} as assignment_round
    from proposals_{{ round }}
    qualify row_number() over (
        partition by expectation_id
        order by identifier_rank, target_effective_at, target_unit_id
    ) = 1

){{ ',' if not loop.last }}
{%- endfor %}

, assigned_by_rules as (

    {%- for round in range(1, rounds + 1) %}
    select * from assigned_{{ round }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

assigned as (

    select * from resolved
    union all by name
    select
        candidates.* exclude (candidate_id, all_passed, first_failure, failed_checks, rule_priority),
        assigned_by_rules.assignment_round,
        cast(null as varchar) as resolution_id
    from assigned_by_rules
    inner join candidates
        on candidates.expectation_id = assigned_by_rules.expectation_id
        and candidates.target_unit_id = assigned_by_rules.target_unit_id

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
    -- the operator's resolution that matched the pair (round 0), else null
    assigned.resolution_id,
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
    coalesce(passing_candidate_counts.passing_candidates, 0) as passing_candidates,
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
left join passing_candidate_counts
    on passing_candidate_counts.target_unit_id = assigned.target_unit_id
    and passing_candidate_counts.rule_name = assigned.rule_name
    and passing_candidate_counts.identifier_rank = assigned.identifier_rank
