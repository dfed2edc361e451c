"""Point-in-time balance latency over a large synthetic ledger, through the product's own models and query.

    .venv/bin/python benchmarks/ledger_balance.py --entries 1000000 10000000 [--queries 200] [--seed 7] [--keep]

For each size N (entry rows in `marts.fct_ledger_entry_versions`) the harness starts itself again as
a subprocess (internal mode `--one N`) with a fresh RECON_HOME, builds the chart of accounts with
dbt, writes a synthetic ledger of N entry rows with one set-based DuckDB statement, builds the
product's `fct_balance_movements` and `fct_balance_day_totals` with dbt, then times the product's
`balance()` on one read-only connection and checks its first answers against a brute-force sum
over the versions. A wrong balance aborts the run. Results are printed as a table and written to
benchmarks/results/ledger_balance.json, where the sizes not run this time keep their earlier
results. Nothing here asserts on timings.
"""

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from run import DBT, DBT_PROJECT, dbt_node_timings, finish, machine, peak_rss_mb, reset_peak_rss, run_measured

RESULTS = Path(__file__).resolve().parent / "results" / "ledger_balance.json"
EFFECTIVE_START = datetime(2025, 1, 1)
EFFECTIVE_DAYS = 365
# every transaction has a version 1 (EXPECTED); this share of them a version 2 (POSTED, recorded
# later), and a smaller share a version 3 (VOID) on top of that
POSTED_PERCENT = 30
VOIDED_PERCENT = 1
ENTRIES_PER_TRANSACTION = 2 * (1 + POSTED_PERCENT / 100 + VOIDED_PERCENT / 100)
CHECKED_QUERIES = 20  # answers compared with the brute-force sum, which is also timed on them
STATUSES = ("POSTED",)
FAR_FUTURE = datetime(9999, 12, 31)  # "known now", as balance() reads known_at=None

