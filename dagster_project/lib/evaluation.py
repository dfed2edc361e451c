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


@dataclass
class Evaluation:
    records: int
    correct: int
    true_matches: int
    found_matches: int
    correct_matches: int
    exceptions_by_category: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    mistakes: list[dict] = field(default_factory=list)

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
    """Compare every record's outcome with the ground truth written by the generator."""
    relation = connection.sql(_OUTCOMES_SQL, params=[str(ground_truth)])
    names = relation.columns
    rows = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
    unexpected = connection.sql(_UNEXPECTED_SQL, params=[str(ground_truth)])
    rows += [dict(zip(unexpected.columns, row, strict=True)) for row in unexpected.fetchall()]
    mistakes = [
        row
        for row in rows
        if (row["expected_status"], row["expected_category"], row["expected_counterpart"])
        != (row["actual_status"], row["actual_category"], row["actual_counterpart"])
    ]
    true_pairs = {
        (row["profile_id"], row["source_name"] + ":" + row["record_id"], row["expected_counterpart"])
        for row in rows
        if row["expected_status"] == "matched" and row["side"] == "source"
    }
    found = connection.sql(
        """
        select
            profile_id,
            source_name || ':' || source_entry_id,
            counterpart_source_name || ':' || counterpart_source_entry_id
        from marts.fct_reconciliation_outcomes
        where side = 'source' and status = 'matched'
        """
    ).fetchall()
    found_pairs = set(found)
    categories: dict[str, tuple[int, int, int]] = {}
    for category in sorted({r["expected_category"] for r in rows} | {r["actual_category"] for r in rows} - {""}):
        if not category:
            continue
        injected = sum(r["expected_category"] == category for r in rows)
        reported = sum(r["actual_category"] == category for r in rows)
        agreed = sum(r["expected_category"] == category and r["actual_category"] == category for r in rows)
        categories[category] = (injected, reported, agreed)
    return Evaluation(
        records=len(rows),
        correct=len(rows) - len(mistakes),
        true_matches=len(true_pairs),
        found_matches=len(found_pairs),
        correct_matches=len(true_pairs & found_pairs),
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
