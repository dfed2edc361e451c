{#- One row per entry and role: how it was reconciled, by which rule and identifier, and why,
    with the results of the match rules of the candidate pair it names (its expectation and
    target unit). A view over int_entries_reconciled and int_match_candidates_evaluated; the
    ids made of other columns are derived here rather than stored with every outcome. -#}
{{ config(materialized='view') }}
select
    outcomes.side || '|' || outcomes.entry_id as outcome_id,
    outcomes.entry_id,
    outcomes.side,
    outcomes.source_name,
    outcomes.source_entry_id,
    outcomes.entry_type,
    outcomes.organization_id,
    outcomes.merchant_id,
    outcomes.profile_id,
    outcomes.account_id,
    outcomes.rule_name,
    outcomes.expectation_id,
    case when outcomes.status = 'matched' then outcomes.expectation_id || '=' || outcomes.target_unit_id end
        as match_id,
    outcomes.target_unit_id,
    outcomes.counterpart_entry_id,
    outcomes.counterpart_count,
    outcomes.counterpart_source_name,
    outcomes.counterpart_source_entry_id,
    outcomes.status,
    outcomes.is_within_tolerance,
    outcomes.exception_category,
    outcomes.identifier_name,
    outcomes.identifier_rank,
    candidates.match_results,
    outcomes.failed_check,
    outcomes.failed_field,
    outcomes.expected_value,
    outcomes.actual_value,
    outcomes.amount_minor,
    outcomes.currency,
    outcomes.direction,
    outcomes.variance_minor,
    outcomes.effective_at,
    outcomes.business_date,
    outcomes.due_date,
    outcomes.age_days,
    outcomes.is_duplicate,
    outcomes.source_file,
    outcomes.source_row
from {{ ref('int_entries_reconciled') }} as outcomes
left join {{ ref('int_match_candidates_evaluated') }} as candidates
    on candidates.target_unit_id = outcomes.target_unit_id
    and candidates.expectation_id = outcomes.expectation_id
