"""How a reconciliation compares with the generator's ground truth."""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

_OUTCOMES_SQL = """
with truth as (
    select
        *,
        profile_id || ':' || source_name || ':' || record_id
            || case when entry_type = 'refund' and source_name = 'shopify_orders' then ':refund' else '' end
            || case when copy <> '1' then '#copy' || copy else '' end as entry_id
    from read_csv(?, all_varchar = true, header = true)
),
actual as (
    select
        entry_id,
        status,
        exception_category,
        counterpart_source_name || ':' || counterpart_source_entry_id as counterpart
    from marts.fct_reconciliation_outcomes
    qualify row_number() over (partition by entry_id order by side = 'none', side) = 1
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
    mistakes = [
        row
        for row in rows
        if (row["expected_status"], row["expected_category"], row["expected_counterpart"])
        != (row["actual_status"], row["actual_category"], row["actual_counterpart"])
    ]
    true_pairs = {
        (row["profile_id"], row["source_name"] + ":" + row["record_id"], row["expected_counterpart"])
        for row in rows
        if row["expected_status"] == "matched" and row["source_name"] == "shopify_orders"
    }
    found = connection.sql(
        """
        select
            profile_id,
            source_name || ':' || source_record_id,
            target_source_name || ':' || target_record_id
        from marts.fct_matches
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
