"""Daily partitions by business date, and the dbt vars a partition window becomes."""

import os
from datetime import UTC, date, datetime, timedelta

import dagster as dg

START_DATE = os.environ.get("RECON_START_DATE", "2026-01-01")

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE)


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
