{#- Semantics, step 3: every entry ends with one outcome per role it plays. A source-side entry
    (it created an expectation) is matched, open, or an exception; so is a target-side entry (a
    rule looks for counterparts among its account). An entry that plays no role is "no rule
    found"; a copy of a record is deduplicated or superseded, pointing at the live copy. Each
    exception names the check that failed with its expected and actual values. A member of a
    group shares its group's outcome; its counterpart is the other side's first member, and
    counterpart_count says how many entries the other side holds. -#}
{#- The outcomes are joined to their entries' facts last. DuckDB's choice of build side, from its
    estimate of the outcomes (a third of the real count), built the hash tables on the wide
    outcomes instead of the narrow facts: profiled at 1e6, the query took 23 s with it and 15 s
    without. -#}
{{ keep_join_build_sides() }}
{%- set rules = recon_rules() -%}
with

entries as not materialized (

    -- every column, since rules may filter targets on any of them (each reader reads the table
    -- with its own filters and columns)
    select * from {{ ref('int_entries_unioned') }}

),

entry_facts as (

    -- the columns an outcome reports, kept narrow: this CTE is scanned several times
    select
        entry_id,
        original_entry_id,
        source_name,
        source_entry_id,
        entry_type,
        profile_id,
        merchant_id,
        organization_id,
        account_id,
        account_name,
        amount_minor,
        currency,
        direction,
        effective_at,
        business_date,
        is_duplicate,
        copy_status,
        duplicate_of,
        source_file,
        source_row
    from {{ ref('int_entries_unioned') }}

),

expectations as (

    select * from {{ ref('int_expectations_created') }}

),

candidates as (

    select * from {{ ref('int_match_candidates_evaluated') }}

),

matches as (

    select * from {{ ref('int_matches_assigned') }}

),

expectation_members as (

    select
        expectations.*,
        member.entry_id
    from expectations,
        unnest(expectations.member_entry_ids) as member(entry_id)

),

-- every candidate and match once per entry of its target (an entry, or a group's members);
-- kept narrow: the match rules' results stay in the candidates, named by their pair
candidate_columns as (

    select
        candidate_id,
        target_unit_id,
        target_entry_id,
        target_member_entry_ids,
        target_member_count,
        expectation_id,
        source_entry_id,
        source_member_count,
        rule_name,
        identifier_name,
        identifier_rank,
        all_passed,
        first_failure,
        preference_of_target
    from candidates

),

candidate_members as (

    -- a target of one entry is its own member (most are: no list to unnest)
    select
        * exclude (target_member_entry_ids, target_member_count),
        target_entry_id as member_entry_id
    from candidate_columns
    where target_member_count = 1
    union all
    select
        candidate_columns.* exclude (target_member_entry_ids, target_member_count),
        member.entry_id as member_entry_id
    from candidate_columns,
        unnest(candidate_columns.target_member_entry_ids) as member(entry_id)
    where candidate_columns.target_member_count > 1

),

match_members as (

    select
        matches.*,
        member.entry_id as member_entry_id
    from matches,
        unnest(matches.target_member_entry_ids) as member(entry_id)

),

target_scopes as (

    {%- for rule in rules %}
    select
        target.entry_id,
        '{{ rule.name }}' as rule_name,
        {{ rule.priority }} as rule_priority,
        {{ rule.window_days }} as window_days,
        {%- if rule.cardinality == 'many_to_one' %}
        -- a many-to-one target is found by its own id, which its sources name (a payout, the
        -- charge of split orders): having it says nothing about the references it carries
        cast(null as boolean) as has_identifier
        {%- else %}
        (
            {%- for identifier in rule.identifiers %}
            cast({{ identifier.target }} as varchar) is not null{{ ' or' if not loop.last }}
            {%- endfor %}
        ) as has_identifier
        {%- endif %}
    from entries as target
    where target.is_reconcilable
        and {{ recon_rule_applies_to_target(rule) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

target_entries as (

    select
        entry_id,
        arg_max(rule_name, rule_priority) as rule_name,
        max(window_days) as window_days,
        bool_or(has_identifier) as has_identifier
    from target_scopes
    group by entry_id

),

-- failures of targets that found no home, seen from the expectation they failed against
failed_candidates as (

    select
        candidates.candidate_id,
        candidates.target_unit_id,
        candidates.target_entry_id,
        candidates.target_member_count,
        candidates.expectation_id,
        candidates.identifier_name,
        candidates.identifier_rank,
        candidates.first_failure,
        candidates.target_effective_at
    from candidates
    anti join matches
        on matches.target_unit_id = candidates.target_unit_id
    where not candidates.all_passed

),

source_outcomes as (

    select
        expectations.entry_id,
        'source' as side,
        expectations.rule_name,
        expectations.expectation_id,
        expectations.window_days,
        expectations.due_date,
        coalesce(matches.target_unit_id, failure.target_unit_id) as target_unit_id,
        coalesce(matches.is_within_tolerance, false) as is_within_tolerance,
        case
            when matches.match_id is not null then 'matched'
            when failure.candidate_id is not null then 'exception'
            -- a many-to-one entry waits for its group key (a payout is known days later)
            when not expectations.has_identifier and expectations.cardinality <> 'many_to_one' then 'exception'
            when {{ as_of_date() }} > expectations.due_date then 'exception'
            else 'open'
        end as status,
        case
            when matches.match_id is not null then null
            when failure.candidate_id is not null then failure.first_failure.category
            when not expectations.has_identifier and expectations.cardinality <> 'many_to_one' then 'missing_identifier'
            when {{ as_of_date() }} > expectations.due_date then 'missing_counterpart'
        end as exception_category,
        coalesce(matches.target_entry_id, failure.target_entry_id) as counterpart_entry_id,
        coalesce(matches.target_member_count, failure.target_member_count) as counterpart_count,
        coalesce(matches.identifier_name, failure.identifier_name) as identifier_name,
        coalesce(matches.identifier_rank, failure.identifier_rank) as identifier_rank,
        failure.first_failure.name as failed_check,
        failure.first_failure.field as failed_field,
        failure.first_failure.expected as expected_value,
        failure.first_failure.actual as actual_value,
        case
            when failure.first_failure.type = 'amount_tolerance'
                then try_cast(failure.first_failure.actual as bigint) - try_cast(failure.first_failure.expected as bigint)
        end as variance_minor
    from expectation_members as expectations
    left join matches
        on matches.expectation_id = expectations.expectation_id
    left join (
        select * from failed_candidates
        qualify row_number() over (
            partition by expectation_id
            order by target_effective_at, target_unit_id
        ) = 1
    ) as failure
        on failure.expectation_id = expectations.expectation_id
        and matches.match_id is null

),

unmatched_candidate_members as (

    -- what explains a target entry's outcome when it was not matched (most targets were)
    select candidate_members.*
    from candidate_members
    anti join match_members
        on match_members.member_entry_id = candidate_members.member_entry_id

),

target_preferred as (

    -- the candidate a target entry preferred: an entry belongs to one target unit of one rule
    -- (a lower rule's candidates for it are gone), whose first preference it is
    select * from unmatched_candidate_members
    where preference_of_target = 1

),

target_passing as (

    -- passing candidates a target did not get: consumed by another target first (a duplicate),
    -- or left over when the rounds of assignment ran out (real ambiguity)
    select
        candidates.member_entry_id,
        bool_and(matches.match_id is not null) as all_consumed,
        arg_min(matches.target_entry_id, candidates.preference_of_target) as consumed_by,
        arg_min(matches.target_member_count, candidates.preference_of_target) as consumed_by_count,
        arg_min(candidates.expectation_id, candidates.preference_of_target) as expectation_id,
        arg_min(candidates.target_unit_id, candidates.preference_of_target) as target_unit_id,
        arg_min(candidates.identifier_name, candidates.preference_of_target) as identifier_name,
        arg_min(candidates.identifier_rank, candidates.preference_of_target) as identifier_rank,
        count(*) as passing_candidates
    from unmatched_candidate_members as candidates
    left join matches
        on matches.expectation_id = candidates.expectation_id
    where candidates.all_passed
    group by candidates.member_entry_id

),

target_outcomes as (

    select
        target_entries.entry_id,
        'target' as side,
        coalesce(matches.rule_name, target_preferred.rule_name, target_entries.rule_name) as rule_name,
        coalesce(matches.expectation_id, consumed.expectation_id, target_preferred.expectation_id) as expectation_id,
        target_entries.window_days,
        entries.business_date + target_entries.window_days as due_date,
        coalesce(matches.target_unit_id, consumed.target_unit_id, target_preferred.target_unit_id) as target_unit_id,
        coalesce(matches.is_within_tolerance, false) as is_within_tolerance,
        case
            when matches.match_id is not null then 'matched'
            when consumed.member_entry_id is not null then 'exception'
            when target_preferred.candidate_id is not null then 'exception'
            when not target_entries.has_identifier then 'exception'
            when {{ as_of_date() }} > entries.business_date + target_entries.window_days then 'exception'
            else 'open'
        end as status,
        case
            when matches.match_id is not null then null
            when consumed.member_entry_id is not null and consumed.all_consumed then 'duplicate_entry'
            when consumed.member_entry_id is not null then 'several_candidates'
            when target_preferred.candidate_id is not null then target_preferred.first_failure.category
            when not target_entries.has_identifier then 'missing_identifier'
            when {{ as_of_date() }} > entries.business_date + target_entries.window_days then 'missing_counterpart'
        end as exception_category,
        case
            when matches.match_id is not null then matches.source_entry_id
            when consumed.member_entry_id is not null then consumed.consumed_by
            else target_preferred.source_entry_id
        end as counterpart_entry_id,
        case
            when matches.match_id is not null then matches.source_member_count
            when consumed.member_entry_id is not null then consumed.consumed_by_count
            else target_preferred.source_member_count
        end as counterpart_count,
        coalesce(matches.identifier_name, consumed.identifier_name, target_preferred.identifier_name) as identifier_name,
        coalesce(matches.identifier_rank, consumed.identifier_rank, target_preferred.identifier_rank) as identifier_rank,
        case when consumed.member_entry_id is null then target_preferred.first_failure.name end as failed_check,
        case when consumed.member_entry_id is null then target_preferred.first_failure.field end as failed_field,
        case
            when consumed.member_entry_id is null then target_preferred.first_failure.expected
            when not consumed.all_consumed then '1 candidate'
        end as expected_value,
        case
            when consumed.member_entry_id is null then target_preferred.first_failure.actual
            when not consumed.all_consumed then consumed.passing_candidates || ' candidates'
        end as actual_value,
        case
            when consumed.member_entry_id is null and target_preferred.first_failure.type = 'amount_tolerance'
                then try_cast(target_preferred.first_failure.actual as bigint)
                    - try_cast(target_preferred.first_failure.expected as bigint)
        end as variance_minor
    from target_entries
    inner join entry_facts as entries
        on entries.entry_id = target_entries.entry_id
    left join match_members as matches
        on matches.member_entry_id = target_entries.entry_id
    left join target_passing as consumed
        on consumed.member_entry_id = target_entries.entry_id
        and matches.match_id is null
    left join target_preferred
        on target_preferred.member_entry_id = target_entries.entry_id
        and matches.match_id is null

),

other_outcomes as (

    select
        entries.entry_id,
        'none' as side,
        cast(null as varchar) as rule_name,
        cast(null as varchar) as expectation_id,
        cast(null as integer) as window_days,
        cast(null as date) as due_date,
        cast(null as varchar) as target_unit_id,
        false as is_within_tolerance,
        case when entries.is_duplicate then entries.copy_status else 'exception' end as status,
        case
            when entries.is_duplicate then null
            when entries.account_id is null then 'unknown_account'
            else 'no_rule_found'
        end as exception_category,
        case when entries.is_duplicate then entries.original_entry_id end as counterpart_entry_id,
        case when entries.is_duplicate then 1 end as counterpart_count,
        cast(null as varchar) as identifier_name,
        cast(null as integer) as identifier_rank,
        cast(null as varchar) as failed_check,
        cast(null as varchar) as failed_field,
        case
            when entries.is_duplicate then entries.duplicate_of
            when entries.account_id is null then 'an account in the chart of accounts'
        end as expected_value,
        case
            when entries.is_duplicate then entries.source_file || '#' || entries.source_row
            when entries.account_id is null
                then entries.profile_id || ':' || entries.account_name || ':' || entries.currency
        end as actual_value,
        cast(null as bigint) as variance_minor
    from entry_facts as entries
    anti join expectation_members
        on expectation_members.entry_id = entries.entry_id
    anti join target_entries
        on target_entries.entry_id = entries.entry_id

),

outcomes as (

    select * from source_outcomes
    union all by name
    select * from target_outcomes
    union all by name
    select * from other_outcomes

)

select
    -- ids (the view fct_reconciliation_outcomes derives outcome_id and match_id from these)
    outcomes.entry_id,
    outcomes.side,
    entries.source_name,
    entries.source_entry_id,
    entries.entry_type,
    entries.profile_id,
    entries.merchant_id,
    entries.organization_id,
    entries.account_id,
    outcomes.rule_name,
    outcomes.expectation_id,
    outcomes.target_unit_id,
    outcomes.counterpart_entry_id,
    outcomes.counterpart_count,
    counterpart.source_name as counterpart_source_name,
    counterpart.source_entry_id as counterpart_source_entry_id,

    -- decision
    outcomes.status,
    outcomes.is_within_tolerance,
    outcomes.exception_category,
    outcomes.identifier_name,
    outcomes.identifier_rank,
    outcomes.failed_check,
    outcomes.failed_field,
    outcomes.expected_value,
    outcomes.actual_value,

    -- amounts
    entries.amount_minor,
    entries.currency,
    entries.direction,
    -- the target's amount less the source's (sums for a group), when amounts disagree
    outcomes.variance_minor,

    -- timestamps
    entries.effective_at,
    entries.business_date,
    outcomes.due_date,
    date_diff('day', entries.business_date, {{ as_of_date() }}) as age_days,

    -- lineage
    entries.is_duplicate,
    entries.source_file,
    entries.source_row
from outcomes
inner join entry_facts as entries
    on entries.entry_id = outcomes.entry_id
left join entry_facts as counterpart
    on counterpart.entry_id = outcomes.counterpart_entry_id
