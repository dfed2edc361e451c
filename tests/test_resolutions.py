"""Resolving exceptions: refusals write nothing; assign -> ASSIGNED -> RESOLVED; force_match and
write_off reach the matches and the ledger on the next run; a bulk CSV is all or nothing."""

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import DEMO_DAYS, recon

DAYS = ("--start", "2026-11-01", "--end", f"2026-11-{DEMO_DAYS:02d}")


def query(home: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "recon.duckdb"), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def resolution_count(home: Path) -> int:
    return query(home, "select count(*) from raw.resolutions")[0][0]


def exception_of(home: Path, category: str, index: int = 0) -> str:
    ids = query(home, "select exception_id from marts.fct_exceptions where category = ? order by 1", [category])
    return ids[index][0]


@pytest.fixture(scope="module")
def home(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's demo home, since resolving changes it."""
    root = tmp_path_factory.mktemp("resolutions") / "home"
    shutil.copytree(demo_home, root)
    return root


@pytest.fixture(scope="module")
def applied(home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Resolutions recorded (a bulk CSV and single commands), applied by a run, then a second round."""
    amount_exceptions = query(
        home,
        """
        select exception_id, expectation_id, target_unit_id, variance_minor from marts.fct_exceptions
        where category in ('amount_over', 'amount_under') order by exception_id
        """,
    )
    matched = {
        row[0] for row in query(home, "select entry_id from marts.fct_reconciliation_outcomes where status = 'matched'")
    }
    entries = dict(query(home, "select exception_id, entry_ids from marts.fct_exceptions"))
    # a pair neither of whose entries another match consumed (else force_match is refused)
    forced = next(row for row in amount_exceptions if not matched & set(entries[row[0]]))
    written_off = next(row for row in amount_exceptions if row != forced)
    assigned = exception_of(home, "currency_mismatch")
    actions = tmp_path_factory.mktemp("actions") / "actions.csv"
    actions.write_text(
        "exception_id,action,reason,by,counterpart,amount\n"
        f"{assigned},assign,look into the currency,alice,,\n"
        f"{written_off[0]},write_off,rounding at the processor,bob,,\n"
    )
    recon(home, "resolve", "--file", str(actions))
    recon(
        home, "resolve", forced[0], "--action", "force_match", "--reason", "confirmed with the customer", "--by", "eve"
    )
    recon(home, "run", *DAYS)
    after_first_run = query(
        home, "select exception_status, assigned_to from marts.fct_exceptions where exception_id = ?", [assigned]
    )
    recon(home, "resolve", assigned, "--action", "void", "--reason", "test order", "--by", "alice")
    # a status change moves no money: the last day's run rebuilds the exceptions over all days
    recon(home, "run", "--date", DAYS[-1])
    return {
        "forced": forced,
        "written_off": written_off,
        "assigned": assigned,
        "after_first_run": after_first_run,
    }


def test_refusals_name_why_and_write_nothing(home: Path) -> None:
    before = resolution_count(home)
    no_rule = exception_of(home, "no_rule_found")
    with_expectation = exception_of(home, "currency_mismatch")
    matched_target = query(home, "select target_entry_id from marts.fct_matches order by 1 limit 1")[0][0]
    cases = [
        (["nope123", "--action", "void"], "unknown exception"),
        ([no_rule, "--action", "force_match"], "needs a candidate counterpart"),
        ([no_rule, "--action", "write_off"], "needs an amount difference"),
        ([with_expectation, "--action", "link"], "link needs --counterpart"),
        ([with_expectation, "--action", "link", "--counterpart", "no-such-entry"], "no live entry"),
        ([with_expectation, "--action", "link", "--counterpart", matched_target], "already matched"),
        ([no_rule, "--action", "mark_received"], "mark_received is for a missing_counterpart"),
        ([no_rule, "--action", "correct_entry"], "correct_entry needs --amount"),
    ]
    for args, why in cases:
        completed = recon(home, "resolve", *args, "--reason", "r", "--by", "t", check=False)
        assert completed.returncode == 2, (args, completed.stdout)
        assert why in completed.stderr, (args, completed.stderr)
    # a close id is suggested
    prefix_typo = no_rule[:10] + "zz"
    completed = recon(home, "resolve", prefix_typo, "--action", "void", "--reason", "r", check=False)
    assert no_rule in completed.stderr
    assert resolution_count(home) == before


def test_bulk_csv_is_all_or_nothing_with_line_numbers(home: Path, tmp_path: Path) -> None:
    before = resolution_count(home)
    good = exception_of(home, "duplicate_entry")
    actions = tmp_path / "actions.csv"
    actions.write_text(
        "exception_id,action,reason,by,counterpart,amount\n"
        f"{good},ignore,a known double charge,carol,,\n"
        f"{good},frobnicate,why not,carol,,\n"
        "unknown-id,void,gone,carol,,\n"
    )
    completed = recon(home, "resolve", "--file", str(actions), check=False)
    assert completed.returncode == 2
    assert f"{actions}:3: unknown action 'frobnicate'" in completed.stderr
    assert f"{actions}:4: unknown exception 'unknown-id'" in completed.stderr
    assert resolution_count(home) == before


def test_assign_then_resolve_moves_open_assigned_resolved(home: Path, applied: dict[str, Any]) -> None:
    assert applied["after_first_run"] == [("ASSIGNED", "alice")]
    status = query(
        home,
        """
        select exception_status, assigned_to, resolved_by, resolution_action, resolved_at is not null
        from marts.fct_exceptions where exception_id = ?
        """,
        [applied["assigned"]],
    )
    assert status == [("RESOLVED", "alice", "alice", "void", True)]
    listed = json.loads(recon(home, "exceptions", "--status", "resolved", "--format", "json").stdout)
    assert applied["assigned"] in {row["exception_id"] for row in listed}
    log = json.loads(recon(home, "resolutions", "--exception", applied["assigned"], "--format", "json").stdout)
    assert [row["action"] for row in log] == ["assign", "void"]
    again = recon(home, "resolve", applied["assigned"], "--action", "ignore", "--reason", "r", check=False)
    assert again.returncode == 2 and "already RESOLVED" in again.stderr


def test_force_match_matches_the_pair_and_posts_its_transaction(home: Path, applied: dict[str, Any]) -> None:
    exception_id, expectation_id, target_unit_id, _ = applied["forced"]
    assert query(
        home,
        "select count(*) from marts.fct_matches where expectation_id = ? and target_unit_id = ?",
        [expectation_id, target_unit_id],
    ) == [(1,)]
    assert query(home, "select count(*) from marts.fct_exceptions where exception_id = ?", [exception_id]) == [(0,)]
    history = query(
        home,
        """
        select version, transaction_status from marts.fct_ledger_entry_versions
        where transaction_id = 'txn|' || ? and entry_index = 1 order by version
        """,
        [expectation_id],
    )
    assert history[0][1] == "EXPECTED" and history[-1][1] == "POSTED"


def test_write_off_posts_the_variance_and_the_books_balance(home: Path, applied: dict[str, Any]) -> None:
    exception_id, _, _, variance_minor = applied["written_off"]
    legs = query(
        home,
        """
        select entries.account_id, entries.direction, entries.amount_minor, entries.status
        from marts.fct_ledger_entries as entries
        inner join raw.resolutions on entries.transaction_id = 'txn|resolution|' || resolutions.resolution_id
        where resolutions.exception_id = ?
        order by entries.entry_index
        """,
        [exception_id],
    )
    assert len(legs) == 2
    assert ":reconciliation_variance:" in legs[1][0]
    assert {leg[2] for leg in legs} == {abs(variance_minor)}
    assert {leg[3] for leg in legs} == {"POSTED"}
    assert {leg[1] for leg in legs} == {"DEBIT", "CREDIT"}
    assert query(home, "select count(*) from marts.mart_trial_balance where difference_minor <> 0") == [(0,)]
    assert query(home, "select exception_status from marts.fct_exceptions where exception_id = ?", [exception_id]) == [
        ("RESOLVED",)
    ]
