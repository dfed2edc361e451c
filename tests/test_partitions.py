import os
import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest

from dagster_project.lib.home import ReconHome
from dagster_project.partitions import DEFAULT_START_DATE, range_tags, start_date, window_vars, yesterday
from tests.conftest import RECON


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


def test_a_history_moves_the_partitions_start_back_without_a_setting(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("RECON_START_DATE", raising=False)
    monkeypatch.setenv("RECON_HOME", str(tmp_path))
    home = ReconHome.from_env()
    assert start_date() == DEFAULT_START_DATE
    home.record_first_business_date(date(2015, 12, 29))
    home.record_first_business_date(date(2016, 2, 1))  # never forward
    assert home.first_business_date() == date(2015, 12, 29)
    assert start_date() == date(2015, 12, 29)
    monkeypatch.setenv("RECON_START_DATE", "2014-01-01")
    assert start_date() == date(2014, 1, 1)
    # the partitions are built when the assets first use them, after `recon run` moved the start
    monkeypatch.delenv("RECON_START_DATE")
    built = subprocess.run(
        [sys.executable, "-c", "from dagster_project.partitions import daily_partitions as p; print(p.start.date())"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "RECON_HOME": str(tmp_path)},
    )
    assert built.stdout.strip() == "2015-12-29"


def test_a_day_not_over_yet_is_refused_and_a_fixed_start_kept(tmp_path) -> None:
    env = {**os.environ, "RECON_HOME": str(tmp_path / "home"), "RECON_START_DATE": "2026-01-01"}
    early = subprocess.run([RECON, "run", "--date", "2020-01-01"], capture_output=True, text=True, env=env)
    assert early.returncode == 2 and "from 2026-01-01 (RECON_START_DATE)" in early.stderr
    env.pop("RECON_START_DATE")
    tomorrow = date.today() + timedelta(days=1)
    late = subprocess.run([RECON, "run", "--date", tomorrow.isoformat()], capture_output=True, text=True, env=env)
    assert late.returncode == 2 and "up to" in late.stderr and "a day is reconciled once it is over" in late.stderr
    assert ReconHome(tmp_path / "home").first_business_date() is None
