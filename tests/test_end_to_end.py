"""The whole product on generated data with known ground truth, through the command line."""

import csv
import json
from pathlib import Path

import duckdb

from tests.conftest import recon


def _warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse" / "recon.duckdb"), read_only=True)


def test_every_record_reaches_its_true_outcome(demo_home: Path) -> None:
    from dagster_project.lib.evaluation import evaluate

    with _warehouse(demo_home) as connection:
        result = evaluate(connection, demo_home / "demo" / "ground_truth.csv")
    assert result.mistakes == []
    assert result.precision == result.recall == 1.0
    # every kind of flow the rules must get right is in the data they got right
    scenarios = {row["scenario"] for row in csv.DictReader(open(demo_home / "demo" / "ground_truth.csv"))}
    assert {"partial_capture", "dispute", "lookalike", "across_midnight", "charge_found_by_email",
            "paid_out", "credited", "mistyped_reference", "missing_bank_credit", "paypal_found_by_email",
            "paypal_withdrawal"} <= scenarios  # fmt: skip
    injected = {category: counts[0] for category, counts in result.exceptions_by_category.items()}
    # every kind of messiness the generator injects is present and recognised
    assert {
        "amount_over",
        "amount_under",
        "currency_mismatch",
        "duplicate_entry",
        "status_conflict",
        "missing_identifier",
        "no_rule_found",
        "invalid_input",
    } <= {c for c, n in injected.items() if n}


