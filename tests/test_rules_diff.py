"""`recon rules diff`: the rules at a git revision and in the working tree, run on the same data."""

import csv
import functools
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib import rules
from dagster_project.lib.home import DBT_PROJECT_DIR, ReconHome
from dagster_project.lib.rules import RulesDiff, RulesDiffError, compare_warehouses, diff_rules, render_diff

DBT = str(Path(sys.executable).parent / "dbt")
ORDER_RULE = Path("macros") / "rules" / "shopify_order_to_stripe_charge.sql"
REFUND_RULE = Path("macros") / "rules" / "shopify_refund_to_stripe_refund.sql"
EMAIL_IDENTIFIER = re.compile(r"\s*\{'name': 'customer_email_and_amount',[^}]*\},?")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=Recon Tests",
            "-c",
            "user.email=tests@example.com",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding a copy of the dbt project, committed unchanged (HEAD); the tag
    `before-project` has no project and `broken` a rule with an error. In the working tree the
    order rule has lost its email fallback identifier (not committed)."""
    root = tmp_path_factory.mktemp("rules_diff") / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "README.md").write_text("a repository for rules diff tests\n")
    _git(root, "add", "README.md")
    _git(root, "commit", "-q", "-m", "no project yet")
    _git(root, "tag", "before-project")
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "the project as it is")
    refund_rule = project / REFUND_RULE
    original_refund_rule = refund_rule.read_text()
    assert "'window_days': 5," in original_refund_rule
    refund_rule.write_text(original_refund_rule.replace("'window_days': 5,", "'window_days': -1,"))
    _git(root, "commit", "-q", "-a", "-m", "a broken rule")
    _git(root, "tag", "broken")
    _git(root, "reset", "-q", "--hard", "HEAD~1")
    order_rule = project / ORDER_RULE
    without_email, removed = EMAIL_IDENTIFIER.subn("", order_rule.read_text())
    assert removed == 1, "the order rule no longer has the customer_email_and_amount identifier"
    order_rule.write_text(without_email)
    return root


@pytest.fixture(scope="module")
def email_removed(repo: Path, demo_home: Path) -> RulesDiff:
    return diff_rules(ReconHome(demo_home), "HEAD", DBT, project_dir=repo / "dbt_project")


def _demo_rows(demo_home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(ReconHome(demo_home).warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_removing_the_email_identifier_loses_exactly_the_matches_it_found(
    email_removed: RulesDiff, demo_home: Path, repo: Path
) -> None:
    found_by_email = _demo_rows(
        demo_home,
        """
        select profile_id, source_entry_id, target_entry_id, rule_name, identifier_name
        from marts.fct_matches
        where rule_name = 'shopify_order_to_stripe_charge' and identifier_name = 'customer_email_and_amount'
        """,
    )
    assert found_by_email, "the demo data has no match found by the email fallback"
    # the base run on the copied raw data reproduces what the demo warehouse concluded
    (demo_matches, demo_exceptions) = _demo_rows(
        demo_home, "select (select count(*) from marts.fct_matches), (select count(*) from marts.fct_exceptions)"
    )[0]
    assert email_removed.totals["base_matches"] == demo_matches
    assert email_removed.totals["base_exceptions"] == demo_exceptions
    assert email_removed.totals["working_matches"] == demo_matches - len(found_by_email)

    lost = {tuple(row.values()) for row in email_removed.matches_lost}
    assert lost == set(found_by_email)
    assert email_removed.matches_gained == []
    assert email_removed.matches_reattributed == []
    assert email_removed.summary["matches_lost"] == len(found_by_email)

    # a charge that lost its order id now has no identifier; an order whose window has passed
    # is missing its counterpart, a younger one stays open
    appearing = {
        (entry_id, row["category"]) for row in email_removed.exceptions_appearing for entry_id in row["entry_ids"]
    }
    for _profile, _order, charge, _rule, _identifier in found_by_email:
        assert (charge, "missing_identifier") in appearing
    window_days = int(re.search(r"'window_days': (\d+)", (repo / "dbt_project" / ORDER_RULE).read_text()).group(1))
    orders_due = _demo_rows(
        demo_home,
        f"""
        select source_entry_id from marts.fct_matches
        where rule_name = 'shopify_order_to_stripe_charge' and identifier_name = 'customer_email_and_amount'
            and business_date + {window_days} < (select max(business_date) from marts.fct_matches)
        """,
    )
    assert {entry for entry, category in appearing if category == "missing_counterpart"} >= {o for (o,) in orders_due}
    # an exception goes only where the entry it was about lost its sole identifier: it comes back
    # under the same rule as `missing_identifier`
    assert {row["new_category"] for row in email_removed.exceptions_disappearing} <= {"missing_identifier"}
    assert email_removed.summary["exceptions_recategorized"] == len(email_removed.exceptions_disappearing)


def test_the_diff_renders_as_a_summary_and_tables_or_csv_rows(email_removed: RulesDiff) -> None:
    table = render_diff(email_removed, "table")
    assert "matches lost" in table
    assert f"Matches lost (at the base, not in the working tree): {len(email_removed.matches_lost)}" in table
    assert "Matches gained" not in table
    rows = list(csv.DictReader(io.StringIO(render_diff(email_removed, "csv"))))
    sections = ("matches_lost", "exceptions_appearing", "exceptions_disappearing")
    assert [row["change"] for row in rows] == [
        name.replace("_", " ") for name in sections for _ in getattr(email_removed, name)
    ]
    assert rows[0]["identifier_name"] == "customer_email_and_amount"


def test_cli_diff_of_head_against_an_unchanged_tree_reports_no_differences(
    repo: Path, demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dagster_project.cli import main

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)
    monkeypatch.setattr(rules, "diff_rules", functools.partial(diff_rules, project_dir=clone / "dbt_project"))
    for key, value in ReconHome(demo_home).environment().items():
        monkeypatch.setenv(key, value)

    assert main(["rules", "diff", "--base", "HEAD", "--format", "json"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["base"] == "HEAD"
    assert set(document) >= {
        "summary",
        "matches_gained",
        "matches_lost",
        "matches_reattributed",
        "exceptions_appearing",
        "exceptions_disappearing",
    }
    summary = document["summary"]
    assert summary["base_matches"] == summary["working_matches"] > 0
    assert summary["base_exceptions"] == summary["working_exceptions"]
    changes = ("matches_gained", "matches_lost", "matches_reattributed", "exceptions_appearing")
    assert [summary[name] for name in (*changes, "exceptions_disappearing")] == [0] * 5
    assert all(document[name] == [] for name in (*changes, "exceptions_disappearing"))


def test_an_unknown_revision_is_named(repo: Path, demo_home: Path) -> None:
    with pytest.raises(RulesDiffError, match="unknown revision 'no-such-revision'"):
        diff_rules(ReconHome(demo_home), "no-such-revision", DBT, project_dir=repo / "dbt_project")


def test_a_revision_without_the_project_is_named(repo: Path, demo_home: Path) -> None:
    with pytest.raises(RulesDiffError, match=r"revision 'before-project' \([0-9a-f]{12}\) has no dbt project at"):
        diff_rules(ReconHome(demo_home), "before-project", DBT, project_dir=repo / "dbt_project")


def test_a_project_outside_git_is_refused(tmp_path: Path, demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    with pytest.raises(RulesDiffError, match="is not in a git repository"):
        diff_rules(ReconHome(demo_home), "HEAD", DBT, project_dir=project)


def test_the_raw_copy_has_the_raw_tables_the_code_declares_before_their_first_ingest(tmp_path: Path) -> None:
    """A warehouse from before a raw table existed (raw.bank_statements, written by every
    statement ingest since) still gives the models every table they read, empty."""
    warehouse = tmp_path / "old.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema raw")
        connection.execute("create table raw.quarantine as select 1 as kept")
    copy = tmp_path / "copy" / "recon.duckdb"
    assert rules.snapshot_raw_tables(warehouse, copy) == ["quarantine"]
    with duckdb.connect(str(copy), read_only=True) as connection:
        assert connection.sql("select kept from raw.quarantine").fetchall() == [(1,)]
        assert connection.sql("select count(*) from raw.bank_statements").fetchall() == [(0,)]
        assert connection.sql("select count(*) from raw.mt942").fetchall() == [(0,)]


def test_a_home_without_a_warehouse_is_told_to_run_first(tmp_path: Path, repo: Path) -> None:
    with pytest.raises(RulesDiffError, match=r"no warehouse at .*; run `recon run` or `recon demo` first"):
        diff_rules(ReconHome(tmp_path / "empty").ensure(), "HEAD", DBT, project_dir=repo / "dbt_project")


def test_a_broken_rule_at_the_base_shows_the_rule_compilers_message(repo: Path, demo_home: Path) -> None:
    with pytest.raises(RulesDiffError) as raised:
        diff_rules(ReconHome(demo_home), "broken", DBT, project_dir=repo / "dbt_project")
    message = str(raised.value)
    assert message.startswith("dbt seed failed for the base revision broken (")
    assert message.endswith(
        "Rule 'shopify_refund_to_stripe_refund' (macros/rules/shopify_refund_to_stripe_refund.sql), "
        "field 'window_days': must not be negative"
    )


# --- the comparison itself, on two small hand-made warehouses ---------------------------------

BASE_MATCHES = [
    # (source, target, rule, identifier)
    ("s_same", "t1", "order_to_charge", "order_id"),
    ("s_target", "t2", "order_to_charge", "order_id"),
    ("s_identifier", "t4", "order_to_charge", "order_id"),
    ("s_rule", "t5", "order_to_charge", "order_id"),
    ("s_lost", "t6", "order_to_charge", "order_id"),
    ("s_group", "t8", "order_to_charge", "order_id"),
    ("s_group", "t9", "order_to_charge", "order_id"),
    ("s_chain", "t10", "order_to_charge", "order_id"),
]
WORKING_MATCHES = [
    ("s_same", "t1", "order_to_charge", "order_id"),
    ("s_target", "t3", "order_to_charge", "order_id"),
    ("s_identifier", "t4", "order_to_charge", "email"),
    ("s_rule", "t5", "charge_by_email", "email"),
    ("s_gained", "t7", "order_to_charge", "order_id"),
    ("s_group", "t8", "order_to_charge", "order_id"),
    ("s_chain", "t10", "order_to_charge", "order_id"),
    ("s_chain", "t11", "charge_to_payout", "payout_id"),
]
BASE_EXCEPTIONS = [
    # (id, category, rule, entry ids)
    ("x_kept", "missing_counterpart", "order_to_charge", ["o1"]),
    ("x_gone", "duplicate_entry", "order_to_charge", ["c2"]),
    ("x_old_category", "amount_over", "order_to_charge", ["o3", "c3"]),
]
WORKING_EXCEPTIONS = [
    ("x_kept", "missing_counterpart", "order_to_charge", ["o1"]),
    ("x_new", "missing_identifier", "order_to_charge", ["c4"]),
    ("x_new_category", "currency_mismatch", "order_to_charge", ["c3", "o3"]),
]


def _warehouse(path: Path, matches: list[tuple], exceptions: list[tuple], *, with_currency: bool) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            """
            create table marts.fct_matches (
                match_id varchar, profile_id varchar, source_entry_id varchar, target_entry_id varchar,
                rule_name varchar, identifier_name varchar
            )
            """
        )
        connection.executemany(
            "insert into marts.fct_matches values (?, 'p', ?, ?, ?, ?)",
            [[f"m{n}", *match] for n, match in enumerate(matches)],
        )
        currency = ", currency varchar" if with_currency else ""
        connection.execute(
            f"""
            create table marts.fct_exceptions (
                exception_id varchar, category varchar, profile_id varchar, rule_name varchar,
                entry_ids varchar[], amount_at_stake_minor bigint{currency}
            )
            """
        )
        currency_value = ", 'EUR'" if with_currency else ""
        connection.executemany(
            f"insert into marts.fct_exceptions values (?, ?, 'p', ?, ?, 100{currency_value})",
            [list(exception) for exception in exceptions],
        )
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> dict:
    directory = tmp_path_factory.mktemp("compare")
    return compare_warehouses(
        _warehouse(directory / "base.duckdb", BASE_MATCHES, BASE_EXCEPTIONS, with_currency=True),
        _warehouse(directory / "working.duckdb", WORKING_MATCHES, WORKING_EXCEPTIONS, with_currency=False),
    )


def test_gained_and_lost_are_matches_under_a_rule_only_one_side_makes(compared: dict) -> None:
    assert compared["matches_gained"] == [
        {
            "profile_id": "p",
            "source_entry_id": "s_chain",
            "target_entry_id": "t11",
            "rule_name": "charge_to_payout",
            "identifier_name": "payout_id",
        },
        {
            "profile_id": "p",
            "source_entry_id": "s_gained",
            "target_entry_id": "t7",
            "rule_name": "order_to_charge",
            "identifier_name": "order_id",
        },
    ]
    assert compared["matches_lost"] == [
        {
            "profile_id": "p",
            "source_entry_id": "s_lost",
            "target_entry_id": "t6",
            "rule_name": "order_to_charge",
            "identifier_name": "order_id",
        }
    ]


def test_reattributed_are_other_targets_identifiers_or_rules_for_the_same_source_entry(compared: dict) -> None:
    reattributed = {
        row["source_entry_id"]: (
            row["base_rule_name"],
            row["working_rule_name"],
            row["base_target_entry_id"],
            row["working_target_entry_id"],
            row["base_identifier_name"],
            row["working_identifier_name"],
            row["what_changed"],
        )
        for row in compared["matches_reattributed"]
    }
    assert reattributed == {
        "s_group": ("order_to_charge", "order_to_charge", "t8, t9", "t8", "order_id", "order_id", "target"),
        "s_identifier": ("order_to_charge", "order_to_charge", "t4", "t4", "order_id", "email", "identifier"),
        "s_rule": ("order_to_charge", "charge_by_email", "t5", "t5", "order_id", "email", "rule, identifier"),
        "s_target": ("order_to_charge", "order_to_charge", "t2", "t3", "order_id", "order_id", "target"),
    }


def test_exceptions_appear_disappear_or_change_category(compared: dict) -> None:
    appearing = {
        row["exception_id"]: (row["category"], row["previous_category"]) for row in compared["exceptions_appearing"]
    }
    disappearing = {
        row["exception_id"]: (row["category"], row["new_category"]) for row in compared["exceptions_disappearing"]
    }
    assert appearing == {
        "x_new": ("missing_identifier", None),
        "x_new_category": ("currency_mismatch", "amount_over"),
    }
    assert disappearing == {
        "x_gone": ("duplicate_entry", None),
        "x_old_category": ("amount_over", "currency_mismatch"),
    }
    # the working marts lack the currency column: it reads as NULL rather than failing
    assert {row["currency"] for row in compared["exceptions_appearing"]} == {None}
    assert {row["currency"] for row in compared["exceptions_disappearing"]} == {"EUR"}
    assert compared["totals"] == {
        "base_matches": 8,
        "base_exceptions": 3,
        "working_matches": 8,
        "working_exceptions": 3,
    }
