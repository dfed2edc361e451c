"""Benchmark harness: generate, ingest, reconcile (dbt build) and a hand-written SQL floor.

    .venv/bin/python benchmarks/run.py --sizes 10000 100000 [--days 5] [--skip-floor] [--daily] [--keep]

Each size runs in its own subprocess (internal mode `--one N`) with its own fresh RECON_HOME,
so every size gets a clean warehouse and its own peak-memory measurement. Results are printed
as a table and written to benchmarks/results/latest.json. Nothing here asserts on timings.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
CHECKOUT = BENCH_DIR.parent
DBT_PROJECT = CHECKOUT / "dbt_project"
DBT = CHECKOUT / ".venv" / "bin" / "dbt"
FLOOR_SQL = BENCH_DIR / "floor.sql"
RESULTS = BENCH_DIR / "results" / "latest.json"
PROFILES = 2  # demo_data.PROFILES
MATCHING_MODELS = (
    "int_expectations_created",
    "int_match_candidates_evaluated",
    "int_matches_assigned",
    "int_entries_reconciled",
)
FLOOR_REPEATS = 3
FAILED = ("error", "fail", "runtime error")  # dbt node statuses that mean something broke
ANSI = re.compile(r"\x1b\[[0-9;]*m")
Measured = tuple[int, float, float | None]  # exit code, seconds, peak RSS MB

# The floor's matches against the product's, per rule: pairs (a match, a group named by its
# first member, with both member counts) and member pairs (every source member with every
# target member; the floor lists a group's members when it has several; the product's come from
# the outcomes, where a member's counterpart is the other side's first member, so both sides
# are read)
FLOOR_COMPARISON = """
with

matches as (

    select
        coalesce(floor.rule_name, product.rule_name) as rule_name,
        floor.rule_name is not null as in_floor,
        product.rule_name is not null as in_product
    from bench.floor_matches as floor
    full join marts.fct_matches as product
        on product.rule_name = floor.rule_name
        and product.profile_id = floor.profile_id
        and product.source_record_id = floor.source_record_id
        and product.target_record_id = floor.target_record_id
        and product.source_member_count = floor.source_member_count
        and product.target_member_count = floor.target_member_count

),

floor_members as (

    select distinct floor.rule_name, floor.profile_id, source.id as source_id, target.id as target_id
    from bench.floor_matches as floor,
        unnest(coalesce(floor.source_record_ids, [floor.source_record_id])) as source(id),
        unnest(coalesce(floor.target_record_ids, [floor.target_record_id])) as target(id)

),

product_members as (

    select rule_name, profile_id, source_entry_id as source_id, counterpart_source_entry_id as target_id
    from marts.fct_reconciliation_outcomes
    where side = 'source' and status = 'matched'
    union
    select rule_name, profile_id, counterpart_source_entry_id, source_entry_id
    from marts.fct_reconciliation_outcomes
    where side = 'target' and status = 'matched'

),

members as (

    select
        coalesce(floor.rule_name, product.rule_name) as rule_name,
        floor.rule_name is not null as in_floor,
        product.rule_name is not null as in_product
    from floor_members as floor
    full join product_members as product
        on product.rule_name = floor.rule_name
        and product.profile_id = floor.profile_id
        and product.source_id = floor.source_id
        and product.target_id = floor.target_id

),

by_rule as (

    select rule_name, count_if(in_floor) as floor_pairs, count_if(in_product) as product_pairs,
        count_if(in_floor and in_product) as agreeing_pairs
    from matches
    group by rule_name

),

members_by_rule as (

    select rule_name, count_if(in_floor) as floor_member_pairs, count_if(in_product) as product_member_pairs,
        count_if(in_floor and in_product) as agreeing_member_pairs
    from members
    group by rule_name

)

select *
from by_rule
full join members_by_rule using (rule_name)
order by rule_name
"""


@dataclass
class Stage:
    stage: str
    seconds: float
    rows: int | None = None
    peak_rss_mb: float | None = None

    @property
    def rows_per_second(self) -> float | None:
        if self.rows is None or self.seconds <= 0:
            return None
        return self.rows / self.seconds


def log(message: str) -> None:
    print(f"  bench   {message}", file=sys.stderr, flush=True)


# --- memory ---------------------------------------------------------------------------------


def reset_peak_rss() -> None:
    """Reset this process's peak RSS (VmHWM) so the next stage is measured on its own (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # then the value is the high-water mark since the process started


