{#- Semantics, step 2 (finding): a target-side entry is looked up by each rule whose target
    account is its account. Under a one-to-many rule the target entries sharing a group key (and
    currency) are looked up together, as one group. The rule's identifiers are tried in order
    and only the first that finds candidate expectations is used; every match rule is then
    evaluated on each candidate pair, keeping expected and actual values so the decision can be
    explained. A group takes part as one entry: the sum of its members' amounts, its latest
    member's dates, its first member's other fields. -#}
{#- Each rule reads the entries it needs straight from the table (`not materialized`), with its
    own filters and columns, and each identifier joins its own rule's expectation sources only.
    Profiled at 1e6 under a tenth of the machine's memory (as 1e7 runs under all of it): 43 s
    with one shared copy of the entries and every rule's sources in each join, 21 s like this;
    14 s and 11 s in full memory. -#}
{%- set rules = recon_rules() -%}
with

entries as not materialized (

    select * from {{ ref('int_entries_unioned') }}
    where is_reconcilable

),

expectations as (

    select * from {{ ref('int_expectations_created') }}

),

-- the source side of every expectation as one entry (a group's sums replace its first member's)
expectation_sources as (

    select
        entries.* replace (
            expectations.expected_amount_minor as amount_minor,
            expectations.expected_direction as direction,
            expectations.effective_at as effective_at,
            expectations.business_date as business_date
        ),
        expectations.expectation_id,
        expectations.rule_name,
        expectations.member_count as source_member_count,
        -- what was expected in the source's own currency, and how it was converted (if it was)
        expectations.expected_amount_minor as original_amount_minor,
        entries.currency as original_currency,
        cast(null as decimal(18, 10)) as fx_rate,
        cast(null as varchar) as fx_rate_source,
        cast(null as date) as fx_rate_date
    from expectations
    inner join entries
        on entries.entry_id = expectations.source_entry_id

),

{%- if rules | selectattr('fx') | list %}

currencies as (

    select * from {{ ref('currencies') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

fx_rate_overrides as (

    select * from {{ ref('fx_rate_overrides') }}

),
{%- endif %}

{%- for rule in rules %}

targets_{{ loop.index }} as (

    {%- if rule.cardinality == 'one_to_many' %}

    -- the rule's target entries, grouped by its target group key
    select
        entries.* replace (
            groups.amount_minor as amount_minor,
            groups.fee_minor as fee_minor,
            groups.effective_at as effective_at,
            groups.business_date as business_date
        ),
        groups.target_unit_id,
        groups.member_entry_ids as target_member_entry_ids,
        groups.member_count as target_member_count
    from (
        select
            case
                when group_key is null then entry_id
                else 'group:{{ rule.name }}:' || profile_id || ':' || currency || ':' || group_key
            end as target_unit_id,
            arg_min(entry_id, struct_pack(effective_at, entry_id)) as first_entry_id,
            list(entry_id order by effective_at, entry_id) as member_entry_ids,
            count(*) as member_count,
            abs(sum(group_amount_minor)) as amount_minor,
            sum(fee_minor) as fee_minor,
            max(effective_at) as effective_at,
            max(business_date) as business_date
        from (
            select
                target.*,
                cast({{ rule.target_group_by }} as varchar) as group_key,
                target.{{ rule.group_amount }} as group_amount_minor
            from entries as target
            where {{ recon_rule_applies_to_target(rule) }}
        )
        group by all
    ) as groups
    inner join entries
        on entries.entry_id = groups.first_entry_id

    {%- else %}

    select
        target.*,
        target.entry_id as target_unit_id,
        [target.entry_id] as target_member_entry_ids,
        1 as target_member_count
    from entries as target
    where {{ recon_rule_applies_to_target(rule) }}

    {%- endif %}

),
{%- if rule.fx %}

-- the expectations of a rule whose counterpart may settle in another currency, also in each
-- currency its targets settle in: at the rate an operator set for this reconciliation, else the
-- rule's own, else the reference rate of the source's business date (the last one published on
-- or before it); with no rate the amount is unknown and the fx_rate_available check fails
sources_{{ loop.index }} as (

    select * from expectation_sources
    where rule_name = '{{ rule.name }}'

    union all by name

    select
        converted.* replace (
            case
                when converted.direct_rate is not null then fx_convert(
                    cast(converted.amount_minor as bigint), from_currency.minor_units, to_currency.minor_units,
                    '1', cast(converted.direct_rate as varchar)
                )
                else fx_convert(
                    cast(converted.amount_minor as bigint), from_currency.minor_units, to_currency.minor_units,
                    cast(from_rate.units_per_eur as varchar), cast(to_rate.units_per_eur as varchar)
                )
            end as amount_minor,
            converted.settlement_currency as currency,
            coalesce(
                converted.direct_rate,
                cast(cast(to_rate.units_per_eur as double) / cast(from_rate.units_per_eur as double) as decimal(18, 10))
            ) as fx_rate,
            case
                when converted.override_rate is not null then 'override'
                when converted.rule_rate is not null then 'rule'
                when from_rate.units_per_eur is not null and to_rate.units_per_eur is not null then 'reference'
            end as fx_rate_source,
            -- the day the older of the two reference rates was published
            case
                when converted.direct_rate is null and from_rate.units_per_eur is not null
                    and to_rate.units_per_eur is not null
                    then least(from_rate.published_on, to_rate.published_on)
            end as fx_rate_date
        )
    from (
        select
            source.*,
            settlement.currency as settlement_currency,
            cast(fx_rate_overrides.rate as decimal(18, 10)) as override_rate,
            {%- if rule.fx.rate %}
            cast({{ rule.fx.rate }} as decimal(18, 10)) as rule_rate,
            {%- else %}
            cast(null as decimal(18, 10)) as rule_rate,
            {%- endif %}
            coalesce(override_rate, rule_rate) as direct_rate
        from expectation_sources as source
        inner join (select distinct profile_id, currency from targets_{{ loop.index }}) as settlement
            on settlement.profile_id = source.profile_id
            and settlement.currency <> source.currency
        left join fx_rate_overrides
            on fx_rate_overrides.profile_id = source.profile_id
            and fx_rate_overrides.source_entry_id = source.entry_id
            and upper(fx_rate_overrides.from_currency) = source.currency
            and upper(fx_rate_overrides.to_currency) = settlement.currency
        where source.rule_name = '{{ rule.name }}'
    ) as converted
    left join currencies as from_currency
        on from_currency.currency_code = converted.currency
    left join currencies as to_currency
        on to_currency.currency_code = converted.settlement_currency
    left join fx_rates as from_rate
        on from_rate.rate_day = converted.business_date
        and from_rate.currency = converted.currency
    left join fx_rates as to_rate
        on to_rate.rate_day = converted.business_date
        and to_rate.currency = converted.settlement_currency

),
{%- endif %}
{%- endfor %}

{#- a target tries a rule's identifiers in order: identifier k only looks up the targets that
    found no candidates by identifiers 1..k-1, so a fallback is evaluated only where it is used #}
{%- for rule in rules %}
{%- set rule_loop = loop %}
{%- for identifier in rule.identifiers %}

candidates_{{ rule_loop.index }}_{{ loop.index }} as (

    select
        target.target_unit_id,
        target.entry_id as target_entry_id,
        target.target_member_entry_ids,
        target.target_member_count,
        expectation.expectation_id,
        expectation.source_entry_id,
        source.source_member_count,
        '{{ rule.name }}' as rule_name,
        {{ rule.priority }} as rule_priority,
        {{ loop.index }} as identifier_rank,
        '{{ identifier.name | default("identifier_" ~ loop.index) }}' as identifier_name,
        expectation.identifier_{{ loop.index }} as identifier_value,
        source.amount_minor as source_amount_minor,
        source.original_amount_minor as source_original_amount_minor,
        source.original_currency as source_currency,
        target.currency as settlement_currency,
        source.fx_rate,
        source.fx_rate_source,
        source.fx_rate_date,
        target.amount_minor as target_amount_minor,
        target.fee_minor as target_fee_minor,
        source.effective_at as source_effective_at,
        target.effective_at as target_effective_at,
        {{ recon_match_results(rule) }} as match_results
    from targets_{{ rule_loop.index }} as target
    {%- for earlier in range(1, loop.index) %}
    anti join candidates_{{ rule_loop.index }}_{{ earlier }} as found_{{ earlier }}
        on found_{{ earlier }}.target_unit_id = target.target_unit_id
    {%- endfor %}
    inner join expectations as expectation
        on expectation.rule_name = '{{ rule.name }}'
        and expectation.profile_id = target.profile_id
        and expectation.identifier_{{ loop.index }} = cast({{ identifier.target }} as varchar)
    {%- if rule.fx %}
    inner join sources_{{ rule_loop.index }} as source
        on source.expectation_id = expectation.expectation_id
        -- the source as the target settles it: converted when the rule lets this pair cross currencies
        and source.currency = case
            when target.currency <> expectation.expected_currency and ({{ rule.fx.when }}) then target.currency
            else expectation.expected_currency
        end
    {%- else %}
    inner join expectation_sources as source
        on source.expectation_id = expectation.expectation_id
        and source.rule_name = '{{ rule.name }}'
    {%- endif %}
    where not list_contains(target.target_member_entry_ids, source.entry_id)

),
{%- endfor %}
{%- endfor %}

first_identifier_with_candidates as (

    {%- for rule in rules %}
    {%- set rule_loop = loop %}
    {%- for identifier in rule.identifiers %}
    select * from candidates_{{ rule_loop.index }}_{{ loop.index }}
    {{ 'union all' if not (loop.last and rule_loop.last) }}
    {%- endfor %}
    {%- endfor %}

),

-- a target entry tries the rules by priority, as it tries identifiers: the first rule that
-- finds candidates for it is its rule, and a lower rule's candidates for it (alone or in a
-- group) are none
best_rule_of_entry as (

    select
        member.entry_id,
        max(first_identifier_with_candidates.rule_priority) as best_rule_priority
    from first_identifier_with_candidates,
        unnest(first_identifier_with_candidates.target_member_entry_ids) as member(entry_id)
    group by member.entry_id

),

outranked as (

    select distinct
        candidates.target_unit_id,
        candidates.rule_name
    from first_identifier_with_candidates as candidates,
        unnest(candidates.target_member_entry_ids) as member(entry_id)
    inner join best_rule_of_entry
        on best_rule_of_entry.entry_id = member.entry_id
    where best_rule_of_entry.best_rule_priority > candidates.rule_priority

),

kept as (

    select candidates.*
    from first_identifier_with_candidates as candidates
    anti join outranked
        on outranked.target_unit_id = candidates.target_unit_id
        and outranked.rule_name = candidates.rule_name

)

select
    target_unit_id || '>' || expectation_id as candidate_id,
    target_unit_id,
    target_entry_id,
    target_member_entry_ids,
    target_member_count,
    expectation_id,
    source_entry_id,
    source_member_count,
    rule_name,
    rule_priority,
    identifier_rank,
    identifier_name,
    identifier_value,
    match_results,
    list_bool_and(list_transform(match_results, lambda result: result.passed)) as all_passed,
    list_filter(match_results, lambda result: not result.passed)[1] as first_failure,
    array_to_string(
        list_transform(list_filter(match_results, lambda result: not result.passed), lambda result: result.name), ', '
    ) as failed_checks,
    -- the order in which a target prefers its candidates, and an expectation its targets
    row_number() over (
        partition by target_unit_id
        order by rule_priority desc, identifier_rank, source_effective_at, expectation_id
    ) as preference_of_target,
    source_amount_minor,
    source_original_amount_minor,
    source_currency,
    settlement_currency,
    fx_rate,
    fx_rate_source,
    fx_rate_date,
    target_amount_minor,
    target_fee_minor,
    target_effective_at,
    source_effective_at
from kept