# The synthetic ledger, in the shape and types of the model's own output (see
# fct_ledger_entry_versions.sql): balanced two-entry transactions between two accounts of one
# profile and currency. Effective days grow with the transaction number, so rows come roughly in
# the order the product appends them. One run a day, at 21:00, 22:00 or 23:00 UTC: version 1 is
# recorded 0..3 days after its effective day; version 2 (POSTED) moves the debit to another
# account, changes the amount and may move the effective time up to 2 days later; version 3
# voids version 2. Random draws are hashes of (transaction, seed, draw), so a seed gives one
# ledger whatever the number of threads.
GENERATE = """
create or replace table marts.fct_ledger_entry_versions as
with

account_groups as (

    select
        row_number() over (order by profile_id, currency) - 1 as group_number,
        profile_id,
        currency,
        list(account_id order by account_id) as account_ids,
        count(*) as account_count
    from marts.dim_accounts
    group by profile_id, currency
    having count(*) >= 2

),

draws as (

    -- non-negative bigints, so the arithmetic below stays in bigint
    select
        t as transaction_number,
        t * $days // $transactions as effective_day,
        (hash(t, $seed, 1) >> 1)::bigint % (select count(*) from account_groups) as group_number,
        (hash(t, $seed, 2) >> 1)::bigint as debit_draw,
        (hash(t, $seed, 3) >> 1)::bigint as credit_draw,
        (hash(t, $seed, 4) >> 1)::bigint % (21 * 3600) as effective_second,
        (hash(t, $seed, 5) >> 1)::bigint % 4 as recorded_delay_days,
        100 + (hash(t, $seed, 6) >> 1)::bigint % 999901 as amount_minor,
        (hash(t, $seed, 7) >> 1)::bigint % 100 as version_draw,
        (hash(t, $seed, 8) >> 1)::bigint as posted_debit_draw,
        (hash(t, $seed, 9) >> 1)::bigint % 3 as posted_shift_days,
        (hash(t, $seed, 10) >> 1)::bigint % 100 as posted_discount_minor,
        (hash(t, $seed, 11) >> 1)::bigint % 4 as posted_delay_days,
        1 + (hash(t, $seed, 12) >> 1)::bigint % 5 as void_delay_days
    from range($transactions) as numbers(t)

),

transactions as (

    select
        'txn|bench-' || draws.transaction_number as transaction_id,
        account_groups.profile_id,
        account_groups.currency,
        account_groups.account_ids,
        account_groups.account_count,
        draws.debit_draw % account_groups.account_count as debit_position,
        (debit_position + 1 + draws.credit_draw % (account_groups.account_count - 1))
            % account_groups.account_count as credit_position,
        -- version 2 debits another account than the credited one, maybe version 1's
        (credit_position + 1 + draws.posted_debit_draw % (account_groups.account_count - 1))
            % account_groups.account_count as posted_debit_position,
        $start::timestamp + to_days(draws.effective_day::integer)
            + to_seconds(draws.effective_second) as effective_at,
        draws.effective_day + draws.recorded_delay_days as recorded_day,
        draws.amount_minor,
        draws.version_draw < $posted_percent as is_posted,
        draws.version_draw < $voided_percent as is_voided,
        effective_at + to_days(draws.posted_shift_days::integer) as posted_effective_at,
        greatest(
            recorded_day + 1,
            draws.effective_day + draws.posted_shift_days + draws.posted_delay_days
        ) as posted_recorded_day,
        draws.amount_minor - draws.posted_discount_minor as posted_amount_minor,
        posted_recorded_day + draws.void_delay_days as voided_recorded_day
    from draws
    inner join account_groups
        on account_groups.group_number = draws.group_number

),

versions as (

    select
        transaction_id,
        1::bigint as version,
        'EXPECTED' as status,
        profile_id,
        currency,
        account_ids[debit_position + 1] as debit_account_id,
        account_ids[credit_position + 1] as credit_account_id,
        amount_minor,
        effective_at,
        recorded_day
    from transactions

    union all

    select
        transaction_id,
        2,
        'POSTED',
        profile_id,
        currency,
        account_ids[posted_debit_position + 1],
        account_ids[credit_position + 1],
        posted_amount_minor,
        posted_effective_at,
        posted_recorded_day
    from transactions
    where is_posted

    union all

    select
        transaction_id,
        3,
        'VOID',
        profile_id,
        currency,
        account_ids[posted_debit_position + 1],
        account_ids[credit_position + 1],
        posted_amount_minor,
        posted_effective_at,
        voided_recorded_day
    from transactions
    where is_voided

),

entries as (

    select
        versions.*,
        legs.entry_index,
        legs.direction,
        case when legs.direction = 'DEBIT' then versions.debit_account_id else versions.credit_account_id end
            as account_id,
        -- the day's run
        $start::timestamp + to_days(versions.recorded_day::integer)
            + to_hours(21 + versions.recorded_day::integer % 3) as recorded_at
    from versions
    cross join (values (1, 'DEBIT'), (2, 'CREDIT')) as legs(entry_index, direction)

)

select
    -- ids
    transaction_id || '@' || version || '#' || entry_index as ledger_entry_version_id,
    transaction_id || '#' || entry_index as transaction_entry_id,
    transaction_id,
    version,
    entry_index,
    profile_id,
    'synthetic' as rule_name,
    cast(null as varchar) as expectation_id,
    cast(null as varchar) as source_entry_id,
    cast(null as varchar) as target_entry_id,
    account_id,

    -- amounts
    direction,
    -- what the model produces today: its amounts come from sums of bigints upstream
    cast(amount_minor as hugeint) as amount_minor,
    currency,
    status,
    status as transaction_status,
    cast(null as varchar) as fx_rate,

    -- timestamps
    effective_at,
    recorded_at,
    cast(effective_at as date) as event_date,
    cast(null as varchar) as version_hash,
    cast('1900-01-01' as date) as run_window_start,
    cast('9999-12-31' as date) as run_window_end
from entries
"""

# The balance as the versions say it, without the product's movements: for each transaction its
# latest version recorded by known_at, that version's entries (VOID ones move nothing) effective
# by as_of, debit-positive
BRUTE_FORCE = """
with

known_versions as (

    select
        transaction_id,
        max(version) as version
    from marts.fct_ledger_entry_versions
    where recorded_at <= $known_at
    group by transaction_id

)

select
    coalesce(sum(case when entries.direction = 'DEBIT' then entries.amount_minor else -entries.amount_minor end), 0)
from marts.fct_ledger_entry_versions as entries
inner join known_versions
    on known_versions.transaction_id = entries.transaction_id
    and known_versions.version = entries.version
where entries.account_id = $account
    and entries.status = $status
    and entries.status <> 'VOID'
    and entries.effective_at <= $as_of
"""


