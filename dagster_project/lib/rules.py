"""Checking the matching rules: compile them with dbt and report each rule, or the first error;
and diffing them: what a change to the rules does to the matches and exceptions of real data."""

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dagster_project.lib.home import DBT_PROJECT_DIR, ReconHome
from dagster_project.lib.queries import rows

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
        "cardinality": rule["cardinality"],
        "group_by": rule.get("source_group_by") or rule.get("target_group_by") or "",
        "overrides": ",".join(rule.get("overrides", [])),
        "identifiers": " > ".join(i.get("name", "?") for i in rule["identifiers"]),
        "match_rules": ", ".join(m["name"] for m in rule["match_rules"]),
        "window_days": rule["window_days"],
        "file": rule["file"],
    }


def check_rules(dbt_executable: str, project_dir: Path = DBT_PROJECT_DIR) -> RulesCheck:
    """Compile every rule in a scratch home, so a check never touches the real warehouse. The
    chart of accounts is loaded there first, so that a rule naming an unknown account fails."""
    with tempfile.TemporaryDirectory(prefix="recon-rules-") as scratch:
        home = ReconHome(Path(scratch)).ensure()

        def dbt(*arguments: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [dbt_executable, *arguments, "--profiles-dir", str(project_dir), "--quiet"],
                cwd=project_dir,
                env={**os.environ, **home.environment()},
                capture_output=True,
                text=True,
            )

        completed = dbt("seed", "--select", "account_defaults", "accounts")
        if completed.returncode == 0:
            completed = dbt("run-operation", "print_rules")
    output = completed.stdout + completed.stderr
    rules = parse_rules_output(output)
    if completed.returncode == 0 and rules is not None:
        return RulesCheck(rules=rules, error=None)
    return RulesCheck(rules=[], error=rule_error(output) or output.strip()[-2000:])


# --- What a change to the rules would do: `recon rules diff` ----------------------------------

MATCH_COLUMNS = {
    "profile_id": "varchar",
    "source_entry_id": "varchar",
    "target_entry_id": "varchar",
    "rule_name": "varchar",
    "identifier_name": "varchar",
}
EXCEPTION_COLUMNS = {
    "exception_id": "varchar",
    "category": "varchar",
    "profile_id": "varchar",
    "rule_name": "varchar",
    "entry_ids": "varchar[]",
    "amount_at_stake_minor": "bigint",
    "currency": "varchar",
}
DIFF_SECTIONS = (
    ("matches_gained", "Matches gained (in the working tree, not at the base)"),
    ("matches_lost", "Matches lost (at the base, not in the working tree)"),
    ("matches_reattributed", "Matches re-attributed (same source entry, other target, rule or identifier)"),
    ("exceptions_appearing", "Exceptions appearing"),
    ("exceptions_disappearing", "Exceptions disappearing"),
)


