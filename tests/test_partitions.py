from datetime import date, datetime

import pytest

from dagster_project.partitions import range_tags, window_vars, yesterday


def test_window_vars_are_half_open_dates() -> None:
    assert window_vars(datetime(2026, 11, 1), datetime(2026, 11, 4)) == {
        "min_date": "2026-11-01",
        "max_date": "2026-11-04",
    }


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="empty window"):
        window_vars(date(2026, 11, 2), date(2026, 11, 2))


def test_range_tags_cover_inclusive_range() -> None:
    assert range_tags(date(2026, 11, 1), date(2026, 11, 3)) == {
        "dagster/asset_partition_range_start": "2026-11-01",
        "dagster/asset_partition_range_end": "2026-11-03",
    }
    with pytest.raises(ValueError, match="ends"):
        range_tags(date(2026, 11, 3), date(2026, 11, 1))


def test_yesterday() -> None:
    assert yesterday(date(2026, 3, 1)) == date(2026, 2, 28)
