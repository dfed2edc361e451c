"""The read side of the command line: listings from the marts, filtered."""

from datetime import date
from typing import Any

import duckdb


def _amount(minor: str) -> str:
    """SQL for an exact decimal string of a minor-unit amount in its currency's units."""
    return f"""case coalesce(currencies.minor_units, 2)
        when 0 then cast(cast({minor} as decimal(38, 0)) as varchar)
        when 3 then cast(cast(cast({minor} as decimal(38, 3)) / 1000 as decimal(38, 3)) as varchar)
        else cast(cast(cast({minor} as decimal(38, 2)) / 100 as decimal(38, 2)) as varchar)
    end"""


# every match rule of a decision: its name, whether it passed, and the values it compared
_CHECKS = """list_transform(
    match_results,
    lambda r: r.name || case when r.passed then ' ok' else ' FAILED' end
        || ' (' || coalesce(r.expected, 'null') || ' vs ' || coalesce(r.actual, 'null') || ')'
)"""


def rows(
    connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The result of ``sql`` as one dict per row."""
    relation = connection.sql(sql, params=params)
    names = relation.columns
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def _filters(**conditions: Any) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column, value in conditions.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (" where " + " and ".join(clauses)) if clauses else "", params


def daily_status(
    connection: duckdb.DuckDBPyConnection, *, business_date: date | None, profile: str | None
) -> list[dict[str, Any]]:
    where, params = _filters(business_date=business_date, profile_id=profile)
    return rows(
        connection,
        f"""
        select
            organization_id,
            merchant_id,
            profile_id,
            business_date,
            rule_name,
            side,
            mart.currency,
            entries,
            matched_entries as matched,
            matched_within_tolerance_entries as within_tolerance,
            open_entries as open,
            exception_entries as exceptions,
            {_amount("matched_amount_minor")} as matched_amount,
            {_amount("open_amount_minor")} as open_amount,
            {_amount("exception_amount_minor")} as exception_amount,
            match_rate
        from marts.mart_daily_reconciliation as mart
        left join config.currencies on currencies.currency_code = mart.currency
        {where}
        order by profile_id, business_date, side desc, rule_name, currency
        """,
        params,
    )


def matches(
    connection: duckdb.DuckDBPyConnection, *, business_date: date | None, profile: str | None
) -> list[dict[str, Any]]:
    where, params = _filters(business_date=business_date, profile_id=profile)
    return rows(
        connection,
        f"""
        select
            profile_id,
            business_date,
            rule_name,
            source_name,
            source_record_id,
            source_member_count as source_entries,
            target_source_name,
            target_record_id,
            target_member_count as target_entries,
            identifier_name,
            identifier_rank,
            identifier_value,
            {_amount("matched_amount_minor")} as amount,
            fct_matches.currency,
            {_amount("fee_minor")} as fee,
            passing_candidates,
            is_within_tolerance,
            {_CHECKS} as checks,
            matched_at
        from marts.fct_matches
        left join config.currencies on currencies.currency_code = fct_matches.currency
        {where}
        order by profile_id, business_date, rule_name, source_record_id
        """,
        params,
    )


def exceptions(
    connection: duckdb.DuckDBPyConnection,
    *,
    status: str | None,
    business_date: date | None,
    profile: str | None,
    category: str | None,
) -> list[dict[str, Any]]:
    where, params = _filters(
        status=status.upper() if status else None,
        business_date=business_date,
        profile_id=profile,
        category=category,
    )
    return rows(
        connection,
        f"""
        select
            exception_id,
            category,
            severity,
            status,
            assigned_to,
            resolution_action,
            resolved_by,
            profile_id,
            business_date,
            age_days,
            rule_name,
            records,
            identifier_name,
            failed_check,
            failed_field,
            expected_value as expected,
            actual_value as actual,
            {_CHECKS} as checks,
            {_amount("amount_at_stake_minor")} as amount_at_stake,
            fct_exceptions.currency
        from marts.fct_exceptions
        left join config.currencies on currencies.currency_code = fct_exceptions.currency
        {where}
        order by profile_id, business_date, category, exception_id
        """,
        params,
    )


def quarantine(connection: duckdb.DuckDBPyConnection, *, profile: str | None) -> list[dict[str, Any]]:
    where, params = _filters(profile_id=profile)
    return rows(
        connection,
        f"""
        select * from (
            select source_name, profile_id, source_file, source_row, field, reason
            from raw.quarantine
            union all
            select source_name, profile_id, path, null, null, 'whole file rejected: ' || reason
            from raw.rejected_files
        )
        {where}
        order by source_file, source_row nulls first
        """,
        params,
    )


def statements(
    connection: duckdb.DuckDBPyConnection, *, profile: str | None, status: str | None
) -> list[dict[str, Any]]:
    """Every bank statement ingested, with the check of its claim against the lines loaded from
    it (known as soon as the file is ingested, before any run); amounts as exact text."""
    where, params = _filters(profile_id=profile, check_status=status)
    return rows(
        connection,
        f"""
        select
            source_name,
            profile_id,
            source_file,
            statement_row as line,
            statement_id,
            statement_number,
            account_id,
            currency,
            statement_date,
            check_kind,
            check_status,
            cast(opening_balance as varchar) as opening_balance,
            cast(closing_balance as varchar) as closing_balance,
            cast(expected_total as varchar) as expected_total,
            cast(loaded_total as varchar) as loaded_total,
            cast(difference as varchar) as difference,
            rows_read,
            rows_loaded,
            rows_quarantined,
            reason
        from raw.bank_statements
        {where}
        order by checked_at, source_file, statement_position
        """,
        params,
    )


def files(connection: duckdb.DuckDBPyConnection, *, profile: str | None) -> list[dict[str, Any]]:
    """Every ingested file: rows read, loaded, quarantined and staged, and whether they add up."""
    where, params = _filters(profile_id=profile)
    return rows(
        connection,
        f"""
        select
            source_name,
            profile_id,
            source_file,
            rows_read,
            rows_loaded,
            rows_quarantined,
            staged_entries,
            skipped_by_staging,
            is_conserved,
            file_id,
            ingested_at,
            read_decisions
        from marts.mart_file_conservation
        {where}
        order by ingested_at, source_name, source_file
        """,
        params,
    )


# how far a flow of mart_chain_progress got, and where it stopped
_CHAIN_PROGRESS = (
    "legs_completed, array_to_string(rule_path, ' > ') as legs, chain_status, stopped_at_rule, exception_category"
)


def chains(
    connection: duckdb.DuckDBPyConnection, *, business_date: date | None, profile: str | None, status: str | None
) -> list[dict[str, Any]]:
    """How far each flow (an order, a refund) got along its chain of rules, and where it stopped."""
    where, params = _filters(business_date=business_date, profile_id=profile, chain_status=status)
    return chain_listing(connection, where, params)


def chain_listing(
    connection: duckdb.DuckDBPyConnection,
    where: str,
    params: list[Any],
    *,
    order_by: str = "profile_id, business_date, source_name, source_entry_id",
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The flows of ``mart_chain_progress`` (as ``chains``) that ``where`` keeps, in ``order_by``,
    at most ``limit`` of them."""
    return rows(
        connection,
        f"""
        select
            profile_id,
            business_date,
            source_name,
            source_entry_id as record_id,
            entry_type,
            {_CHAIN_PROGRESS},
            {_amount("amount_minor")} as amount,
            chains.currency
        from marts.mart_chain_progress as chains
        left join config.currencies on currencies.currency_code = chains.currency
        {where}
        order by {order_by}
        {"" if limit is None else f"limit {int(limit)}"}
        """,
        params,
    )


def chain_groups(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The flows counted by where they got: one row per profile, business date, entry type, path
    of rules, status, stop and currency, with how many flows and the sum of their amounts."""
    return rows(
        connection,
        f"""
        select
            groups.* exclude (amount_minor),
            {_amount("groups.amount_minor")} as amount
        from (
            select
                profile_id,
                business_date,
                entry_type,
                {_CHAIN_PROGRESS},
                currency,
                count(*) as flows,
                sum(amount_minor) as amount_minor
            from marts.mart_chain_progress
            group by all
        ) as groups
        left join config.currencies on currencies.currency_code = groups.currency
        order by profile_id, business_date, entry_type, legs, chain_status, stopped_at_rule, exception_category
        """,
    )


def entry_outcomes(
    connection: duckdb.DuckDBPyConnection,
    *,
    business_date: date | None,
    profile: str | None,
    rule: str | None = None,
    side: str | None = None,
    currency: str | None = None,
) -> list[dict[str, Any]]:
    """The entries behind a figure of the daily reconciliation (a profile, business date, rule,
    side and currency), each with its outcome and why: the counterpart, the rule and identifier
    that decided, the match rules' values, or the exception's category and failed check."""
    where, params = _filters(
        business_date=business_date,
        profile_id=profile,
        # the daily reconciliation counts an entry no rule took under `no_rule`
        **{"coalesce(rule_name, 'no_rule')": rule},
        side=side,
        **{"outcomes.currency": currency},
    )
    status_filter = "outcomes.status in ('matched', 'open', 'exception')"
    where = f"{where} and {status_filter}" if where else f" where {status_filter}"
    return rows(
        connection,
        f"""
        select
            profile_id,
            business_date,
            coalesce(rule_name, 'no_rule') as rule_name,
            side,
            source_name,
            source_entry_id as record_id,
            entry_type,
            outcomes.status,
            is_within_tolerance,
            exception_category,
            counterpart_source_name,
            counterpart_source_entry_id as counterpart_record_id,
            identifier_name,
            identifier_rank,
            failed_check,
            failed_field,
            expected_value as expected,
            actual_value as actual,
            {_CHECKS} as checks,
            {_amount("amount_minor")} as amount,
            outcomes.currency,
            age_days,
            entry_id,
            expectation_id
        from marts.fct_reconciliation_outcomes as outcomes
        left join config.currencies on currencies.currency_code = outcomes.currency
        {where}
        order by outcomes.status, source_name, source_entry_id
        """,
        params,
    )
