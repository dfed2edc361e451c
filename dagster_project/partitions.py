"""Daily partitions by business date, and the dbt vars a partition window becomes."""

import os
from datetime import UTC, date, datetime, timedelta
from functools import cache

import dagster as dg

from dagster_project.lib.home import ReconHome

DEFAULT_START_DATE = date(2026, 1, 1)


def start_date() -> date:
    """Where the daily partitions start: RECON_START_DATE when set; else the earliest business
    date a run of this home asked for, when earlier than the default (a history reconciled by
    `recon run --start`); else the default."""
    if os.environ.get("RECON_START_DATE"):
        return date.fromisoformat(os.environ["RECON_START_DATE"])
    recorded = ReconHome.from_env().first_business_date()
    return min(recorded, DEFAULT_START_DATE) if recorded else DEFAULT_START_DATE


@cache
def _daily_partitions() -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start_date().isoformat())


def __getattr__(name: str) -> dg.DailyPartitionsDefinition:
    # built when first used, not when this module is imported: `recon run` moves the start back
    # (the home's first business date) after it imported the helpers below, before the assets
    if name == "daily_partitions":
        return _daily_partitions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def window_vars(start: date | datetime, end: date | datetime) -> dict[str, str]:
    """dbt vars for the half-open window of business dates [start, end)."""
    start_day = start.date() if isinstance(start, datetime) else start
    end_day = end.date() if isinstance(end, datetime) else end
    if end_day <= start_day:
        raise ValueError(f"empty window: {start_day} .. {end_day}")
    return {"min_date": start_day.isoformat(), "max_date": end_day.isoformat()}


def range_tags(first_day: date, last_day: date) -> dict[str, str]:
    """Run tags that make one run cover the partitions first_day..last_day (inclusive)."""
    if last_day < first_day:
        raise ValueError(f"the range ends ({last_day}) before it starts ({first_day})")
    return {
        "dagster/asset_partition_range_start": first_day.isoformat(),
        "dagster/asset_partition_range_end": last_day.isoformat(),
    }


def yesterday(today: date | None = None) -> date:
    """The last complete business date (partitions are days in UTC)."""
    return (today or datetime.now(UTC).date()) - timedelta(days=1)
