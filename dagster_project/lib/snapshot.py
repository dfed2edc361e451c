"""A read-only snapshot of the warehouse for readers that must never hold it: the dashboard.

DuckDB lets one process write a database file, and a reader holding it open would keep a run
from starting. So the finance-facing tables (the marts, the configuration seeds, the
resolutions log and what was rejected at the door) are copied into a file of their own,
``$RECON_HOME/warehouse/snapshot/recon.duckdb``, at the end of every successful run and when
the dashboard starts. The copy is written beside it and renamed over it, so a reader sees the
previous snapshot or the next one, never half of one; the warehouse is held (read-only) only
while the tables are copied.

The snapshot carries ``snapshot.info``: when the warehouse was last written (the run the data
is from) and when the snapshot was taken. A snapshot of the warehouse as it is now is not taken
again (a command-line run and the Dagster sensor that follows it, or a dashboard started after
a run, share one).
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project.lib.durable import fsync_directory

# what the snapshot holds: every table of these schemas ...
SNAPSHOT_SCHEMAS = ("marts", "config")
# ... and these single tables
SNAPSHOT_TABLES = (("raw", "resolutions"), ("raw", "quarantine"), ("raw", "rejected_files"))
# ... but not the large marts the dashboard never reads (`recon ledger` and `recon matches` read
# the warehouse): at 1e6 they are 5.8 of the marts' 25.7 million rows
NOT_IN_SNAPSHOT = (("marts", "fct_ledger_entries"), ("marts", "fct_matches"))
# the warehouse's catalog name in dbt's profile (its file is recon.duckdb)
SOURCE = "recon"


class SnapshotError(RuntimeError):
    """No snapshot could be taken or read; the message says why and what to do."""


class WarehouseBusy(SnapshotError):
    """Another process (a run) holds the warehouse for writing."""


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    warehouse_written_at: datetime  # UTC, naive: when the run the data comes from wrote it
    taken_at: datetime  # UTC, naive
    tables: int


def snapshot_path(warehouse: Path) -> Path:
    """Where the snapshot of ``warehouse`` lives: ``snapshot/`` beside it."""
    return warehouse.parent / "snapshot" / warehouse.name


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def warehouse_written_at(warehouse: Path) -> datetime:
    """When the warehouse was last written: its file or, when a run left one, its write-ahead log."""
    log = warehouse.with_name(warehouse.name + ".wal")
    return _utc(max(path.stat().st_mtime for path in (warehouse, log) if path.exists()))


def current_snapshot(warehouse: Path, target: Path | None = None) -> SnapshotInfo | None:
    """The snapshot at ``target`` (default: snapshot_path) if it was taken of the warehouse as
    it is now, else None."""
    target = target or snapshot_path(warehouse)
    if not (warehouse.exists() and target.exists()):
        return None
    try:
        with duckdb.connect(str(target), read_only=True) as connection:
            info = read_info(connection, target)
    except duckdb.Error:
        return None
    return info if info.warehouse_written_at == warehouse_written_at(warehouse) else None


def take_snapshot(warehouse: Path, target: Path | None = None) -> SnapshotInfo:
    """Copy the snapshot tables of ``warehouse`` into ``target`` (default: snapshot_path),
    atomically. Raises WarehouseBusy when a run holds the warehouse, SnapshotError when there
    is nothing to copy yet."""
    target = target or snapshot_path(warehouse)
    if not warehouse.exists():
        raise SnapshotError(f"no warehouse at {warehouse}; run `recon run` or `recon demo` first")
    target.parent.mkdir(parents=True, exist_ok=True)
    # one name per process: a run's end and `recon dashboard` may take a snapshot at once
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    # no progress bar on the terminal of the run that takes the snapshot
    connection = duckdb.connect(":memory:")
    connection.execute("set enable_progress_bar = false")
    try:
        try:
            # under its own name, so that views naming their catalog resolve
            connection.execute(f"attach '{_quoted(warehouse)}' as {SOURCE} (read_only)")
        except duckdb.IOException as error:
            raise WarehouseBusy(f"the warehouse {warehouse} is held by another process (a run?): {error}") from None
        written_at = warehouse_written_at(warehouse)
        tables = _snapshot_tables(connection)
        if not any(schema == "marts" for schema, _ in tables):
            raise SnapshotError(f"the warehouse {warehouse} has not been reconciled yet; run `recon run`")
        connection.execute(f"attach '{_quoted(partial)}' as snapshot")
        for schema in sorted({schema for schema, _ in tables} | {"snapshot"}):
            connection.execute(f'create schema snapshot."{schema}"')
        for schema, table in tables:
            connection.execute(
                f'create table snapshot."{schema}"."{table}" as select * from {SOURCE}."{schema}"."{table}"'
            )
        connection.execute(f"detach {SOURCE}")
        taken_at = datetime.now(UTC).replace(tzinfo=None)
        connection.execute(
            "create table snapshot.snapshot.info as "
            "select cast(? as timestamp) as warehouse_written_at, cast(? as timestamp) as taken_at, ? as tables",
            [written_at, taken_at, len(tables)],
        )
        connection.execute("checkpoint snapshot")
        connection.execute("detach snapshot")
    except BaseException:
        connection.close()
        partial.unlink(missing_ok=True)
        raise
    connection.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    fsync_directory(target.parent)
    return SnapshotInfo(target, written_at, taken_at, len(tables))


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _snapshot_tables(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    found = connection.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = ?
        order by table_schema, table_name
        """,
        [SOURCE],
    ).fetchall()
    wanted, unwanted = set(SNAPSHOT_TABLES), set(NOT_IN_SNAPSHOT)
    return [
        (schema, table)
        for schema, table in found
        if (schema in SNAPSHOT_SCHEMAS or (schema, table) in wanted) and (schema, table) not in unwanted
    ]


def read_info(connection: duckdb.DuckDBPyConnection, path: Path) -> SnapshotInfo:
    """The info of the snapshot open on ``connection``."""
    written_at, taken_at, tables = connection.execute(
        "select warehouse_written_at, taken_at, tables from snapshot.info"
    ).fetchall()[0]
    return SnapshotInfo(path, written_at, taken_at, tables)


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the snapshot at ``path``; SnapshotError when there is none."""
    if not path.exists():
        raise SnapshotError(
            f"no snapshot at {path}; it is written by every successful `recon run` (and `recon demo`) "
            "and by `recon dashboard` when no run holds the warehouse"
        )
    return duckdb.connect(str(path), read_only=True)


def refresh_after_run(warehouse: Path) -> str:
    """Take the snapshot at the end of a successful run, unless it was already taken of the
    warehouse as it is; a failure is reported, never raised (the run itself succeeded). Returns
    the line to print."""
    current = current_snapshot(warehouse)
    if current is not None:
        return f"the dashboard snapshot {current.path} is current (taken {current.taken_at:%Y-%m-%d %H:%M:%S} UTC)"
    try:
        info = take_snapshot(warehouse)
    except (SnapshotError, duckdb.Error, OSError) as error:
        return f"the dashboard keeps its previous snapshot: {error}"
    return f"dashboard snapshot of {info.tables} tables written to {info.path}"
