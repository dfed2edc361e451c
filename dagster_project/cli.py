"""`recon`: the command line of the reconciliation warehouse.

Listings print to stdout in the chosen --format; progress goes to stderr.
"""

import argparse
import os
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from dagster_project.lib.home import ReconHome
from dagster_project.lib.output import FORMATS, render
from dagster_project.lib.progress import progress

QUIET_DAGSTER = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def run_reconciliation(first_day: date, last_day: date) -> bool:
    """Run the Dagster job in process over the business dates first_day..last_day."""
    import dagster as dg

    from dagster_project.partitions import range_tags

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from dagster_project.definitions import defs
    from dagster_project.lib.snapshot import refresh_after_run

    job = defs.resolve_job_def("reconcile_job")
    started = time.monotonic()
    progress("run", f"reconciling business dates {first_day} .. {last_day}")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        tags=range_tags(first_day, last_day),
        run_config=QUIET_DAGSTER,
        raise_on_error=False,
    )
    if not result.success:
        failures = []
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data:
                failures.append(f"{event.step_key}: {event.step_failure_data.error.message.strip()}")
                progress("run", f"FAILED {failures[-1]}")
        progress("run", f"failed after {time.monotonic() - started:.1f}s")
        _alert_after_run(result.run_id, "; ".join(failures) or "the run failed", f"{first_day}..{last_day}")
        return False
    progress("run", f"done in {time.monotonic() - started:.1f}s")
    progress("dashboard", refresh_after_run(ReconHome.from_env().warehouse))
    _alert_after_run(result.run_id, None, f"{first_day}..{last_day}")
    return True


def _alert_after_run(run_id: str, failure: str | None, window: str) -> None:
    """Send the alerts a finished run calls for (alerts.yml); an alert that cannot go out is
    dead-lettered, and a broken alerts.yml is reported without failing the run."""
    from dagster_project.lib import alerts

    home = ReconHome.from_env()
    try:
        if failure is None:
            report = alerts.send_new_alerts(home)
        else:
            report = alerts.send_run_failed(home, alerts.run_failed_alert(run_id, "reconcile_job", failure, window))
    except alerts.AlertConfigError as error:
        progress("alerts", f"not sent: {error}")
        return
    if report.delivered or report.dead_lettered:
        progress("alerts", f"{len(report.delivered)} delivered, {len(report.dead_lettered)} dead-lettered")


def _print(rows: list[dict], fmt: str) -> None:
    print(render(rows, fmt))