class RulesDiffError(Exception):
    """A rules diff that cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class RulesDiff:
    """What the working tree's dbt project changes compared with the project at ``base``.

    Both were run on the same raw data, over the same window of business dates.
    """

    base: str
    base_commit: str
    window: dict[str, str]
    totals: dict[str, int]
    matches_gained: list[dict[str, Any]]
    matches_lost: list[dict[str, Any]]
    matches_reattributed: list[dict[str, Any]]
    exceptions_appearing: list[dict[str, Any]]
    exceptions_disappearing: list[dict[str, Any]]

    @property
    def summary(self) -> dict[str, int]:
        counts = {name: len(getattr(self, name)) for name, _ in DIFF_SECTIONS}
        counts["exceptions_recategorized"] = sum(
            1 for row in self.exceptions_appearing if row["previous_category"] is not None
        )
        return {**counts, **self.totals}

    @property
    def has_differences(self) -> bool:
        return any(getattr(self, name) for name, _ in DIFF_SECTIONS)

    def document(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "base_commit": self.base_commit,
            "window": self.window,
            "summary": self.summary,
            **{name: getattr(self, name) for name, _ in DIFF_SECTIONS},
        }

    def changes(self) -> list[dict[str, Any]]:
        """Every row of every section, each with a `change` column naming its section."""
        return [{"change": name.replace("_", " "), **row} for name, _ in DIFF_SECTIONS for row in getattr(self, name)]


def render_diff(diff: RulesDiff, fmt: str) -> str:
    """The diff as one JSON document, CSV rows with a `change` column, or a summary and tables."""
    from dagster_project.lib.output import render

    if fmt == "json":
        return json.dumps(diff.document(), indent=2, default=str)
    if fmt == "csv":
        rows = diff.changes()
        columns = list(dict.fromkeys(column for row in rows for column in row)) or ["change"]
        return render(rows, "csv", columns)
    window_end = date.fromisoformat(diff.window["max_date"]) - timedelta(days=1)
    parts = [
        f"Rules at {diff.base} ({diff.base_commit[:12]}) against the working tree, on the same data "
        f"(business dates {diff.window['min_date']} .. {window_end.isoformat()})",
        "",
        render([{"what": name.replace("_", " "), "count": count} for name, count in diff.summary.items()], fmt),
    ]
    for name, title in DIFF_SECTIONS:
        rows = getattr(diff, name)
        if rows:
            parts += ["", f"{title}: {len(rows)}", render(rows, fmt)]
    if not diff.has_differences:
        parts += ["", "No differences: the working tree matches and raises exceptions exactly as the base does."]
    return "\n".join(parts)


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("git") is None:
        raise RulesDiffError("git is not installed; `recon rules diff` needs it to read the base revision")
    return subprocess.run(["git", *args], cwd=directory, capture_output=True)


def resolve_base(project_dir: Path, base_rev: str) -> tuple[Path, str, str]:
    """The git top level holding ``project_dir``, the commit ``base_rev`` names, and the
    project's path inside the repository."""
    if not (project_dir / "dbt_project.yml").is_file():
        raise RulesDiffError(f"no dbt project at {project_dir}")
    shown = _git(project_dir, "rev-parse", "--show-toplevel")
    if shown.returncode != 0:
        raise RulesDiffError(
            f"{project_dir} is not in a git repository; `recon rules diff` compares the working tree "
            "with a committed revision"
        )
    top_level = Path(shown.stdout.decode().strip())
    relative = project_dir.resolve().relative_to(top_level.resolve()).as_posix()
    verified = _git(top_level, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{base_rev}^{{commit}}")
    if verified.returncode != 0:
        raise RulesDiffError(
            f"unknown revision {base_rev!r} in {top_level}; give a commit, branch or tag (e.g. HEAD, main, HEAD~1)"
        )
    commit = verified.stdout.decode().strip()
    if _git(top_level, "cat-file", "-e", f"{commit}:{relative}/dbt_project.yml").returncode != 0:
        raise RulesDiffError(f"revision {base_rev!r} ({commit[:12]}) has no dbt project at {relative}/")
    return top_level, commit, relative


def export_revision(top_level: Path, commit: str, relative: str, destination: Path) -> Path:
    """Extract the project as committed at ``commit`` below ``destination``; return its directory."""
    archived = _git(top_level, "archive", "--format=tar", commit, "--", relative)
    if archived.returncode != 0:
        raise RulesDiffError(f"git archive {commit[:12]} {relative} failed: {archived.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as archive:
        archive.extractall(destination, filter="data")
    return destination / relative


def business_date_window(connection: Any) -> dict[str, str]:
    """dbt vars for a window holding every business date of the warehouse's entries.

    The window is half-open and a run sees the world as of the day before its end, so the end is
    the day after the last business date: every entry is visible and ages as it did when that
    day was reconciled. Business dates are read from the staging models, which map every raw
    record to its business date.
    """
    relations = connection.execute(
        """
        select distinct table_name from information_schema.columns
        where table_schema = 'staging' and column_name = 'business_date'
        order by table_name
        """
    ).fetchall()
    if not relations:
        raise RulesDiffError("the warehouse has not been reconciled yet; run `recon run` or `recon demo` first")
    union = " union all ".join(f'select business_date from staging."{name}"' for (name,) in relations)
    first_day, last_day = connection.execute(
        f"select min(business_date), max(business_date) from ({union})"
    ).fetchall()[0]
    if first_day is None:
        raise RulesDiffError("the warehouse holds no entries to reconcile; land files and run `recon run` first")
    return {"min_date": first_day.isoformat(), "max_date": (last_day + timedelta(days=1)).isoformat()}


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def snapshot_raw_tables(warehouse: Path, destination: Path) -> list[str]:
    """Copy the raw tables of ``warehouse`` into a new DuckDB file; nothing the models built comes
    along, so a revision that lacks a model cannot be credited with a stale copy of it."""
    import duckdb

    destination.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(destination)) as connection:
        connection.execute(f"attach {_quoted(warehouse)} as current_warehouse (read_only)")
        tables = [
            name
            for (name,) in connection.execute(
                """
                select table_name from information_schema.tables
                where table_catalog = 'current_warehouse' and table_schema = 'raw' and table_type = 'BASE TABLE'
                order by table_name
                """
            ).fetchall()
        ]
        connection.execute("create schema raw")
        for name in tables:
            connection.execute(f'create table raw."{name}" as from current_warehouse.raw."{name}"')
        connection.execute("detach current_warehouse")
        # a raw table the code declares but the warehouse does not have yet (its first ingest
        # since an upgrade has not run) is there, empty, for the models that read it
        from dagster_project.lib.ingest import ensure_raw_schema

        ensure_raw_schema(connection)
    return tables


_LOG_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}\s+", re.MULTILINE)