class BalanceMismatch(AssertionError):
    """balance() and the brute-force sum over the versions disagree."""


def log(message: str) -> None:
    print(f"  ledger  {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def run_dbt(arguments: list[str], home: Any, name: str) -> dict[str, Any]:
    """Run dbt in the project with its profiles dir and this home; raise with dbt's output if it fails."""
    command = [str(DBT), *arguments, "--profiles-dir", str(DBT_PROJECT)]
    output = home.dbt_logs / f"benchmark_{name}.out"
    returncode, seconds, peak = run_measured(command, DBT_PROJECT, home.environment(), output)
    nodes = dbt_node_timings(home.dbt_target / "run_results.json")
    if returncode != 0:
        tail = "\n".join(output.read_text().splitlines()[-15:])
        raise RuntimeError(f"dbt {' '.join(arguments)} exited {returncode} (output: {output}):\n{tail}")
    return {"seconds": round(seconds, 3), "peak_rss_mb": peak and round(peak, 1), "nodes": nodes}


def count(connection: Any, table: str) -> int:
    return connection.execute(f"select count(*) from marts.{table}").fetchone()[0]


def sample_queries(connection: Any, how_many: int, seed: int) -> list[tuple[str, datetime, datetime | None]]:
    """(account, as_of, known_at) triples: every account of the chart (some never move), as_of
    anywhere in the effective year, known_at None for every other one, else a run's exact time
    (the boundary: that run counts) or any moment between the first run and the last."""
    accounts = [row[0] for row in connection.execute("select account_id from marts.dim_accounts order by 1").fetchall()]
    runs_sql = "select distinct recorded_at from marts.fct_balance_day_totals order by 1"
    runs = [row[0] for row in connection.execute(runs_sql).fetchall()]
    chooser = random.Random(seed)
    queries: list[tuple[str, datetime, datetime | None]] = []
    for number in range(how_many):
        as_of = EFFECTIVE_START + timedelta(seconds=chooser.randrange(EFFECTIVE_DAYS * 86400))
        known_at: datetime | None = None
        if number % 4 == 1:
            known_at = chooser.choice(runs)
        elif number % 4 == 3:
            span = int((runs[-1] - runs[0]).total_seconds())
            known_at = runs[0] + timedelta(seconds=chooser.randrange(span))
        queries.append((chooser.choice(accounts), as_of, known_at))
    return queries


def brute_force_balance(connection: Any, account_id: str, as_of: datetime, known_at: datetime | None) -> int:
    """One account's POSTED balance on its normal side, summed from the versions."""
    (debit_positive,) = connection.execute(
        BRUTE_FORCE,
        {"account": account_id, "status": STATUSES[0], "as_of": as_of, "known_at": known_at or FAR_FUTURE},
    ).fetchone()
    (normal_side,) = connection.execute(
        "select normal_side from marts.dim_accounts where account_id = ?", [account_id]
    ).fetchone()
    return int(debit_positive) if normal_side == "DEBIT" else -int(debit_positive)


def explain_balance(connection: Any, balance_sql: str, account_id: str, as_of: datetime) -> dict[str, Any]:
    """What the product's balance query reads of each table, for one account and day, known now
    (EXPLAIN ANALYZE): row groups scanned of all, rows scanned, seconds."""
    plan = connection.execute(
        "explain (analyze, format json) " + balance_sql,
        {
            "account": account_id,
            "status": STATUSES[0],
            "as_of_date": as_of.date(),
            "as_of": as_of,
            "known_at": FAR_FUTURE,
        },
    ).fetchone()[1]
    document = json.loads(plan)
    scans: dict[str, Any] = {"bytes_read": document.get("io", {}).get("total_bytes_read")}
    operators = list(document["operator"])
    while operators:
        operator = operators.pop()
        operators.extend(operator.get("children", []))
        if operator.get("type") == "TABLE_SCAN":
            scans[operator["extra_info"]["Table"].rsplit(".", 1)[-1]] = {
                "row_groups_scanned": operator.get("row_groups_scanned"),
                "row_groups": operator.get("total_row_groups_to_scan"),
                "rows_scanned": operator.get("rows_scanned"),
                "seconds": operator.get("timing"),
            }
    return scans


def run_one(entries: int, home_dir: Path, queries: int, seed: int) -> dict[str, Any]:
    """Chart of accounts, synthetic versions, the balance models, then timed and checked balances."""
    from dagster_project.lib.home import ReconHome

    home = ReconHome(home_dir.resolve()).activate()  # before any other product import

    from dagster_project.lib import ledger
    from dagster_project.lib.warehouse import connect

    transactions = round(entries / ENTRIES_PER_TRANSACTION)
    result: dict[str, Any] = {"entries": entries, "transactions": transactions}

    log(f"n={entries:,}: dbt seed; dbt run --select int_accounts dim_accounts")
    result["dbt_seed"] = run_dbt(["seed"], home, "seed")
    result["dbt_accounts"] = run_dbt(["run", "--select", "int_accounts", "dim_accounts"], home, "accounts")

    log(f"n={entries:,}: generating {transactions:,} transactions")
    reset_peak_rss()
    started = time.perf_counter()
    with connect(home.warehouse) as connection:
        connection.execute(
            GENERATE,
            {
                "transactions": transactions,
                "seed": seed,
                "days": EFFECTIVE_DAYS,
                "start": EFFECTIVE_START,
                "posted_percent": POSTED_PERCENT,
                "voided_percent": VOIDED_PERCENT,
            },
        )
        result["versions_rows"] = count(connection, "fct_ledger_entry_versions")
        result["accounts"] = count(connection, "dim_accounts")
        result["runs"] = connection.execute(
            "select count(distinct recorded_at) from marts.fct_ledger_entry_versions"
        ).fetchone()[0]
    result["generate"] = {"seconds": round(time.perf_counter() - started, 3), "peak_rss_mb": round(peak_rss_mb(), 1)}

    log(f"n={entries:,}: dbt run --select fct_balance_movements fct_balance_day_totals --full-refresh")
    selection = ["fct_balance_movements", "fct_balance_day_totals"]
    result["build"] = run_dbt(["run", "--select", *selection, "--full-refresh"], home, "balances")
    result["warehouse_mb"] = round(home.warehouse.stat().st_size / 2**20, 1)

    reset_peak_rss()
    with connect(home.warehouse, read_only=True) as connection:
        result["movements_rows"] = count(connection, "fct_balance_movements")
        result["day_total_rows"] = count(connection, "fct_balance_day_totals")
        triples = sample_queries(connection, queries, seed)

        log(f"n={entries:,}: {queries} balances, the first {CHECKED_QUERIES} checked by brute force")
        latencies, answers = [], []
        for account_id, as_of, known_at in triples:
            started = time.perf_counter()
            answer = ledger.balance(connection, account_id, as_of, known_at, statuses=STATUSES)
            latencies.append(time.perf_counter() - started)
            answers.append(answer[0]["balance_minor"])

        brute_latencies: list[float] = []
        checked: list[dict[str, Any]] = []
        for (account_id, as_of, known_at), answer in zip(triples[:CHECKED_QUERIES], answers, strict=False):
            started = time.perf_counter()
            expected = brute_force_balance(connection, account_id, as_of, known_at)
            brute_latencies.append(time.perf_counter() - started)
            if answer != expected:
                raise BalanceMismatch(
                    f"balance({account_id!r}, as_of={as_of}, known_at={known_at}) = {answer}, "
                    f"but the versions sum to {expected}"
                )
            known = known_at and known_at.isoformat(sep=" ")
            checked.append(
                {
                    "account_id": account_id,
                    "as_of": as_of.isoformat(sep=" "),
                    "known_at": known,
                    "balance_minor": answer,
                }
            )
        account_id, as_of, _ = triples[0]
        result["balance_scans"] = explain_balance(connection, ledger._BALANCE, account_id, as_of)
    result["query_peak_rss_mb"] = round(peak_rss_mb(), 1)

    milliseconds = [s * 1000 for s in latencies]
    result["balance_ms"] = {
        "p50": round(statistics.median(milliseconds), 3),
        "p95": round(percentile(milliseconds, 0.95), 3),
        "max": round(max(milliseconds), 3),
        "queries": len(milliseconds),
    }
    result["brute_force_ms"] = {
        "p50": round(statistics.median(s * 1000 for s in brute_latencies), 3),
        "queries": len(brute_latencies),
    }
    result["checked"] = checked
    return result


# --- the harness ----------------------------------------------------------------------------


def run_size(entries: int, home_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one size in a subprocess; its result with the whole run's peak RSS (dbt included)."""
    result_file = home_dir.parent / f"result-{entries}.json"
    command = [
        sys.executable, str(Path(__file__).resolve()), "--one", str(entries), "--home", str(home_dir),
        "--queries", str(args.queries), "--seed", str(args.seed), "--result", str(result_file),
    ]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)  # rusage of this child and its descendants
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0 or not result_file.exists():
        return {"entries": entries, "error": f"exit code {os.waitstatus_to_exitcode(status)}", "wall_seconds": wall}
    result = json.loads(result_file.read_text())
    result["wall_seconds"] = round(wall, 3)
    result["peak_rss_mb_whole_run"] = round(usage.ru_maxrss / 1024, 1)
    return result


def render(results: list[dict[str, Any]]) -> str:
    header = (
        "entries", "versions rows", "movements rows", "day-total rows", "build s",
        "balance p50 ms", "p95 ms", "max ms", "brute-force p50 ms", "ratio", "peak RSS MB",
    )  # fmt: skip
    lines = [header]
    failures = []
    for r in results:
        if "error" in r:
            failures.append(f"{r['entries']:,}: FAILED ({r['error'].splitlines()[0]})")
            continue
        balance, brute = r["balance_ms"], r["brute_force_ms"]
        lines.append(
            (
                f"{r['entries']:,}",
                f"{r['versions_rows']:,}",
                f"{r['movements_rows']:,}",
                f"{r['day_total_rows']:,}",
                f"{r['build']['seconds']:,.1f}",
                f"{balance['p50']:,.2f}",
                f"{balance['p95']:,.2f}",
                f"{balance['max']:,.2f}",
                f"{brute['p50']:,.1f}",
                f"{brute['p50'] / balance['p50']:,.0f}x",
                f"{r['peak_rss_mb_whole_run']:,.0f}",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    table = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in lines]
    table.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(table + failures)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--entries", type=int, nargs="+", default=[1_000_000, 10_000_000], help="entry rows in the ledger"
    )
    parser.add_argument("--queries", type=int, default=200, help="timed balance() calls per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes")
    parser.add_argument("--home", type=Path, help="base directory for the homes (default: a new one in /tmp)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one is not None:
        try:
            result = run_one(args.one, args.home, args.queries, args.seed)
        except Exception as error:  # reported as this size's error
            result = {"entries": args.one, "error": f"{type(error).__name__}: {error}"}
            log(f"n={args.one:,}: {result['error']}")
        args.result.write_text(json.dumps(result, indent=1, default=str))
        return 0

    if args.queries < CHECKED_QUERIES:
        log(f"--queries must be at least {CHECKED_QUERIES} (the brute-force check)")
        return 2
    temporary = args.home is None
    base = Path(tempfile.mkdtemp(prefix="recon-ledger-bench-", dir="/tmp")) if temporary else args.home
    base = base.resolve()
    results = []
    for entries in args.entries:
        home_dir = base / f"n{entries}"
        if home_dir.exists() and any(home_dir.iterdir()):
            log(f"{home_dir} is not empty; give a fresh --home")
            return 2
        result = run_size(entries, home_dir, args)
        results.append(result)
        if result.get("error", "").startswith(BalanceMismatch.__name__):
            log(f"n={entries:,}: WRONG BALANCE, stopping: {result['error']}")
            break

    print(render(results))
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    machine_info = machine()
    for result in results:
        result.update(measured_at=measured_at, seed=args.seed, queries=args.queries, machine=machine_info)
    # the sizes measured before (e.g. 1e8 on its own) stay, each with when and how it was measured
    earlier = json.loads(RESULTS.read_text())["results"] if RESULTS.exists() else []
    measured = {r["entries"] for r in results}
    kept = [r for r in earlier if r.get("entries") not in measured]
    document = {
        "generated_at": measured_at,
        "statuses": list(STATUSES),
        "results": sorted(kept + results, key=lambda r: r["entries"]),
    }
    return finish(RESULTS, document, results, base, remove=temporary and not args.keep)


if __name__ == "__main__":
    sys.exit(main())