def peak_rss_mb() -> float:
    """This process's peak RSS since the last reset, in MB."""
    try:
        status = Path("/proc/self/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            return int(match.group(1)) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_measured(command: list[str], cwd: Path, env: dict[str, str], output: Path) -> Measured:
    """Run a command; (exit code, seconds, its peak RSS in MB polled from /proc, if readable).

    The child's own VmHWM is polled rather than taken from getrusage(RUSAGE_CHILDREN), which
    also counts the memory this process had when it forked the child.
    """
    peak_kb: int | None = None
    started = time.perf_counter()
    with open(output, "w") as sink:
        env = {**os.environ, **env}
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
        status = Path(f"/proc/{process.pid}/status")
        while process.poll() is None:
            try:
                match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
                if match:
                    peak_kb = max(peak_kb or 0, int(match.group(1)))
            except OSError:
                pass
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    return process.returncode, seconds, None if peak_kb is None else peak_kb / 1024


# --- one size, in its own process -----------------------------------------------------------


def dbt_node_timings(run_results: Path) -> dict[str, dict[str, Any]]:
    """Execution time and status of every node dbt ran, by node name."""
    if not run_results.exists():
        return {}
    document = json.loads(run_results.read_text())
    timings: dict[str, dict[str, Any]] = {}
    for result in document["results"]:
        name = result["unique_id"].split(".", 2)[-1]
        timings[name] = {
            "kind": result["unique_id"].split(".", 1)[0],
            "status": result["status"],
            "seconds": round(result["execution_time"], 3),
        }
        if result["status"] in FAILED:
            message = ANSI.sub("", result.get("message") or "").strip()
            timings[name]["message"] = "\n".join(message.splitlines()[:10])
    return timings


def run_floor(connection: Any) -> tuple[float, list[float]]:
    """Run floor.sql FLOOR_REPEATS times; (best seconds, all runs)."""
    sql = FLOOR_SQL.read_text()
    runs = []
    for _ in range(FLOOR_REPEATS):
        started = time.perf_counter()
        connection.execute(sql)
        runs.append(time.perf_counter() - started)
    return min(runs), runs


def stage_record(s: Stage) -> dict[str, Any]:
    return {**asdict(s), "rows_per_second": s.rows_per_second, "seconds": round(s.seconds, 3)}


def dbt_build(variables: dict[str, str]) -> list[str]:
    """The `dbt build` of a run window: models, seeds and data tests (unit tests run in `make test`)."""
    return [
        str(DBT), "build", "--vars", json.dumps(variables), "--exclude-resource-type", "unit_test",
        "--profiles-dir", str(DBT_PROJECT),
    ]  # fmt: skip


def run_one(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, ingest, reconcile, evaluate, (unless skipped) run the floor and (if asked) run
    the last day again as the nightly schedule would, for one size.
    The generated files are removed once ingested, unless kept (the warehouse holds their rows;
    at 1e6 they take 1.3 GB); the ground truth stays."""
    from dagster_project.lib.home import ReconHome

    home = ReconHome(args.home.resolve()).activate()  # before any other product import
    days, seed = args.days, args.seed

    from dagster_project.lib.demo_data import generate_demo_data
    from dagster_project.lib.evaluation import evaluate
    from dagster_project.lib.ingest import ensure_raw_schema, ingest_file
    from dagster_project.lib.warehouse import connect
    from dagster_project.partitions import window_vars

    orders_per_day = max(1, round(size / (days * PROFILES)))
    stages: list[Stage] = []
    result: dict[str, Any] = {"size": size, "days": days, "orders_per_day": orders_per_day}

    log(f"n={size}: generating {days} days x {orders_per_day} orders x {PROFILES} profiles")
    reset_peak_rss()
    started = time.perf_counter()
    dataset = generate_demo_data(home.demo, days=days, orders_per_day=orders_per_day, seed=seed)
    generated = dataset.orders + dataset.balance_transactions
    stages.append(Stage("generate", time.perf_counter() - started, generated, peak_rss_mb()))
    result.update(orders=dataset.orders, balance_transactions=dataset.balance_transactions)

    log(f"n={size}: ingesting {len(dataset.files)} files")
    reset_peak_rss()
    rows_read = rows_loaded = 0
    started = time.perf_counter()
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        for source_name, profile, path in dataset.files:
            ingested = ingest_file(connection, path, source_name, profile)
            rows_read += ingested.rows_read
            rows_loaded += ingested.rows_loaded
    stages.append(Stage("ingest", time.perf_counter() - started, rows_read, peak_rss_mb()))
    if not args.keep:
        for _, _, path in dataset.files:
            path.unlink()
    result.update(raw_rows_read=rows_read, raw_rows_loaded=rows_loaded)

    variables = window_vars(dataset.first_day, dataset.last_day + timedelta(days=1))
    log(f"n={size}: dbt build --vars {json.dumps(variables)}")
    command = dbt_build(variables)
    output = home.dbt_logs / "benchmark_build.out"
    returncode, seconds, dbt_peak = run_measured(command, DBT_PROJECT, home.environment(), output)
    reconcile = Stage("reconcile", seconds, rows_loaded, dbt_peak)
    stages.append(reconcile)
    result["dbt_returncode"] = returncode
    if returncode != 0:
        log(f"n={size}: dbt build exited {returncode}; its output: {output}")
    nodes = dbt_node_timings(home.dbt_target / "run_results.json")
    result["dbt_nodes"] = nodes
    result["dbt_failures"] = [n for n, t in nodes.items() if t["status"] in FAILED]
    result["dbt_skipped"] = sum(t["status"] == "skipped" for t in nodes.values())
    for model in MATCHING_MODELS:
        if nodes.get(model, {}).get("status") == "success":
            stages.append(Stage(f"  dbt {model}", nodes[model]["seconds"]))
    result["stages"] = [stage_record(s) for s in stages]
    if nodes.get("fct_reconciliation_outcomes", {}).get("status") != "success":
        failed = result["dbt_failures"][0] if result["dbt_failures"] else "?"
        message = nodes.get(failed, {}).get("message", "")
        result["error"] = f"dbt build failed at {failed}: {message}"
        log(f"n={size}: {result['error']}")
        return result

    assert dataset.ground_truth is not None
    with connect(home.warehouse, read_only=True) as connection:
        evaluation = evaluate(connection, dataset.ground_truth)
    result["evaluation"] = {
        "precision": evaluation.precision,
        "recall": evaluation.recall,
        "accuracy": evaluation.accuracy,
        "true_matches": evaluation.true_matches,
        "found_matches": evaluation.found_matches,
        "correct_matches": evaluation.correct_matches,
        "records": evaluation.records,
        "mistakes": evaluation.wrong,
    }
    log(
        f"n={size}: precision {evaluation.precision:.2%}, recall {evaluation.recall:.2%}, "
        f"accuracy {evaluation.accuracy:.2%} ({evaluation.wrong} wrong records)"
    )

    if not args.skip_floor:
        log(f"n={size}: floor, best of {FLOOR_REPEATS}")
        with connect(home.warehouse) as connection:  # with the project's UDFs
            reset_peak_rss()
            best, runs = run_floor(connection)
            stages.append(Stage("floor", best, rows_loaded, peak_rss_mb()))
            cursor = connection.execute(FLOOR_COMPARISON)
            columns = [column[0] for column in cursor.description]
            by_rule = {row[0]: dict(zip(columns[1:], row[1:], strict=True)) for row in cursor.fetchall()}
        result["floor"] = {"runs_seconds": runs, "rules": by_rule}
        result["reconcile_over_floor"] = reconcile.seconds / best if best > 0 else None

    if args.daily:
        # the nightly schedule's run of one day (the last) over the history already reconciled:
        # what a day costs when the history is this size
        last = dataset.last_day
        variables = window_vars(last, last + timedelta(days=1))
        log(f"n={size}: daily run, dbt build --vars {json.dumps(variables)}")
        command = dbt_build(variables)
        output = home.dbt_logs / "benchmark_daily.out"
        with connect(home.warehouse, read_only=True) as connection:
            day_entries = connection.execute(
                "select count(*) from intermediate.int_entries_unioned where business_date = ?", [last]
            ).fetchall()[0][0]
        returncode, seconds, peak = run_measured(command, DBT_PROJECT, home.environment(), output)
        stages.append(Stage("daily run (last day)", seconds, day_entries, peak))
        result["daily_returncode"] = returncode
        result["daily_over_reconcile"] = seconds / reconcile.seconds
        if returncode != 0:
            log(f"n={size}: the daily run's dbt build exited {returncode}; its output: {output}")

    result["stages"] = [stage_record(s) for s in stages]
    return result


# --- the harness ----------------------------------------------------------------------------


def run_size(size: int, home_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one size in a subprocess and collect its result and whole-run peak RSS."""
    result_file = home_dir.parent / f"result-{size}.json"
    command = [
        sys.executable, str(Path(__file__).resolve()), "--one", str(size),
        "--home", str(home_dir), "--days", str(args.days), "--seed", str(args.seed),
        "--result", str(result_file),
    ]  # fmt: skip
    if args.skip_floor:
        command.append("--skip-floor")
    if args.keep:
        command.append("--keep")
    if args.daily:
        command.append("--daily")
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)  # rusage of this child and its descendants
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0 or not result_file.exists():
        log(f"n={size}: failed (exit code {process.returncode})")
        return {"size": size, "error": f"exit code {process.returncode}", "wall_seconds": wall}
    result = json.loads(result_file.read_text())
    result["wall_seconds"] = round(wall, 3)
    result["peak_rss_mb_whole_run"] = round(usage.ru_maxrss / 1024, 1)
    return result


def _number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if digits else f"{value:,.0f}"


def render(results: list[dict[str, Any]]) -> str:
    header = ("size", "stage", "seconds", "rows", "rows/s", "peak RSS MB")
    lines = [header]
    for result in results:
        for s in result.get("stages", []):
            lines.append(
                (
                    f"{result['size']:,}",
                    s["stage"],
                    _number(s["seconds"]),
                    _number(s["rows"], 0),
                    _number(s["rows_per_second"], 0),
                    _number(s["peak_rss_mb"], 0),
                )
            )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(cells))

    table = [line(row) for row in lines]
    table.insert(1, "  ".join("-" * w for w in widths))
    table.append("")
    for result in results:
        table.append(summary_line(result))
    return "\n".join(table)


