"""How a reconciliation compares with the generator's ground truth.

The ground truth holds one row per record and role (side): the outcome a correct
reconciliation reaches. A match is a pair (source-side record, its counterpart); precision and
recall count those pairs over every rule of the chain.
"""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

_TRUTH_SQL = """
    select
        *,
        profile_id || ':' || source_name || ':' || record_id
            || case when entry_type = 'refund' and source_name = 'shopify_orders' then ':refund' else '' end
            || case when copy <> '1' then '#copy' || copy else '' end as entry_id
    from read_csv(?, all_varchar = true, header = true)
"""

# outcomes of roles the ground truth does not know: an entry playing a part it should not
_UNEXPECTED_SQL = f"""
select
    outcomes.profile_id,
    outcomes.source_name,
    outcomes.source_entry_id as record_id,
    outcomes.entry_type,
    outcomes.side,
    'unexpected role' as scenario,
    '' as expected_status,
    '' as expected_category,
    '' as expected_counterpart,
    outcomes.status as actual_status,
    coalesce(outcomes.exception_category, '') as actual_category,
    coalesce(outcomes.counterpart_source_name || ':' || outcomes.counterpart_source_entry_id, '') as actual_counterpart
from marts.fct_reconciliation_outcomes as outcomes
anti join ({_TRUTH_SQL}) as truth
    on truth.entry_id = outcomes.entry_id
    and truth.side = outcomes.side
"""

_OUTCOMES_SQL = f"""
with truth as ({_TRUTH_SQL}),
actual as (
    select
        entry_id,
        side,
        status,
        exception_category,
        counterpart_source_name || ':' || counterpart_source_entry_id as counterpart
    from marts.fct_reconciliation_outcomes
),
quarantined as (
    select distinct regexp_extract(source_file, '[^/]+$') as file, cast(source_row as varchar) as row
    from raw.quarantine
)
select
    truth.profile_id,
    truth.source_name,
    truth.record_id,
    truth.entry_type,
    truth.side,
    truth.scenario,
    truth.expected_status,
    coalesce(truth.expected_category, '') as expected_category,
    coalesce(truth.expected_counterpart, '') as expected_counterpart,
    case when truth.expected_status = 'quarantined'
        then case when quarantined.file is not null then 'quarantined' else 'not quarantined' end
        else coalesce(actual.status, 'missing')
    end as actual_status,
    case when truth.expected_status = 'quarantined' and quarantined.file is not null
        then 'invalid_input' else coalesce(actual.exception_category, '') end as actual_category,
    case when truth.expected_status = 'quarantined' then coalesce(truth.expected_counterpart, '')
        else coalesce(actual.counterpart, '') end as actual_counterpart
from truth
left join actual
    on actual.entry_id = truth.entry_id
    and actual.side = truth.side
left join quarantined
    on quarantined.file = truth.file and quarantined.row = truth.row
"""


# how many wrong records an evaluation keeps to show (all of them are counted)
MISTAKES_KEPT = 100


@dataclass
class Evaluation:
    records: int
    correct: int
    true_matches: int
    found_matches: int
    correct_matches: int
    exceptions_by_category: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # the first MISTAKES_KEPT wrong records (by profile, source, record and side)
    mistakes: list[dict] = field(default_factory=list)

    @property
    def wrong(self) -> int:
        return self.records - self.correct

    @property
    def precision(self) -> float:
        return self.correct_matches / self.found_matches if self.found_matches else 1.0

    @property
    def recall(self) -> float:
        return self.correct_matches / self.true_matches if self.true_matches else 1.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.records if self.records else 1.0


def evaluate(connection: duckdb.DuckDBPyConnection, ground_truth: Path) -> Evaluation:
    """Compare every record's outcome with the ground truth written by the generator, in SQL
    (a large run's ground truth has tens of millions of rows): counts, and a sample of the
    wrong records."""
    connection.execute(
        f"""
        create or replace temp table evaluated as
        select
            *,
            (expected_status, expected_category, expected_counterpart)
                is not distinct from (actual_status, actual_category, actual_counterpart) as is_correct
        from ({_OUTCOMES_SQL} union all by name {_UNEXPECTED_SQL})
        """,
        [str(ground_truth), str(ground_truth)],
    )
    try:
        records, correct = connection.execute(
            "select count(*), count(*) filter (is_correct) from evaluated"
        ).fetchall()[0]
        cursor = connection.execute(
            f"""
            select * exclude (is_correct) from evaluated
            where not is_correct
            order by profile_id, source_name, record_id, side
            limit {MISTAKES_KEPT}
            """
        )
        names = [column[0] for column in cursor.description]
        mistakes = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        true_matches, found_matches, correct_matches = connection.execute(
            """
            with true_pairs as (
                select distinct
                    profile_id,
                    source_name || ':' || record_id as source,
                    expected_counterpart as counterpart
                from evaluated
                where expected_status = 'matched' and side = 'source'
            ),
            found_pairs as (
                select distinct
                    profile_id,
                    source_name || ':' || source_entry_id as source,
                    counterpart_source_name || ':' || counterpart_source_entry_id as counterpart
                from marts.fct_reconciliation_outcomes
                where side = 'source' and status = 'matched'
            )
            select
                (select count(*) from true_pairs),
                (select count(*) from found_pairs),
                (select count(*) from (select * from true_pairs intersect select * from found_pairs))
            """
        ).fetchall()[0]
        by_category = connection.execute(
            """
            select category, sum(injected), sum(reported), sum(agreed)
            from (
                select expected_category as category, 1 as injected, 0 as reported,
                    cast(actual_category = expected_category as integer) as agreed
                from evaluated
                where expected_category <> ''
                union all
                select actual_category, 0, 1, 0
                from evaluated
                where actual_category <> ''
            )
            group by category
            order by category
            """
        ).fetchall()
    finally:
        connection.execute("drop table if exists evaluated")
    categories = {category: (int(i), int(r), int(a)) for category, i, r, a in by_category}
    return Evaluation(
        records=records,
        correct=correct,
        true_matches=true_matches,
        found_matches=found_matches,
        correct_matches=correct_matches,
        exceptions_by_category=categories,
        mistakes=mistakes,
    )


def day_accuracy(
    connection: duckdb.DuckDBPyConnection, ground_truth: Path, profile: str, business_date: object
) -> tuple[int, int]:
    """(correct, records) over the reconciled records of one profile and business date that the
    ground truth knows: a record is correct when its status, category and counterpart agree."""
    correct, records = connection.sql(
        f"""
        with truth as ({_TRUTH_SQL})
        select
            count(*) filter (
                where truth.expected_status = outcomes.status
                and coalesce(truth.expected_category, '') = coalesce(outcomes.exception_category, '')
                and coalesce(truth.expected_counterpart, '') = coalesce(
                    outcomes.counterpart_source_name || ':' || outcomes.counterpart_source_entry_id, ''
                )
            ),
            count(*)
        from marts.fct_reconciliation_outcomes as outcomes
        inner join truth
            on truth.entry_id = outcomes.entry_id
            and truth.side = outcomes.side
        where outcomes.profile_id = ? and outcomes.business_date = ?
        """,
        params=[str(ground_truth), profile, business_date],
    ).fetchall()[0]
    return int(correct), int(records)
