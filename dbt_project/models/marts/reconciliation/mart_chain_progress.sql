{#- How far every flow got along its chain of rules (order -> charge -> payout -> bank credit,
    or any chain the rules make) and where it stopped. A flow starts at an entry that is a
    source of a rule and a target of none (an order, a refund); each match leads from the
    entries of its source side to those of its target side, and a target that is itself the
    source of a further rule carries the flow on. The flow is complete when its furthest
    entries are the source of no rule; otherwise it waits (open) or stopped (exception) at the
    rule that leads on from them. -#}
with recursive

outcomes as (

    select * from {{ ref('int_entries_reconciled') }}

),

expectations as (

    select * from {{ ref('int_expectations_created') }}

),

matches as (

    select * from {{ ref('int_matches_assigned') }}

),

-- every match, once per (source member, target member); materialized once, not per step of
-- the walk
legs as materialized (

    select
        source_member.entry_id as from_entry_id,
        target_member.entry_id as to_entry_id,
        matches.rule_name
    from matches
    inner join expectations
        on expectations.expectation_id = matches.expectation_id,
        unnest(expectations.member_entry_ids) as source_member(entry_id),
        unnest(matches.target_member_entry_ids) as target_member(entry_id)

),

starts as materialized (

    select outcomes.*
    from outcomes
    where outcomes.side = 'source'
        and not exists (
            select 1 from outcomes as as_target
            where as_target.side = 'target'
                and as_target.entry_id = outcomes.entry_id
        )

),

walk (start_entry_id, leg_number, entry_id, rule_path) as (

    select
        entry_id,
        0,
        entry_id,
        cast([] as varchar[])
    from starts

    union all

    select
        walk.start_entry_id,
        walk.leg_number + 1,
        legs.to_entry_id,
        list_append(walk.rule_path, legs.rule_name)
    from walk
    inner join legs
        on legs.from_entry_id = walk.entry_id
    where walk.leg_number < 10

),

-- the walk's last step of each flow: a join to each flow's deepest leg (a window over the walk
-- would carry every step's rule path through its sort; at 1e6 this way took 3.2 s, not 4.3 s)
furthest as (

    select walk.*
    from walk
    inner join (
        select start_entry_id, max(leg_number) as leg_number
        from walk
        group by start_entry_id
    ) as deepest
        on deepest.start_entry_id = walk.start_entry_id
        and deepest.leg_number = walk.leg_number

),

-- where the furthest entries lead on: the outcome of their source role, if they have one
next_steps as (

    select
        furthest.start_entry_id,
        any_value(furthest.leg_number) as legs_completed,
        any_value(furthest.rule_path) as rule_path,
        count(distinct furthest.entry_id) as furthest_entries,
        min(furthest.entry_id) as furthest_entry_id,
        -- the worst step decides: an exception over an open one over none
        arg_max(
            next_outcome.rule_name,
            case next_outcome.status when 'exception' then 2 when 'open' then 1 else 0 end
        ) as next_rule_name,
        max(case next_outcome.status when 'exception' then 2 when 'open' then 1 else 0 end) as next_severity,
        arg_max(
            next_outcome.exception_category,
            case next_outcome.status when 'exception' then 2 when 'open' then 1 else 0 end
        ) as exception_category
    from furthest
    left join outcomes as next_outcome
        on next_outcome.entry_id = furthest.entry_id
        and next_outcome.side = 'source'
        and next_outcome.status <> 'matched'
    group by furthest.start_entry_id

)

select
    -- ids
    starts.entry_id as start_entry_id,
    starts.organization_id,
    starts.merchant_id,
    starts.profile_id,
    starts.source_name,
    starts.source_entry_id,
    starts.entry_type,

    -- how far it got
    next_steps.legs_completed,
    next_steps.rule_path,
    next_steps.furthest_entry_id,
    next_steps.furthest_entries,
    case next_steps.next_severity
        when 2 then 'stopped'
        when 1 then 'waiting'
        else 'complete'
    end as chain_status,
    next_steps.next_rule_name as stopped_at_rule,
    next_steps.exception_category,

    -- amounts and dates
    starts.amount_minor,
    starts.currency,
    starts.business_date,
    starts.age_days
from starts
inner join next_steps
    on next_steps.start_entry_id = starts.entry_id