def cmd_demo(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.demo_data import generate_demo_data
    from dagster_project.lib.evaluation import evaluate
    from dagster_project.lib.landing import land_file
    from dagster_project.lib.queries import daily_status
    from dagster_project.lib.warehouse import connect

    marker = home.root / ".demo_home"
    if home.warehouse.exists() and not marker.exists():
        print(
            f"error: {home.root} holds a warehouse that `recon demo` did not create; the demo starts "
            "from scratch, so run it in a home of its own (RECON_HOME=/some/other/dir recon demo)",
            file=sys.stderr,
        )
        return 2
    for stale in (home.demo, home.landing, home.warehouse.parent):
        shutil.rmtree(stale, ignore_errors=True)
    home.activate()
    marker.write_text("created by `recon demo`; the demo may wipe this home's data\n")
    progress("demo", f"generating {args.days} days x {args.orders_per_day} orders per profile (seed {args.seed})")
    dataset = generate_demo_data(home.demo, days=args.days, orders_per_day=args.orders_per_day, seed=args.seed)
    for source_name, profile, path in dataset.files:
        land_file(home.landing, path, source_name, profile)
    progress("demo", f"landed {len(dataset.files)} files under {home.landing}")
    if not run_reconciliation(dataset.first_day, dataset.last_day):
        return 1
    assert dataset.ground_truth is not None
    with connect(home.warehouse, read_only=True) as connection:
        status = daily_status(connection, business_date=None, profile=None)
        result = evaluate(connection, dataset.ground_truth)
        quarantined = connection.sql("select count(*) from raw.quarantine").fetchall()[0][0]
        copies = dict(
            connection.sql(
                """
                select copy_status, count(*) from intermediate.int_entries_unioned
                where copy_status <> 'live' group by all
                """
            ).fetchall()
        )
        ledger = connection.sql(
            """
            select
                (select count(distinct transaction_id) from marts.fct_ledger_entries),
                (select count(*) from marts.fct_ledger_entry_versions),
                (select count(*) from intermediate.int_matches_assigned where is_cross_currency),
                (select count(*) from marts.mart_trial_balance),
                (select count(*) from marts.mart_trial_balance where difference_minor <> 0)
            """
        ).fetchall()[0]
    summary = {}
    for row in status:
        if row["side"] != "source":
            continue
        key = row["profile_id"]
        totals = summary.setdefault(key, {"profile_id": key, "entries": 0, "matched": 0, "open": 0, "exceptions": 0})
        for column in ("entries", "matched", "open", "exceptions"):
            totals[column] += row[column]
    for totals in summary.values():
        totals["match_rate"] = f"{totals['matched'] / totals['entries']:.1%}" if totals["entries"] else "-"
    print(
        f"\nReconciliation of {dataset.orders} orders, {dataset.balance_transactions} Stripe balance "
        f"transactions and {dataset.paypal_rows} PayPal activity rows, {dataset.first_day} .. {dataset.last_day}\n"
    )
    print(render(list(summary.values()), "table"))
    print(
        f"\nQuarantined rows: {quarantined}; copies of records deduplicated: "
        f"{copies.get('deduplicated', 0)}, superseded: {copies.get('superseded', 0)}\n"
    )
    transactions, versions, cross_currency, trial_rows, unbalanced = ledger
    print(
        f"Ledger: {transactions} transactions in {versions} entry versions ({cross_currency} matches across "
        f"currencies, their FX differences posted); trial balance per profile, day, currency and status: "
        f"{trial_rows - unbalanced} of {trial_rows} balanced\n"
    )
    print("Exceptions by category (injected / reported / agreeing):")
    print(
        render(
            [
                {"category": c, "injected": i, "reported": r, "agreeing": a}
                for c, (i, r, a) in result.exceptions_by_category.items()
            ],
            "table",
        )
    )
    print(
        f"\nAgainst the ground truth: {result.correct}/{result.records} records right "
        f"({result.accuracy:.2%}); matches: precision {result.precision:.2%}, "
        f"recall {result.recall:.2%} ({result.correct_matches} of {result.true_matches} true matches)"
    )
    for mistake in result.mistakes[:10]:
        print(f"  wrong: {mistake}")
    return 0 if not result.wrong else 2


def cmd_ingest(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.landing import land_file
    from dagster_project.lib.sources import known_profiles

    profile = args.profile
    if profile is None:
        profiles = known_profiles()
        if len(profiles) != 1:
            print(f"error: several profiles exist ({', '.join(profiles)}); pass --profile", file=sys.stderr)
            return 2
        profile = profiles[0]
    for path in args.paths:
        landed = land_file(home.landing, path, args.source, profile)
        progress("ingest", f"landed {path} as {landed}")
    progress("ingest", "run `recon run --date D` to ingest and reconcile")
    return 0


def cmd_pull_sftp(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.sftp import SftpPullError, pull

    try:
        results = pull(home, args.remote)
    except SftpPullError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if any(result.landed for result in results):
        progress("sftp", "run `recon run --date D` to ingest and reconcile (or let the landing sensor do it)")
    return 0


def cmd_serve_webhooks(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.webhooks import serve

    serve(home, host=args.host, port=args.port)
    return 0


def cmd_dev(args: argparse.Namespace, home: ReconHome) -> int:
    """Replace this process with `dagster dev` on this home: the nightly schedule and the sensors
    start on (their default status), the manifest is parsed first."""
    from dagster_project.resources import prepare_manifest

    prepare_manifest(home)
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "dev", "-m", "dagster_project.definitions", "-h", args.host, "-p", str(args.port)]
    progress(
        "dev",
        f"Dagster UI on http://{args.host}:{args.port} for {home.root} "
        "(nightly schedule, landing and alert sensors on); Ctrl-C stops it",
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(dagster, command, dict(os.environ))
    return 0  # not reached


def cmd_run(args: argparse.Namespace, home: ReconHome) -> int:
    # the partitions are read from the home before they are imported: a run over dates before
    # their start moves the start back (unless RECON_START_DATE fixes it)
    from dagster_project.lib.home import ReconHome
    from dagster_project.partitions import yesterday

    if args.date and (args.start or args.end):
        print("error: give either --date or --start/--end", file=sys.stderr)
        return 2
    if args.end and not args.start:
        print("error: --end needs --start (or use --date for one day)", file=sys.stderr)
        return 2
    first = args.date or args.start or yesterday()
    last = args.date or args.end or first
    if last < first:
        print(f"error: --end {last} is before --start {first}", file=sys.stderr)
        return 2
    fixed_start = os.environ.get("RECON_START_DATE")
    earliest = date.fromisoformat(fixed_start) if fixed_start else None
    latest = yesterday()
    if (earliest and first < earliest) or last > latest:
        print(
            f"error: business dates can be reconciled from {earliest} (RECON_START_DATE) to "
            f"{latest} (yesterday; a day is reconciled once it is over), not {first} .. {last}"
            if earliest and first < earliest
            else f"error: business dates can be reconciled up to {latest} (yesterday; a day is "
            f"reconciled once it is over), not {first} .. {last}",
            file=sys.stderr,
        )
        return 2
    if not fixed_start:
        ReconHome.from_env().record_first_business_date(first)
    return 0 if run_reconciliation(first, last) else 1


def _listing(
    args: argparse.Namespace, home: ReconHome, query, needs: tuple[str, str] = ("marts", "fct_exceptions")
) -> int:
    from dagster_project.lib.warehouse import connect, table_exists

    if not home.warehouse.exists():
        print(f"error: no warehouse at {home.warehouse}; run `recon run` or `recon demo` first", file=sys.stderr)
        return 1
    with connect(home.warehouse, read_only=True) as connection:
        if not table_exists(connection, *needs):
            print("error: the warehouse has not been reconciled yet; run `recon run`", file=sys.stderr)
            return 1
        _print(query(connection), args.format)
    return 0


def cmd_status(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.queries import daily_status

    return _listing(args, home, lambda c: daily_status(c, business_date=args.date, profile=args.profile))


def cmd_matches(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.queries import matches

    return _listing(args, home, lambda c: matches(c, business_date=args.date, profile=args.profile))


def cmd_exceptions(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.queries import exceptions

    return _listing(
        args,
        home,
        lambda c: exceptions(
            c, status=args.status, business_date=args.date, profile=args.profile, category=args.category
        ),
    )


def cmd_resolve(args: argparse.Namespace, home: ReconHome) -> int:
    import getpass

    from dagster_project.lib.resolutions import ResolutionRequest, resolve, resolve_file
    from dagster_project.lib.warehouse import connect, table_exists

    if bool(args.file) == bool(args.exception_id):
        print("error: give an EXCEPTION_ID with --action and --reason, or --file actions.csv", file=sys.stderr)
        return 2
    if args.exception_id and not (args.action and args.reason):
        print("error: resolving an exception needs --action and --reason", file=sys.stderr)
        return 2
    if not home.warehouse.exists():
        print(f"error: no warehouse at {home.warehouse}; run `recon run` first", file=sys.stderr)
        return 1
    by = args.by or getpass.getuser()
    with connect(home.warehouse) as connection:
        if not table_exists(connection, "marts", "fct_exceptions"):
            print("error: the warehouse has not been reconciled yet; run `recon run`", file=sys.stderr)
            return 1
        if args.file:
            written = resolve_file(connection, Path(args.file), by)
        else:
            request = ResolutionRequest(
                exception_id=args.exception_id,
                action=args.action,
                reason=args.reason,
                by=by,
                counterpart=args.counterpart,
                amount=args.amount,
                assignee=args.assignee,
            )
            written = resolve(connection, [request])
    _print(written, args.format)
    progress("resolve", f"recorded {len(written)} resolution(s); `recon run` re-evaluates what they touch")
    return 0


def cmd_resolutions(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.resolutions import resolution_log

    return _listing(args, home, lambda c: resolution_log(c, args.exception), needs=("raw", "resolutions"))


def cmd_chains(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.queries import chains

    return _listing(args, home, lambda c: chains(c, business_date=args.date, profile=args.profile, status=args.status))


def cmd_quarantine(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.queries import quarantine

    return _listing(args, home, lambda c: quarantine(c, profile=args.profile), needs=("raw", "quarantine"))


def cmd_files(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.queries import files

    return _listing(args, home, lambda c: files(c, profile=args.profile), needs=("marts", "mart_file_conservation"))


def cmd_statements(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.queries import statements

    return _listing(
        args,
        home,
        lambda c: statements(c, profile=args.profile, status=args.status),
        needs=("raw", "bank_statements"),
    )


def cmd_sources(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.sources import SOURCES

    _print(
        [
            {
                "source": source.name,
                "format": source.format,
                "default_account": source.default_account,
                "raw_table": f"raw.{source.raw_table}",
                "fields": len(source.fields),
                "description": source.description,
            }
            for source in sorted(SOURCES.values(), key=lambda s: s.name)
        ],
        args.format,
    )
    return 0


def cmd_accounts(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.ledger import accounts

    return _listing(args, home, lambda c: accounts(c, args.profile), needs=("marts", "dim_accounts"))


def cmd_balance(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.ledger import STATUSES, balance, parse_moment

    as_of = parse_moment(args.as_of)
    known_at = parse_moment(args.known_at) if args.known_at else None
    statuses = STATUSES if args.status == "all" else (args.status.upper(),)
    return _listing(
        args,
        home,
        lambda c: balance(c, args.account, as_of, known_at, statuses),
        needs=("marts", "fct_balance_day_totals"),
    )


def cmd_trial_balance(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.ledger import trial_balance

    return _listing(
        args,
        home,
        lambda c: trial_balance(c, args.date, args.profile, args.status),
        needs=("marts", "mart_daily_balances"),
    )


def cmd_ledger_history(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.ledger import transaction_history

    return _listing(
        args, home, lambda c: transaction_history(c, args.transaction_id), needs=("marts", "fct_ledger_entry_versions")
    )


def cmd_report(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.reports import REPORT_FORMATS, write_reports
    from dagster_project.lib.warehouse import connect, table_exists

    if not home.warehouse.exists():
        print(f"error: no warehouse at {home.warehouse}; run `recon run` or `recon demo` first", file=sys.stderr)
        return 1
    formats = REPORT_FORMATS if "all" in args.formats else tuple(dict.fromkeys(args.formats))
    directory = args.out or home.reports / args.date.isoformat()
    with connect(home.warehouse, read_only=True) as connection:
        if not table_exists(connection, "marts", "mart_daily_reconciliation"):
            print("error: the warehouse has not been reconciled yet; run `recon run`", file=sys.stderr)
            return 1
        written = write_reports(
            connection,
            args.date,
            directory,
            formats,
            [args.profile] if args.profile else None,
            home.demo / "ground_truth.csv",
        )
    if not written:
        print(f"error: nothing was reconciled on {args.date}; see `recon status`", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def cmd_dashboard(args: argparse.Namespace, home: ReconHome) -> int:
    """Refresh the dashboard's snapshot (unless a run holds the warehouse) and serve the
    Streamlit app on loopback until interrupted."""
    import subprocess

    from dagster_project.lib.home import CHECKOUT_ROOT
    from dagster_project.lib.snapshot import (
        SnapshotError,
        WarehouseBusy,
        current_snapshot,
        snapshot_path,
        take_snapshot,
    )

    snapshot = snapshot_path(home.warehouse)
    try:
        current = current_snapshot(home.warehouse)
        if current is not None:
            progress("dashboard", f"the snapshot {current.path} is current")
        else:
            info = take_snapshot(home.warehouse)
            progress("dashboard", f"snapshot of {info.tables} tables written to {info.path}")
    except WarehouseBusy as error:
        if not snapshot.exists():
            print(f"error: {error}; no earlier snapshot to show, try again when the run is done", file=sys.stderr)
            return 1
        progress("dashboard", f"showing the previous snapshot: {error}")
    except SnapshotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(CHECKOUT_ROOT / "dashboard" / "app.py"),
        "--server.address",
        args.host,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]
    progress("dashboard", f"serving http://{args.host}:{args.port} (Ctrl-C stops it)")
    process = subprocess.Popen(command, env={**os.environ, **home.environment()})
    try:
        return process.wait()
    except KeyboardInterrupt:  # Ctrl-C reached the server too; let it finish
        process.terminate()
        process.wait(timeout=30)
        return 0


def cmd_rules_check(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.rules import check_rules, summarize
    from dagster_project.resources import DBT_EXECUTABLE

    result = check_rules(DBT_EXECUTABLE)
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    _print([summarize(rule) for rule in result.rules], args.format)
    progress("rules", f"{len(result.rules)} rule(s) compile")
    return 0


def cmd_rules_diff(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib.rules import RulesDiffError, diff_rules, render_diff
    from dagster_project.resources import DBT_EXECUTABLE

    try:
        diff = diff_rules(home, args.base, DBT_EXECUTABLE)
    except RulesDiffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render_diff(diff, args.format))
    summary = diff.summary
    progress(
        "rules",
        f"{summary['matches_gained']} match(es) gained, {summary['matches_lost']} lost, "
        f"{summary['matches_reattributed']} re-attributed; {summary['exceptions_appearing']} exception(s) "
        f"appearing, {summary['exceptions_disappearing']} disappearing",
    )
    return 0


def cmd_alerts(args: argparse.Namespace, home: ReconHome) -> int:
    from dagster_project.lib import alerts

    if args.alerts_command == "list":
        _print(alerts.dead_letter_rows(home), args.format)
        return 0
    settings = alerts.load_settings(home)
    if not settings.endpoints:
        print(f"error: no alert endpoints; configure them in {home.root / alerts.CONFIG_FILE}", file=sys.stderr)
        return 2
    if args.alerts_command == "retry":
        delivered, remaining = alerts.retry_dead_letters(home, settings)
        progress("alerts", f"{delivered} dead letters delivered, {len(remaining)} remain")
        return 0 if not remaining else 1
    if not home.warehouse.exists():
        print(f"error: no warehouse at {home.warehouse}; run `recon run` or `recon demo` first", file=sys.stderr)
        return 1
    report = alerts.send_new_alerts(home, settings)
    progress("alerts", f"{len(report.delivered)} delivered, {len(report.dead_lettered)} dead-lettered")
    return 0 if not report.dead_lettered else 1


def build_parser() -> argparse.ArgumentParser:
    from dagster_project.lib.sources import SOURCES

    parser = argparse.ArgumentParser(prog="recon", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def listing(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--format", choices=FORMATS, default="table")
        sub.add_argument("--profile", help="only this profile")
        return sub

    demo = commands.add_parser("demo", help="generate demo data, reconcile it, compare with ground truth")
    demo.add_argument("--days", type=int, default=7)
    demo.add_argument("--orders-per-day", type=int, default=150)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=cmd_demo)

    ingest = commands.add_parser("ingest", help="land files for ingestion (manual upload)")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--source", required=True, choices=sorted(SOURCES))
    ingest.add_argument("--profile")
    ingest.set_defaults(handler=cmd_ingest)

    pull_sftp = commands.add_parser("pull-sftp", help="fetch new files from the SFTP remotes of sftp.yml and land them")
    pull_sftp.add_argument("--remote", metavar="NAME", help="only this remote (default: all)")
    pull_sftp.set_defaults(handler=cmd_pull_sftp)

    webhooks = commands.add_parser(
        "serve-webhooks", help="receive signed Stripe and Shopify webhooks and land them as micro-batches"
    )
    webhooks.add_argument("--port", type=int, required=True)
    webhooks.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    webhooks.set_defaults(handler=cmd_serve_webhooks)

    dev = commands.add_parser("dev", help="start the Dagster UI (dagster dev) on this home, schedule and sensors on")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    dev.set_defaults(handler=cmd_dev)

    run = commands.add_parser("run", help="ingest landed files and reconcile business dates")
    run.add_argument("--date", type=_date, help="one business date (default: yesterday)")
    run.add_argument("--start", type=_date, help="first business date of a range")
    run.add_argument("--end", type=_date, help="last business date of a range (inclusive)")
    run.set_defaults(handler=cmd_run)

    status = listing("status", "the daily reconciliation summary")
    status.add_argument("--date", type=_date)
    status.set_defaults(handler=cmd_status)

    matched = listing("matches", "what matched, by which rule and identifier")
    matched.add_argument("--date", type=_date)
    matched.set_defaults(handler=cmd_matches)

    exceptions = listing("exceptions", "what did not match, with category, expected and actual")
    exceptions.add_argument("--status", choices=["open", "assigned", "resolved"], help="only exceptions in this state")
    exceptions.add_argument("--date", type=_date)
    exceptions.add_argument("--category")
    exceptions.set_defaults(handler=cmd_exceptions)

    from dagster_project.lib.resolutions import ACTIONS

    resolve = commands.add_parser(
        "resolve", help="record an action on an exception (append-only; the next run applies it)"
    )
    resolve.add_argument("exception_id", nargs="?", metavar="EXCEPTION_ID")
    resolve.add_argument("--action", choices=ACTIONS)
    resolve.add_argument("--reason", help="why, for the audit trail")
    resolve.add_argument("--by", help="who (default: the current user)")
    resolve.add_argument("--assignee", help="assign: to whom (default: --by)")
    resolve.add_argument("--counterpart", help="link: the entry id to match the exception's entry with")
    resolve.add_argument("--amount", help="write_off: part of the difference; correct_entry: the corrected amount")
    resolve.add_argument(
        "--file", help="a CSV of actions (exception_id, action, reason, by, counterpart, amount): all or nothing"
    )
    resolve.add_argument("--format", choices=FORMATS, default="table")
    resolve.set_defaults(handler=cmd_resolve)
    resolutions = listing("resolutions", "the resolutions log: who did what to which exception, when and why")
    resolutions.add_argument("--exception", help="only this exception's resolutions")
    resolutions.set_defaults(handler=cmd_resolutions)

    chained = listing("chains", "how far each order got along its chain (charge, payout, bank) and where it stopped")
    chained.add_argument("--date", type=_date)
    chained.add_argument("--status", choices=["complete", "waiting", "stopped"])
    chained.set_defaults(handler=cmd_chains)

    quarantined = listing("quarantine", "rows rejected at the door, with file, row, field and reason")
    quarantined.set_defaults(handler=cmd_quarantine)

    landed = listing("files", "every ingested file: rows read, loaded, quarantined and staged, and whether they add up")
    landed.set_defaults(handler=cmd_files)

    checked = listing(
        "statements", "every bank statement ingested: its claim (balances, totals) checked against its loaded lines"
    )
    checked.add_argument("--status", choices=["balanced", "out_of_balance", "not_checked"])
    checked.set_defaults(handler=cmd_statements)

    known = commands.add_parser("sources", help="every source the product knows: format and default account")
    known.add_argument("--format", choices=FORMATS, default="table")
    known.set_defaults(handler=cmd_sources)

    chart = listing("accounts", "the chart of accounts of every profile")
    chart.set_defaults(handler=cmd_accounts)

    balanced = commands.add_parser(
        "balance",
        help="an account's balance per status at a point in time, as known now or at another time",
        description="A date means the end of that business day in the account's profile time zone; "
        "a timestamp without an offset is UTC. Balances are on the account's normal side.",
    )
    balanced.add_argument("account", metavar="ACCOUNT", help="<profile>:<name>:<currency>, see `recon accounts`")
    balanced.add_argument("--as-of", required=True, metavar="TS", help="effective time: when the money moved")
    balanced.add_argument("--known-at", metavar="TS", help="recorded time: the books as they were then (default: now)")
    balanced.add_argument("--status", choices=["posted", "pending", "expected", "all"], default="all")
    balanced.add_argument("--format", choices=FORMATS, default="table")
    balanced.set_defaults(handler=cmd_balance)

    trial = listing("trial-balance", "every account's closing balance on a business day; debits equal credits")
    trial.add_argument("--date", type=_date, required=True)
    trial.add_argument("--status", choices=["posted", "pending", "expected"], default="posted")
    trial.set_defaults(handler=cmd_trial_balance)

    ledger = commands.add_parser("ledger", help="the append-only ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    history = ledger_commands.add_parser("history", help="every version of a transaction, with its entries")
    history.add_argument("transaction_id", metavar="TRANSACTION_ID")
    history.add_argument("--format", choices=FORMATS, default="table")
    history.set_defaults(handler=cmd_ledger_history)

    alerting = commands.add_parser("alerts", help="outbound alert webhooks (alerts.yml) and their dead letters")
    alert_commands = alerting.add_subparsers(dest="alerts_command", required=True)
    alert_commands.add_parser("send", help="evaluate the marts now and send the alerts not sent before").set_defaults(
        handler=cmd_alerts
    )
    alert_commands.add_parser("retry", help="re-send the dead letters; those delivered leave the store").set_defaults(
        handler=cmd_alerts
    )
    dead = alert_commands.add_parser("list", help="the dead letters: alerts whose every attempt failed")
    dead.add_argument("--format", choices=FORMATS, default="table")
    dead.set_defaults(handler=cmd_alerts)

    report = commands.add_parser(
        "report", help="the daily reconciliation report of a business date as CSV, JSON, XLSX or PDF, per profile"
    )
    report.add_argument("--date", type=_date, required=True, help="the business date")
    report.add_argument("--profile", help="only this profile (default: every profile reconciled that day)")
    report.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=["csv", "json", "xlsx", "pdf", "all"],
        required=True,
        help="repeat for several formats, or `all`",
    )
    report.add_argument("--out", type=Path, metavar="DIR", help="where to write (default: $RECON_HOME/reports/<date>/)")
    report.set_defaults(handler=cmd_report)

    dashboard = commands.add_parser(
        "dashboard", help="serve the finance dashboard (Streamlit) over a read-only snapshot of the warehouse"
    )
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    dashboard.set_defaults(handler=cmd_dashboard)

    rules = commands.add_parser("rules", help="the matching rules")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = rule_commands.add_parser("check", help="compile every rule; list them or name the first error")
    check.add_argument("--format", choices=FORMATS, default="table")
    check.set_defaults(handler=cmd_rules_check)
    diff = rule_commands.add_parser(
        "diff",
        help="run the rules at a git revision and in the working tree on this home's data; report what changes",
    )
    diff.add_argument("--base", required=True, metavar="GIT_REV", help="the revision to compare with (e.g. HEAD)")
    diff.add_argument("--format", choices=FORMATS, default="table")
    diff.set_defaults(handler=cmd_rules_diff)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from dagster_project.lib.source_configs import SourceConfigError

    try:  # the sources are read from their configs here, and a broken one stops every command
        args = build_parser().parse_args(argv)
        home = ReconHome.from_env().activate()
    except SourceConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    import duckdb

    try:
        return args.handler(args, home)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except duckdb.IOException as error:
        print(
            f"error: cannot open the warehouse {home.warehouse}: {error}. Another process (a run or "
            "`dagster dev`) may be writing it; try again when it is done.",
            file=sys.stderr,
        )
        return 1
    except RuntimeError as error:  # e.g. the dbt project does not parse (a rule with an error)
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