def test_the_evaluation_finds_a_wrong_outcome(demo_home: Path, tmp_path: Path) -> None:
    from dagster_project.lib.evaluation import evaluate

    # a ground truth that disagrees on two records: a matched order it says stayed open, and an
    # exception it puts in another category
    truth = demo_home / "demo" / "ground_truth.csv"
    rows = list(csv.DictReader(open(truth)))
    order = next(r for r in rows if r["side"] == "source" and r["expected_status"] == "matched")
    exception = next(r for r in rows if r["expected_category"] == "amount_over" and r["side"] == "source")
    order.update(expected_status="open", expected_counterpart="")
    exception.update(expected_category="amount_under")
    altered = tmp_path / "ground_truth.csv"
    with open(altered, "w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with _warehouse(demo_home) as connection:
        right = evaluate(connection, truth)
        wrong = evaluate(connection, altered)
    assert (wrong.records, wrong.wrong) == (right.records, 2)
    assert sorted(m["record_id"] for m in wrong.mistakes) == sorted([order["record_id"], exception["record_id"]])
    assert (wrong.true_matches, wrong.found_matches, wrong.correct_matches) == (
        right.true_matches - 1, right.found_matches, right.correct_matches - 1,
    )  # fmt: skip
    assert wrong.precision < 1.0 and wrong.recall == 1.0
    injected, reported, agreed = right.exceptions_by_category["amount_over"]
    assert wrong.exceptions_by_category["amount_over"] == (injected - 1, reported, agreed - 1)


def test_every_flow_reports_how_far_it_got(demo_home: Path) -> None:
    # an order followed its chain to the bank exactly when every leg matched in the ground truth
    truth = list(csv.DictReader(open(demo_home / "demo" / "ground_truth.csv")))
    # (a Shopify refund shares its order's id: flows from refunds are left out here)
    matched = {(r["profile_id"], r["side"], r["source_name"] + ":" + r["record_id"]): r["expected_counterpart"]
               for r in truth if r["expected_status"] == "matched" and r["entry_type"] != "refund"}  # fmt: skip
    expected = {}
    for (profile, side, record), charge in matched.items():
        if side != "source" or not record.startswith("shopify_orders:"):
            continue
        payout = matched.get((profile, "source", charge))
        bank = matched.get((profile, "source", payout)) if payout else None
        expected[(profile, record.split(":", 1)[1])] = 3 if bank else 2 if payout else 1
    with _warehouse(demo_home) as connection:
        found = dict(
            ((profile, record), legs)
            for profile, record, legs in connection.sql(
                "select profile_id, source_entry_id, legs_completed from marts.mart_chain_progress"
                " where source_name = 'shopify_orders' and entry_type = 'order'"
            ).fetchall()
        )
        statuses = dict(
            connection.sql("select chain_status, count(*) from marts.mart_chain_progress group by all").fetchall()
        )
    assert {key: found.get(key) for key in expected} == expected
    assert statuses.keys() == {"complete", "waiting", "stopped"}


# the append-only tables: versions, the balance movements and their daily checkpoints
_LEDGER_COUNTS = """
    select
        (select count(*) from marts.fct_ledger_entry_versions),
        (select count(*) from marts.fct_balance_movements),
        (select count(*) from marts.fct_balance_day_totals)
"""


def test_ledger_balances_and_rerunning_a_day_appends_nothing(demo_home: Path) -> None:
    query = """
        select count(*) from (
            select transaction_id, version, currency
            from marts.fct_ledger_entry_versions
            group by all
            having sum(case when direction = 'DEBIT' then amount_minor else -amount_minor end) <> 0
        )
    """
    with _warehouse(demo_home) as connection:
        assert connection.sql(query).fetchall()[0][0] == 0
        versions_before = connection.sql(_LEDGER_COUNTS).fetchall()
        posted = connection.sql(
            """
            select count(distinct transaction_id) from marts.fct_ledger_entries
            where status = 'POSTED' and transaction_id not like 'txn|booking|%'
            """
        ).fetchall()[0][0]
        matched = connection.sql("select count(*) from marts.fct_matches").fetchall()[0][0]
        # a dispute is booked on its own (chargebacks), POSTED when it happened
        disputes = connection.sql(
            "select count(*) from raw.stripe_balance_transactions where type = 'adjustment'"
        ).fetchall()[0][0]
        # one run over all days still records each matched transaction's whole history
        histories = connection.sql(
            """
            select string_agg(transaction_status, '>' order by version)
            from (select distinct transaction_id, version, transaction_status from marts.fct_ledger_entry_versions)
            group by transaction_id
            """
        ).fetchall()
    assert posted == matched
    assert sum(h == ("EXPECTED>POSTED",) for h in histories) == matched
    assert sum(h == ("POSTED",) for h in histories) == disputes > 0
    assert {h[0] for h in histories} == {"EXPECTED>POSTED", "EXPECTED", "POSTED"}
    recon(demo_home, "run", "--date", "2026-11-03")
    with _warehouse(demo_home) as connection:
        versions_after = connection.sql(_LEDGER_COUNTS).fetchall()
    assert versions_after == versions_before
    # re-running the whole range appends nothing either, and leaves the marts as the demo made them
    # for the tests that follow
    recon(demo_home, "run", "--start", "2026-11-01", "--end", "2026-11-05")
    with _warehouse(demo_home) as connection:
        assert connection.sql(_LEDGER_COUNTS).fetchall() == versions_before
        assert connection.sql("select count(*) from marts.fct_matches").fetchall()[0][0] == matched


def test_profiles_never_see_each_other(demo_home: Path) -> None:
    # both shops number their orders from #1001; each order matches a charge of its own profile
    with _warehouse(demo_home) as connection:
        crossed = connection.sql(
            """
            select count(*)
            from marts.fct_matches as matches
            join intermediate.int_entries_unioned as target on target.entry_id = matches.target_entry_id
            where target.profile_id <> matches.profile_id
            """
        ).fetchall()[0][0]
        shared = connection.sql(
            "select count(distinct profile_id) from marts.fct_matches where source_record_id = '#1001'"
        ).fetchall()[0][0]
    assert crossed == 0
    assert shared == 2


def test_exceptions_listing_carries_original_ids_and_values(demo_home: Path) -> None:
    listed = json.loads(recon(demo_home, "exceptions", "--format", "json").stdout)
    truth = list(csv.DictReader(open(demo_home / "demo" / "ground_truth.csv")))
    mismatch = next(row for row in truth if row["scenario"] == "amount_mismatch")
    found = [
        e for e in listed
        if e["profile_id"] == mismatch["profile_id"]
        and f"shopify_orders:{mismatch['record_id']}" in e["records"]
    ]  # fmt: skip
    assert len(found) == 1
    exception = found[0]
    assert exception["category"] == mismatch["expected_category"]
    assert exception["failed_check"] == "same_amount"
    assert exception["expected"] != exception["actual"]
    assert mismatch["expected_counterpart"] in exception["records"]
    assert {e["status"] for e in listed} == {"OPEN"}


def test_matches_and_status_listings(demo_home: Path) -> None:
    rows = list(csv.DictReader(recon(demo_home, "matches", "--format", "csv").stdout.splitlines()))
    identifiers = {(r["rule_name"], r["identifier_name"]) for r in rows}
    # the order id finds most charges; the email fallback finds those that lost it
    assert {("shopify_order_to_stripe_charge", "order_id"),
            ("shopify_order_to_stripe_charge", "customer_email_and_amount"),
            ("shopify_order_to_paypal_payment", "invoice_number"),
            ("stripe_balance_to_payout", "payout_id"),
            ("stripe_payout_to_bank_credit", "payout_reference")} <= identifiers  # fmt: skip
    payouts = [r for r in rows if r["rule_name"] == "stripe_balance_to_payout"]
    # a payout is one target for its group of balance transactions (a lone one in another currency too)
    assert payouts and all(r["target_entries"] == "1" for r in payouts)
    assert max(int(r["source_entries"]) for r in payouts) > 10
    assert all("FAILED" not in r["checks"] for r in rows)
    status = json.loads(recon(demo_home, "status", "--date", "2026-11-02", "--format", "json").stdout)
    assert {row["business_date"] for row in status} == {"2026-11-02"}
    orders = [r for r in status if r["rule_name"] == "shopify_order_to_stripe_charge" and r["side"] == "source"]
    assert all(r["entries"] == r["matched"] + r["open"] + r["exceptions"] for r in orders)
    quarantine = json.loads(recon(demo_home, "quarantine", "--format", "json").stdout)
    assert {q["field"] for q in quarantine} >= {"Total", "Currency", "amount"}
    stopped = json.loads(
        recon(demo_home, "chains", "--date", "2026-11-01", "--status", "stopped", "--format", "json").stdout
    )
    # flows of that day that stopped, each where and why, in record order per profile
    assert stopped and {(r["business_date"], r["chain_status"]) for r in stopped} == {("2026-11-01", "stopped")}
    assert all(r["stopped_at_rule"] and r["exception_category"] for r in stopped)
    listed = [(r["profile_id"], r["source_name"], r["record_id"]) for r in stopped]
    assert listed == sorted(listed)


def test_bad_arguments_get_clear_errors(demo_home: Path) -> None:
    failed = recon(demo_home, "run", "--start", "2026-11-03", "--end", "2026-11-01", check=False)
    assert failed.returncode == 2 and "before --start" in failed.stderr
    failed = recon(demo_home, "run", "--date", "2999-01-01", check=False)
    assert failed.returncode == 2 and "a day is reconciled once it is over" in failed.stderr
    failed = recon(demo_home, "ingest", "nowhere.csv", "--source", "shopify_orders",
                   "--profile", "acme_eu", check=False)  # fmt: skip
    assert failed.returncode == 2 and "nowhere.csv: no such file" in failed.stderr


def test_the_demo_never_wipes_a_home_it_did_not_create(tmp_path: Path) -> None:
    home = tmp_path / "real"
    (home / "warehouse").mkdir(parents=True)
    (home / "warehouse" / "recon.duckdb").write_bytes(b"")
    refused = recon(home, "demo", check=False)
    assert refused.returncode == 2
    assert "did not create" in refused.stderr
    assert (home / "warehouse" / "recon.duckdb").exists()