def _run_dbt(label: str, dbt_executable: str, project: Path, home: ReconHome, *args: str) -> None:
    completed = subprocess.run(
        [dbt_executable, *args, "--profiles-dir", str(project), "--quiet", "--no-use-colors"],
        cwd=project,
        env={**os.environ, **home.environment()},
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        output = _LOG_TIME.sub("", completed.stdout + completed.stderr).strip()
        message = rule_error(output) or output[-2000:]
        raise RulesDiffError(f"dbt {args[0]} failed for the {label}:\n{message}")


def _present_columns(connection: Any, catalog: str, table: str) -> set[str]:
    present = {
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = ? and table_schema = 'marts' and table_name = ?",
            [catalog, table],
        ).fetchall()
    }
    if not present:
        raise RulesDiffError(f"the {catalog.replace('_', ' ')} built no marts.{table}; it cannot be compared")
    return present


def select_list(present: set[str], wanted: dict[str, str]) -> str:
    """A select list of the ``wanted`` columns (name: SQL type), NULL for those not ``present``."""
    return ", ".join(
        f'"{name}"' if name in present else f'cast(null as {sql_type}) as "{name}"' for name, sql_type in wanted.items()
    )


_COMPARISON = """
create temp table {side}_matches as
select {match_columns} from {side}_run.marts.fct_matches;

-- an assignment: what one source entry matched under one rule (several targets for a group match)
create temp table {side}_assignments as
select
    source_entry_id,
    rule_name,
    any_value(profile_id) as profile_id,
    string_agg(distinct target_entry_id, ', ' order by target_entry_id) as target_entry_ids,
    string_agg(distinct identifier_name, ', ' order by identifier_name) as identifier_names,
    list_sort(list(coalesce(target_entry_id, '') || ' by ' || coalesce(identifier_name, ''))) as pairs
from {side}_matches
group by source_entry_id, rule_name;

create temp table {side}_exceptions as
select
    {exception_columns},
    list_sort(entry_ids) as sorted_entry_ids
from {side}_run.marts.fct_exceptions;
"""

_ONE_SIDED = """
-- assignments under a rule the other revision did not make for that source entry
create temp table {side}_only as
select mine.*
from {side}_assignments as mine
anti join {other}_assignments as theirs
    on theirs.source_entry_id = mine.source_entry_id
    and theirs.rule_name is not distinct from mine.rule_name;
"""

_REATTRIBUTED = """
with

same_rule as (

    select
        coalesce(working.profile_id, base.profile_id) as profile_id,
        base.source_entry_id,
        base.rule_name as base_rule_name,
        working.rule_name as working_rule_name,
        base.target_entry_ids as base_target_entry_id,
        working.target_entry_ids as working_target_entry_id,
        base.identifier_names as base_identifier_name,
        working.identifier_names as working_identifier_name,
        concat_ws(
            ', ',
            case when base.target_entry_ids is distinct from working.target_entry_ids then 'target' end,
            case
                when base.identifier_names is distinct from working.identifier_names
                    or base.target_entry_ids is not distinct from working.target_entry_ids
                    then 'identifier'
            end
        ) as what_changed
    from base_assignments as base
    inner join working_assignments as working
        on working.source_entry_id = base.source_entry_id
        and working.rule_name is not distinct from base.rule_name
    where base.pairs is distinct from working.pairs

),

base_side as (

    select
        source_entry_id,
        any_value(profile_id) as profile_id,
        string_agg(rule_name, ', ' order by rule_name) as rule_names,
        string_agg(target_entry_ids, ', ' order by rule_name) as target_entry_ids,
        string_agg(identifier_names, ', ' order by rule_name) as identifier_names
    from base_only
    where source_entry_id in (select source_entry_id from rule_changed)
    group by source_entry_id

),

working_side as (

    select
        source_entry_id,
        any_value(profile_id) as profile_id,
        string_agg(rule_name, ', ' order by rule_name) as rule_names,
        string_agg(target_entry_ids, ', ' order by rule_name) as target_entry_ids,
        string_agg(identifier_names, ', ' order by rule_name) as identifier_names
    from working_only
    where source_entry_id in (select source_entry_id from rule_changed)
    group by source_entry_id

),

other_rule as (

    select
        coalesce(working_side.profile_id, base_side.profile_id) as profile_id,
        base_side.source_entry_id,
        base_side.rule_names as base_rule_name,
        working_side.rule_names as working_rule_name,
        base_side.target_entry_ids as base_target_entry_id,
        working_side.target_entry_ids as working_target_entry_id,
        base_side.identifier_names as base_identifier_name,
        working_side.identifier_names as working_identifier_name,
        concat_ws(
            ', ',
            'rule',
            case when base_side.target_entry_ids is distinct from working_side.target_entry_ids then 'target' end,
            case when base_side.identifier_names is distinct from working_side.identifier_names then 'identifier' end
        ) as what_changed
    from base_side
    inner join working_side
        on working_side.source_entry_id = base_side.source_entry_id

)

select * from same_rule
union all
select * from other_rule
order by profile_id, source_entry_id, base_rule_name
"""

