"""Daily runs: late data matches open expectations on a later day; the ledger keeps history."""

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from dagster_project.lib.demo_data import PROFILES, generate_demo_data
from dagster_project.lib.evaluation import evaluate
from tests.conftest import recon
from tests.test_ledger import balance_by_hand


def test_day_by_day_runs_reach_the_same_truth_and_version_the_ledger(tmp_path: Path) -> None:
    home = tmp_path / "home"
    dataset = generate_demo_data(tmp_path / "incoming", days=3, orders_per_day=25, seed=11)
    landed: dict[tuple[str, str], list[str]] = {}
    for source_name, profile, path in dataset.files:
        landed.setdefault((source_name, profile), []).append(str(path))
    for (source_name, profile), paths in landed.items():
        recon(home, "ingest", *paths, "--source", source_name, "--profile", profile)
    truth = list(csv.DictReader(open(tmp_path / "incoming" / "ground_truth.csv")))
    # an order of the first day whose charge comes the next day
    late = next(r for r in truth if r["source_name"] == "shopify_orders" and r["scenario"] == "late_charge")
    late_profile, late_order = late["profile_id"], late["record_id"]
    first_day_export = tmp_path / "incoming" / "shopify_orders" / late_profile / "orders_export_2026-11-01.csv"
    assert late_order in {row["Name"] for row in csv.DictReader(open(first_day_export))}
    outcome_sql = """
        select status from marts.fct_reconciliation_outcomes
        where profile_id = ? and source_entry_id = ? and entry_type = 'order'
    """

    def warehouse() -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(home / "warehouse" / "recon.duckdb"), read_only=True)

    def balances(*args: str) -> dict[str, int]:
        answer = json.loads(recon(home, "balance", *args, "--format", "json").stdout)
        return {row["status"]: row["balance_minor"] for row in answer}

    receivable = f"{late_profile}:shopify_receivable:{PROFILES[late_profile]}"
    recon(home, "run", "--date", "2026-11-01")
    with warehouse() as connection:
        first_day = connection.execute(outcome_sql, [late_profile, late_order]).fetchall()
    # its charge comes the next day, so after day one the order is open, not missing
    assert first_day == [("open",)]
    after_day_one = balances(receivable, "--as-of", "2026-11-01")
    known_after_day_one = datetime.now(UTC)

    recon(home, "run", "--date", "2026-11-02")
    known_after_day_two = datetime.now(UTC)
    recon(home, "run", "--date", "2026-11-03")

    # bi-temporal: the first day's balances as the books showed them after day one, and as known now
    # (the late charge moved an expected amount of day one to posted on day two)
    then = balances(receivable, "--as-of", "2026-11-01", "--known-at", known_after_day_one.isoformat())
    now = balances(receivable, "--as-of", "2026-11-01")
    assert then == after_day_one
    assert then["EXPECTED"] != now["EXPECTED"]
    with warehouse() as connection:
        for known_at in (known_after_day_one, known_after_day_two, datetime(9999, 1, 1, tzinfo=UTC)):
            for as_of in (datetime(2026, 11, 1, 23), datetime(2026, 11, 2, 12), datetime(2026, 11, 4)):
                answer = balances(receivable, "--as-of", as_of.isoformat(), "--known-at", known_at.isoformat())
                naive_known_at = known_at.astimezone(UTC).replace(tzinfo=None)
                for status in ("POSTED", "EXPECTED"):
                    assert answer[status] == balance_by_hand(connection, receivable, status, as_of, naive_known_at), (
                        status,
                        as_of,
                        known_at,
                    )
    with warehouse() as connection:
        history = connection.execute(
            """
            select version, status
            from marts.fct_ledger_entry_versions
            where transaction_id = 'txn|shopify_order_to_stripe_charge|' || ? || ':shopify_orders:' || ?
                and entry_index = 1
            order by version
            """,
            [late_profile, late_order],
        ).fetchall()
        result = evaluate(connection, tmp_path / "incoming" / "ground_truth.csv")
        windows = connection.sql(
            "select distinct run_window_start from marts.fct_ledger_entry_versions order by 1"
        ).fetchall()
    assert history == [(1, "EXPECTED"), (2, "POSTED")]
    assert [w[0] for w in windows] == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert result.mistakes == []