def summary_line(result: dict[str, Any]) -> str:
    size = f"size {result['size']:,}"
    if "error" in result:
        return f"{size}: FAILED ({result['error'].splitlines()[0]})"
    evaluation = result["evaluation"]
    parts = [
        f"precision {evaluation['precision']:.2%} recall {evaluation['recall']:.2%}",
        f"peak RSS (whole run) {result['peak_rss_mb_whole_run']:,.0f} MB",
    ]
    if result["dbt_failures"]:
        failures = result["dbt_failures"]
        skipped = result["dbt_skipped"]
        parts.append(f"dbt: {len(failures)} failed (first {failures[0]}), {skipped} skipped")
    if result.get("reconcile_over_floor"):
        parts.append(f"reconcile/floor = {result['reconcile_over_floor']:,.1f}x")
    if result.get("daily_over_reconcile"):
        parts.append(f"daily run/reconcile = {result['daily_over_reconcile']:.2f}")
    models = [(n, t) for n, t in result["dbt_nodes"].items() if t["kind"] == "model"]
    slowest = sorted(models, key=lambda item: -item[1]["seconds"])[:3]
    parts.append("slowest dbt models " + ", ".join(f"{n} {t['seconds']:.1f}s" for n, t in slowest))
    lines = [f"{size}: " + "; ".join(parts)]
    for rule, counts in result.get("floor", {}).get("rules", {}).items():
        lines.append(
            f"  floor vs product {rule}: pairs {counts['floor_pairs'] or 0:,} / {counts['product_pairs'] or 0:,} "
            f"(agreeing {counts['agreeing_pairs'] or 0:,}), member pairs {counts['floor_member_pairs'] or 0:,} / "
            f"{counts['product_member_pairs'] or 0:,} (agreeing {counts['agreeing_member_pairs'] or 0:,})"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000], help="orders in total")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-floor", action="store_true", help="do not run the SQL floor")
    parser.add_argument("--daily", action="store_true", help="then run the last day again, as the nightly schedule")
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes and the generated files")
    parser.add_argument("--home", type=Path, help="base directory for the homes (default: /tmp)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one is not None:
        try:
            result = run_one(args.one, args)
        except Exception as error:  # reported as this size's error, the other sizes go on
            first_line = (str(error).splitlines() or [""])[0]
            result = {"size": args.one, "error": f"{type(error).__name__}: {first_line}"}
            log(f"n={args.one}: {result['error']}")
        args.result.write_text(json.dumps(result, indent=1))
        return 0

    temporary = args.home is None
    base = Path(tempfile.mkdtemp(prefix="recon-bench-", dir="/tmp")) if temporary else args.home
    base = base.resolve()
    results = []
    for size in args.sizes:
        home_dir = base / f"n{size}"
        if home_dir.exists() and any(home_dir.iterdir()):
            log(f"{home_dir} is not empty; give a fresh --home")
            return 2
        results.append(run_size(size, home_dir, args))

    print(render(results))
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "days": args.days,
        "seed": args.seed,
        "results": results,
    }
    return finish(RESULTS, document, results, base, remove=temporary and not args.keep)


# --- what every harness does at the end -----------------------------------------------------


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def finish(path: Path, document: dict[str, Any], results: list[dict[str, Any]], base: Path, *, remove: bool) -> int:
    """Write the results document, remove (or name) the homes under ``base``; the exit code is 1
    when a size (or source) ended in an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str) + "\n")
    print(f"\nwrote {path.relative_to(CHECKOUT)}")
    if remove:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print(f"homes kept under {base}")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
