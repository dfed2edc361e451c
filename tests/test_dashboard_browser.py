"""The finance dashboard in a real browser: `recon dashboard` serves the demo warehouse on loopback,
headless Chromium (Debian's, which `make test` installs) loads it, reads a figure, changes the
profile filter and sees the figures follow; a screenshot is kept in the test's output folder."""

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import RECON
from tests.test_dashboard import expected_at_stake, expected_match_rate, expected_open_exceptions

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STARTUP_SECONDS = 120
# Playwright's `expect` keeps its own deadline (5 s by default), apart from the page's: a dashboard
# rerendering under a loaded machine takes longer than that, so each expectation waits up to this
EXPECT_TIMEOUT_MS = 120_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard(home: Path, log: Path) -> Iterator[str]:
    """`recon dashboard` for ``home`` on a free loopback port, until the block ends. Yields its URL."""
    port = free_port()
    env = {**os.environ, "RECON_HOME": str(home)}
    for key in ("DAGSTER_HOME", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
        env.pop(key, None)
    with open(log, "w") as output:
        # a session of its own: the command and the Streamlit server it starts stop together
        process = subprocess.Popen(
            [RECON, "dashboard", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"recon dashboard exited {process.returncode}:\n{log.read_text()}"
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=5).text == "ok":
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no healthy dashboard after {STARTUP_SECONDS}s:\n{log.read_text()}"
            time.sleep(0.25)  # between polls of a server still starting
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def metric_value(page: Page, label: str):
    label_element = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_element).get_by_test_id("stMetricValue")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_dashboard_in_chromium_follows_the_profile_filter(demo_home: Path, tmp_path: Path) -> None:
    assert CHROMIUM.exists(), (
        "the browser test needs Debian's chromium: `make test` installs it (apt-get install chromium)"
    )
    with dashboard(demo_home, tmp_path / "dashboard.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=EXPECT_TIMEOUT_MS)
            page.goto(url)
            rate = metric_value(page, "Match rate")
            expect(rate).to_have_text(expected_match_rate(demo_home, None))
            expect(metric_value(page, "Open exceptions")).to_have_text(f"{expected_open_exceptions(demo_home, None):,}")
            page.screenshot(path=tmp_path / "dashboard_all_profiles.png")

            page.get_by_role("combobox", name="Profile").click()
            page.get_by_role("option", name=re.compile(r"^globex_us\b")).click()
            expect(rate).to_have_text(expected_match_rate(demo_home, "globex_us"))
            expect(metric_value(page, "Open exceptions")).to_have_text(
                f"{expected_open_exceptions(demo_home, 'globex_us'):,}"
            )
            expect(metric_value(page, "Amount at stake in open exceptions")).to_have_text(
                expected_at_stake(demo_home, "globex_us")
            )
            assert expected_match_rate(demo_home, "globex_us") != expected_match_rate(demo_home, None)
            expect(page.get_by_role("tab", name="Overview")).to_be_visible()
            screenshot = tmp_path / "dashboard_globex_us.png"
            page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    width, height = png_size(screenshot)
    assert width >= 1440 and height >= 1100
    assert screenshot.stat().st_size > 50_000, "the screenshot looks blank"
    print(f"screenshots in {tmp_path}")
