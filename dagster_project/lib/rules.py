"""Checking the matching rules: compile them with dbt and report each rule, or the first error."""

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_project.lib.home import DBT_PROJECT_DIR, ReconHome

_RULES_LINE = "RECON_RULES "
_RULE_ERROR = re.compile(r"Rule '[^']*' \([^)]*\), field '[^']*': .*")


@dataclass(frozen=True)
class RulesCheck:
    rules: list[dict[str, Any]]
    error: str | None


def parse_rules_output(output: str) -> list[dict[str, Any]] | None:
    """The rules printed by `dbt run-operation print_rules`, or None if they are not there."""
    for line in output.splitlines():
        if line.startswith(_RULES_LINE):
            return json.loads(line[len(_RULES_LINE) :])
    return None


def rule_error(output: str) -> str | None:
    """The rule compiler's message (naming the rule file and field) in dbt's output, if any."""
    flattened = " ".join(output.split())
    match = _RULE_ERROR.search(flattened)
    if match:
        return match.group(0).split(" > in macro")[0].strip()
    return None


def summarize(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule_name": rule["name"],
        "priority": rule["priority"],
        "profiles": ",".join(rule["profiles"]),
        "source_account": rule["source_account"],
        "target_account": rule["target_account"],
        "identifiers": " > ".join(i.get("name", "?") for i in rule["identifiers"]),
        "match_rules": ", ".join(m["name"] for m in rule["match_rules"]),
        "window_days": rule["window_days"],
        "file": rule["file"],
    }


def check_rules(dbt_executable: str, project_dir: Path = DBT_PROJECT_DIR) -> RulesCheck:
    """Compile every rule in a scratch home, so a check never touches the real warehouse."""
    with tempfile.TemporaryDirectory(prefix="recon-rules-") as scratch:
        home = ReconHome(Path(scratch)).ensure()
        completed = subprocess.run(
            [dbt_executable, "run-operation", "print_rules", "--profiles-dir", str(project_dir), "--quiet"],
            cwd=project_dir,
            env={**os.environ, **home.environment()},
            capture_output=True,
            text=True,
        )
    output = completed.stdout + completed.stderr
    rules = parse_rules_output(output)
    if completed.returncode == 0 and rules is not None:
        return RulesCheck(rules=rules, error=None)
    return RulesCheck(rules=[], error=rule_error(output) or output.strip()[-2000:])