_GAINED_OR_LOST = """
select
    matches.profile_id,
    matches.source_entry_id,
    matches.target_entry_id,
    matches.rule_name,
    matches.identifier_name
from {side}_matches as matches
semi join {side}_only as assignments
    on assignments.source_entry_id = matches.source_entry_id
    and assignments.rule_name is not distinct from matches.rule_name
anti join rule_changed
    on rule_changed.source_entry_id = matches.source_entry_id
order by matches.profile_id, matches.source_entry_id, matches.rule_name, matches.target_entry_id
"""

_EXCEPTIONS_ONLY_ON = """
select
    mine.exception_id,
    mine.category,
    (
        select string_agg(distinct theirs.category, ', ' order by theirs.category)
        from {other}_exceptions as theirs
        where theirs.rule_name is not distinct from mine.rule_name
            and theirs.sorted_entry_ids = mine.sorted_entry_ids
            and theirs.category is distinct from mine.category
            and theirs.{key} not in (select {key} from {side}_exceptions where {key} is not null)
    ) as {other_category},
    mine.profile_id,
    mine.rule_name,
    mine.entry_ids,
    mine.amount_at_stake_minor,
    mine.currency
from {side}_exceptions as mine
anti join {other}_exceptions as theirs
    on theirs.{key} = mine.{key}
order by mine.profile_id, mine.category, mine.sorted_entry_ids, mine.rule_name
"""


def compare_warehouses(base_warehouse: Path, working_warehouse: Path) -> dict[str, Any]:
    """The differences between the matches and exceptions of two reconciled warehouses.

    Only the columns in MATCH_COLUMNS and EXCEPTION_COLUMNS are compared, so revisions whose
    marts differ in other columns still compare; a column one revision lacks reads as NULL.
    See `diff_rules` for what each kind of difference means.
    """
    import duckdb

    with duckdb.connect() as connection:
        connection.execute(f"attach {_quoted(base_warehouse)} as base_run (read_only)")
        connection.execute(f"attach {_quoted(working_warehouse)} as working_run (read_only)")
        exception_ids = []
        for side in ("base", "working"):
            exception_columns = _present_columns(connection, f"{side}_run", "fct_exceptions")
            exception_ids.append("exception_id" in exception_columns)
            connection.execute(
                _COMPARISON.format(
                    side=side,
                    match_columns=select_list(
                        _present_columns(connection, f"{side}_run", "fct_matches"), MATCH_COLUMNS
                    ),
                    exception_columns=select_list(exception_columns, EXCEPTION_COLUMNS),
                )
            )
        for side, other in (("base", "working"), ("working", "base")):
            connection.execute(_ONE_SIDED.format(side=side, other=other))
        connection.execute(
            """
            create temp table rule_changed as
            select source_entry_id from base_only
            intersect
            select source_entry_id from working_only
            """
        )
        # exceptions are known by their id; without one at either revision, by what they are about
        key = "exception_id" if all(exception_ids) else "exception_subject"
        for side in ("base", "working"):
            connection.execute(
                f"""
                alter table {side}_exceptions add column exception_subject varchar;
                update {side}_exceptions set exception_subject = concat_ws(
                    '|', category, rule_name, array_to_string(sorted_entry_ids, ',')
                );
                """
            )
        totals = {
            f"{side}_{kind}": connection.execute(f"select count(*) from {side}_{kind}").fetchall()[0][0]
            for side in ("base", "working")
            for kind in ("matches", "exceptions")
        }
        return {
            "totals": totals,
            "matches_gained": rows(connection, _GAINED_OR_LOST.format(side="working")),
            "matches_lost": rows(connection, _GAINED_OR_LOST.format(side="base")),
            "matches_reattributed": rows(connection, _REATTRIBUTED),
            "exceptions_appearing": rows(
                connection,
                _EXCEPTIONS_ONLY_ON.format(side="working", other="base", key=key, other_category="previous_category"),
            ),
            "exceptions_disappearing": rows(
                connection,
                _EXCEPTIONS_ONLY_ON.format(side="base", other="working", key=key, other_category="new_category"),
            ),
        }


