"""The dbt project: unit tests pass, the house style holds, bad rules fail with clear errors."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.lib.home import DBT_PROJECT_DIR, ReconHome

DBT = str(Path(sys.executable).parent / "dbt")


def _dbt(project: Path, home: ReconHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DBT, *args, "--profiles-dir", str(project)],
        cwd=project,
        env={**os.environ, **home.environment()},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = ReconHome(tmp_path_factory.mktemp("dbt") / "home").ensure()
    parsed = _dbt(DBT_PROJECT_DIR, home, "parse")
    assert parsed.returncode == 0, parsed.stdout
    return json.loads(home.manifest.read_text())


def test_house_style(manifest: dict) -> None:
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    prefixes = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("fct_", "dim_", "mart_", "rpt_")}
    tested_columns: dict[str, set[str]] = {}
    for test in tests:
        metadata = test.get("test_metadata") or {}
        column = test.get("column_name")
        if metadata.get("name") == "unique_combination":  # a key of several columns
            column = ",".join(metadata["kwargs"]["columns"])
        for parent in test["depends_on"]["nodes"]:
            tested_columns.setdefault(parent, set()).add(f"{metadata.get('name')}:{column}")
    problems = []
    for model in models:
        layer = model["fqn"][1]
        name = model["name"]
        if not name.startswith(prefixes[layer]):
            problems.append(f"{name}: a {layer} model must start with {prefixes[layer]}")
        if model["sources"] and layer != "staging":
            problems.append(f"{name}: source() outside staging")
        if layer == "staging" and any(
            manifest["nodes"][d]["name"].startswith("stg_")
            for d in model["depends_on"]["nodes"]
            if d in manifest["nodes"]
        ):
            problems.append(f"{name}: staging built on staging")
        if not model["description"].strip():
            problems.append(f"{name}: no description")
        # a view read by one model may leave its key to that model, which stores the rows
        key_model = model["config"].get("meta", {}).get("key_tested_in", name)
        key_node = next((n for n in models if n["name"] == key_model), None)
        if key_model != name and (model["config"]["materialized"] != "view" or key_node is None):
            problems.append(f"{name}: only a view leaves its key to a model it feeds ({key_model})")
        keys = tested_columns.get(key_node["unique_id"] if key_node else "", set())
        unique = {k.split(":", 1)[1] for k in keys if k.startswith(("unique:", "unique_combination:"))}
        not_null = {k.split(":", 1)[1] for k in keys if k.startswith("not_null:")}
        if not any(set(key.split(",")) <= not_null for key in unique):
            problems.append(f"{name}: no primary key tested unique and not_null")
        if key_node is not None and key_node is not model and model["unique_id"] not in key_node["depends_on"]["nodes"]:
            problems.append(f"{name}: {key_model} does not read it")
    assert problems == []


def test_unit_tests_pass(tmp_path: Path) -> None:
    home = ReconHome(tmp_path / "home").ensure()
    seeded = _dbt(DBT_PROJECT_DIR, home, "seed")
    assert seeded.returncode == 0, seeded.stdout
    from dagster_project.lib.ingest import ensure_raw_schema
    from dagster_project.lib.warehouse import connect

    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
    empty = _dbt(DBT_PROJECT_DIR, home, "run", "--empty")
    assert empty.returncode == 0, empty.stdout
    result = _dbt(DBT_PROJECT_DIR, home, "test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout
    declared = len(json.loads(home.manifest.read_text())["unit_tests"])
    assert declared >= 13
    assert f"PASS={declared} " in result.stdout, result.stdout


ORDER_RULE = "Rule 'shopify_order_to_stripe_charge' (macros/rules/shopify_order_to_stripe_charge.sql)"
REFUND_RULE = "Rule 'shopify_refund_to_stripe_refund' (macros/rules/shopify_refund_to_stripe_refund.sql)"


@pytest.mark.parametrize(
    ("change", "replacement", "expected"),
    [
        ("'priority': 100,", "'priority': 90,",
         [REFUND_RULE, "field 'priority'", "already used by rule 'shopify_order_to_stripe_charge'"]),
        ("'type': 'amount_tolerance',", "'type': 'amount_tolerence',",
         [ORDER_RULE, "field 'match_rules[1].type'", "unknown type 'amount_tolerence'"]),
        ("'percent': 0}", "'percent': 150}",
         [ORDER_RULE, "field 'match_rules[1].percent'", "between 0 and 100"]),
        ("'profiles': ['*'],", "'profiles': 'acme_eu',",
         [ORDER_RULE, "field 'profiles'", "must be a list of profile ids"]),
        ("'type': 'date_window',", "'type': 'sql',",
         [ORDER_RULE, "field 'match_rules[2].expression'", "is required for a 'sql' match rule"]),
        ("'target': 'target.currency',", "'target': 'target.currancy',",
         [ORDER_RULE, "field 'match_rules[0].target'", "unknown column 'currancy'"]),
        ("'target_group_by': 'target.charge_ref',", "",
         [ORDER_RULE, "field 'target_group_by'", "is required for a one_to_many rule"]),
        ("'cardinality': 'one_to_many',", "'cardinality': 'many_to_many',",
         [ORDER_RULE, "field 'cardinality'", "must be one_to_one, one_to_many or many_to_one"]),
        ("'threshold': 0.9,", "'threshold': 1.5,",
         ["Rule 'stripe_payout_to_bank_credit'", "field 'match_rules[3].threshold'", "between 0 and 1"]),
        ("{'when': \"source.entry_type = 'adjustment'\"", "{'when': \"source.entry_kind = 'adjustment'\"",
         ["Rule 'stripe_balance_to_payout'", "field 'member_postings[0].when'", "unknown column 'entry_kind'"]),
    ],
)  # fmt: skip
def test_a_bad_rule_fails_parse_naming_file_and_field(
    tmp_path: Path, change: str, replacement: str, expected: list[str]
) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    rules = project / "macros" / "rules"
    # the rule the expected error names, if the change applies to it; else the first it applies to
    named = [fragment.split("'")[1] for fragment in expected if fragment.startswith("Rule '")]
    applicable = [path for path in sorted(rules.glob("*.sql")) if change in path.read_text()]
    rule = next((path for path in applicable if path.stem in named), applicable[0])
    original = rule.read_text()
    rule.write_text(original.replace(change, replacement, 1))
    home = ReconHome(tmp_path / "home").ensure()
    result = _dbt(project, home, "parse")
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    for fragment in expected:
        assert fragment in output, output


def test_rules_check_lists_every_rule(tmp_path: Path) -> None:
    from tests.conftest import recon

    listed = json.loads(recon(tmp_path / "home", "rules", "check", "--format", "json").stdout)
    assert [r["rule_name"] for r in listed] == [
        "shopify_order_to_adyen_payment",
        "shopify_order_to_paypal_payment",
        "shopify_split_orders_to_stripe_charge",
        "shopify_order_to_stripe_charge",
        "shopify_refund_to_paypal_refund",
        "shopify_refund_to_adyen_refund",
        "shopify_refund_to_stripe_refund",
        "stripe_balance_to_payout",
        "adyen_settlement_to_payout",
        "stripe_payout_to_bank_credit",
        "adyen_payout_to_bank_credit",
        "paypal_withdrawal_to_bank_credit",
    ]
    by_name = {r["rule_name"]: r for r in listed}
    assert by_name["shopify_order_to_stripe_charge"]["identifiers"] == "order_id > customer_email_and_amount"


def test_rules_check_names_the_broken_rule(tmp_path: Path) -> None:
    from dagster_project.lib.rules import check_rules

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    rule = project / "macros" / "rules" / "shopify_refund_to_stripe_refund.sql"
    rule.write_text(rule.read_text().replace("'window_days': 5,", "'window_days': -1,"))
    result = check_rules(DBT, project)
    assert result.rules == []
    assert result.error == (
        "Rule 'shopify_refund_to_stripe_refund' (macros/rules/shopify_refund_to_stripe_refund.sql), "
        "field 'window_days': must not be negative"
    )


def test_rules_check_knows_the_chart_of_accounts(tmp_path: Path) -> None:
    from dagster_project.lib.rules import check_rules

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    rule = project / "macros" / "rules" / "stripe_payout_to_bank_credit.sql"
    rule.write_text(rule.read_text().replace("'target_account': 'bank',", "'target_account': 'bank_acount',"))
    result = check_rules(DBT, project)
    assert result.rules == []
    assert result.error is not None
    assert result.error.startswith(
        "Rule 'stripe_payout_to_bank_credit' (macros/rules/stripe_payout_to_bank_credit.sql), "
        "field 'target_account': unknown account 'bank_acount'; the chart of accounts "
        "(seeds/account_defaults.csv, seeds/accounts.csv) has: "
    )
    assert ", bank, " in result.error
