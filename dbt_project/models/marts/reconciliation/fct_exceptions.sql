{#- One row per exception. A mismatch between two entries is one exception seen from both sides;
    it carries both records, the check that failed with its expected and actual values, the
    amount at stake, its age and a severity from amount and age.

    Its status follows the resolutions log, latest action wins: OPEN with none, ASSIGNED after an
    `assign`, RESOLVED after any other action. An exception that a force_match or link resolved
    is no longer one (the pair is matched), so it leaves this table; the log keeps the action.

    A bank statement whose loaded lines do not add up to what it claims (its closing balance, its
    interim totals, its control total) is a `statement_out_of_balance` exception of its own: the
    statement is the unit of trust, so it carries the statement, its account, its lines and the
    difference as the amount at stake, whatever became of the lines in matching. -#}
{%- set amount = var('severity_amount_minor') -%}
{%- set age = var('severity_age_days') -%}
with

outcomes as (

    -- with the match rules' results of the pair that decided
    select * from {{ ref('fct_reconciliation_outcomes') }}
    where status = 'exception'

),

keyed as (

    select
        *,
        case
            when exception_category in ('amount_over', 'amount_under') then abs(variance_minor)
            else amount_minor
        end as amount_at_stake_minor
    from outcomes

),

exceptions as (

    select
        md5(
            exception_category || '|'
            || case
                -- about one entry in one role (an entry may play one role per leg of a chain)
                when exception_category in (
                    'duplicate_entry', 'several_candidates', 'missing_counterpart',
                    'missing_identifier', 'no_rule_found', 'unknown_account'
                )
                    then side || '|' || coalesce(rule_name, '') || '|' || entry_id
                -- about a pair (of entries or groups): the same exception from either side
                else coalesce(expectation_id, '') || '|' || coalesce(target_unit_id, '')
            end
        ) as exception_id,
        *
    from keyed

),

statements_out_of_balance as (

    select
        -- ids
        md5('statement_out_of_balance|' || statements.statement_key) as exception_id,
        'statement_out_of_balance' as category,
        profiles.organization_id,
        profiles.merchant_id,
        statements.profile_id,
        cast(null as varchar) as rule_name,
        statements.entry_ids,
        statements.records,
        cast(null as varchar) as expectation_id,
        statements.statement_id,
        statements.account_id,
        statements.source_file,
        statements.check_reason,

        -- what failed: the statement's claim (expected) against its loaded lines (actual)
        statements.check_kind as failed_check,
        -- the listings show this column: it names the statement and its account
        format(
            '{} statement {} of account {}',
            statements.source_name,
            coalesce(statements.statement_id, '(no reference)'),
            coalesce(statements.account_id, '(none)')
        ) as failed_field,
        cast(statements.expected_total_minor as varchar) as expected_value,
        cast(statements.loaded_total_minor as varchar) as actual_value,

        -- money and age
        abs(statements.difference_minor) as amount_at_stake_minor,
        statements.currency,
        statements.loaded_total_minor - statements.expected_total_minor as variance_minor,
        statements.statement_date as business_date,
        date_diff('day', statements.statement_date, {{ as_of_date() }}) as age_days
    from {{ ref('int_bank_statements_checked') }} as statements
    left join {{ ref('profiles') }} as profiles
        on profiles.profile_id = statements.profile_id
    where statements.check_status = 'out_of_balance'

),

statement_exceptions as (

    select
        *,
        case
            when amount_at_stake_minor >= {{ amount.critical }} or age_days >= {{ age.critical }} then 'critical'
            when amount_at_stake_minor >= {{ amount.high }} or age_days >= {{ age.high }} then 'high'
            when amount_at_stake_minor >= {{ amount.medium }} or age_days >= {{ age.medium }} then 'medium'
            else 'low'
        end as severity
    from statements_out_of_balance

),

latest_resolutions as (

    select
        exception_id,
        arg_max(action, resolved_at) as resolution_action,
        arg_max(resolved_by, resolved_at) as resolved_by,
        max(resolved_at) as resolved_at,
        -- the latest assignment stays when the exception is then resolved
        arg_max(assignee, case when action = 'assign' then resolved_at end) as assigned_to
    from {{ ref('stg_resolutions__resolutions') }}
    group by exception_id

),

grouped as (

select
    -- ids
    exception_id,
    exception_category as category,
    any_value(organization_id) as organization_id,
    any_value(merchant_id) as merchant_id,
    any_value(profile_id) as profile_id,
    any_value(rule_name) as rule_name,
    list(entry_id order by side desc, entry_id) as entry_ids,
    list(source_name || ':' || source_entry_id order by side desc, entry_id) as records,
    any_value(expectation_id) as expectation_id,

    -- what failed
    any_value(failed_check) as failed_check,
    any_value(failed_field) as failed_field,
    any_value(expected_value) as expected_value,
    any_value(actual_value) as actual_value,
    any_value(identifier_name) as identifier_name,
    any_value(match_results) as match_results,

    -- money and age
    max(amount_at_stake_minor) as amount_at_stake_minor,
    any_value(currency) as currency,
    max(variance_minor) as variance_minor,
    min(business_date) as business_date,
    max(age_days) as age_days,
    case
        when max(amount_at_stake_minor) >= {{ amount.critical }} or max(age_days) >= {{ age.critical }} then 'critical'
        when max(amount_at_stake_minor) >= {{ amount.high }} or max(age_days) >= {{ age.high }} then 'high'
        when max(amount_at_stake_minor) >= {{ amount.medium }} or max(age_days) >= {{ age.medium }} then 'medium'
        else 'low'
    end as severity,
    any_value(target_unit_id) as target_unit_id
from exceptions
group by exception_id, exception_category

),

every_exception as (

    -- the statement's own columns are null for the matching's exceptions
    select * from grouped
    union all by name
    select * from statement_exceptions

)

select
    grouped.*,
    case
        when latest_resolutions.resolution_action is null then 'OPEN'
        when latest_resolutions.resolution_action = 'assign' then 'ASSIGNED'
        else 'RESOLVED'
    end as exception_status,
    -- the same, under the name the listings filter on
    exception_status as status,
    latest_resolutions.assigned_to,
    case when latest_resolutions.resolution_action <> 'assign' then latest_resolutions.resolved_by end as resolved_by,
    case when latest_resolutions.resolution_action <> 'assign' then latest_resolutions.resolution_action end
        as resolution_action,
    case when latest_resolutions.resolution_action <> 'assign' then latest_resolutions.resolved_at end as resolved_at
from every_exception as grouped
left join latest_resolutions
    on latest_resolutions.exception_id = grouped.exception_id