def diff_rules(home: ReconHome, base_rev: str, dbt_executable: str, project_dir: Path = DBT_PROJECT_DIR) -> RulesDiff:
    """Run the dbt project as committed at ``base_rev`` and as it is in the working tree on the
    raw tables of ``home``'s warehouse, and report what the working tree changes.

    Both projects are copied to a scratch directory and run one after the other, each in a
    scratch home holding a copy of the raw tables, over one window covering every business date
    of the data; the real warehouse is only read. Then, comparing matches (source entry, target
    entry, rule, identifier) and exceptions:

    - an *assignment* is what one source entry matched under one rule: its target entries (one,
      or several for a group match) and the identifiers that found them. An entry may hold
      assignments under several rules (a chain of rules).
    - *re-attributed*: a source entry whose assignment under a rule exists at both revisions with
      other targets or identifiers; or a source entry that lost its assignment under some rule and
      gained one under another (the rule changed), reported once with the rules, targets and
      identifiers on each side.
    - *gained* / *lost*: the matches of an assignment under a rule that only the working tree /
      only the base makes, for source entries whose rule did not change.
    - *appearing* / *disappearing*: exceptions (known by exception_id, which covers the
      category) that only the working tree / only the base raises. An appearing exception about
      the same entries under the same rule as a disappearing one changed category: it carries
      the base's category in `previous_category`, and the disappearing one the new category in
      `new_category`.

    Raises RulesDiffError when there is no warehouse, ``project_dir`` is not in a git repository,
    ``base_rev`` is not a commit or has no dbt project there, or dbt fails at either revision.
    """
    import duckdb

    from dagster_project.lib.progress import progress
    from dagster_project.lib.warehouse import connect

    if not home.warehouse.exists():
        raise RulesDiffError(f"no warehouse at {home.warehouse}; run `recon run` or `recon demo` first")
    top_level, commit, relative = resolve_base(project_dir, base_rev)
    with connect(home.warehouse, read_only=True) as connection:
        try:
            window = business_date_window(connection)
        except duckdb.Error as error:
            raise RulesDiffError(f"cannot read business dates from the warehouse's staging models: {error}") from None
    window_end = date.fromisoformat(window["max_date"]) - timedelta(days=1)
    progress("rules", f"business dates {window['min_date']} .. {window_end.isoformat()} of {home.warehouse}")
    with tempfile.TemporaryDirectory(prefix="recon-rules-diff-") as scratch_dir:
        scratch = Path(scratch_dir)
        raw_copy = scratch / "raw_tables.duckdb"
        tables = snapshot_raw_tables(home.warehouse, raw_copy)
        progress("rules", f"copied {len(tables)} raw table(s) to a scratch warehouse")
        projects = {
            f"base revision {base_rev} ({commit[:12]})": export_revision(top_level, commit, relative, scratch / "base"),
            "working tree": Path(
                shutil.copytree(
                    project_dir, scratch / "working" / relative, ignore=shutil.ignore_patterns("target", "logs")
                )
            ),
        }
        warehouses = []
        for (label, project), side in zip(projects.items(), ("base", "working"), strict=True):
            run_home = ReconHome(scratch / f"{side}_home").ensure()
            shutil.copyfile(raw_copy, run_home.warehouse)
            started = time.monotonic()
            progress("rules", f"{label}: dbt seed")
            _run_dbt(label, dbt_executable, project, run_home, "seed")
            progress("rules", f"{label}: dbt run")
            _run_dbt(label, dbt_executable, project, run_home, "run", "--vars", json.dumps(window))
            progress("rules", f"{label}: built in {time.monotonic() - started:.1f}s")
            warehouses.append(run_home.warehouse)
        differences = compare_warehouses(*warehouses)
    return RulesDiff(base=base_rev, base_commit=commit, window=window, **differences)
