"""`recon dev`: the Dagster UI on loopback, with the assets, their checks, the schedule and the
sensors a user expects, queried through the webserver's own GraphQL API."""

import os
import signal
import socket
import subprocess
import time

import httpx

from dagster_project.lib.home import ReconHome
from tests.conftest import RECON

QUERY = """{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        schedules { name scheduleState { status } }
        sensors { name sensorState { status } }
        assetNodes {
          assetKey { path }
          groupName
          assetChecksOrError { ... on AssetChecks { checks { name } } }
        }
      }
    }
  }
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_recon_dev_serves_the_assets_checks_schedule_and_sensors(home: ReconHome) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [RECON, "dev", "--port", str(port)],
        env={**os.environ, **home.environment()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the webserver, daemon and code server stop together
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "dagster dev did not start in time"
            time.sleep(1)
        response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=60)
        (repository,) = response.json()["data"]["repositoriesOrError"]["nodes"]
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)

    schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    assert schedules["nightly_reconciliation"] == "RUNNING"
    assert schedules["sftp_pull_schedule"] == "STOPPED"  # no sftp.yml in this home
    assert sensors == {
        "landing_sensor": "RUNNING",
        "alerts_after_reconciliation": "RUNNING",
        "alerts_on_failed_reconciliation": "RUNNING",
        "dashboard_snapshot_after_reconciliation": "RUNNING",
    }

    assets = {"/".join(node["assetKey"]["path"]): node for node in repository["assetNodes"]}
    groups = {node["groupName"] for node in assets.values()}
    assert {"ingest", "staging", "intermediate", "marts", "reports"} <= groups

    def checks(key: str) -> set[str]:
        return {check["name"] for check in assets[key]["assetChecksOrError"]["checks"]}

    # an ingest asset carries its contract, a dbt model its data tests, the report is there
    assert any("contract" in name for name in checks("raw/shopify_orders")), checks("raw/shopify_orders")
    assert any(name.startswith("unique_") for name in checks("fct_matches")), checks("fct_matches")
    assert "reports/daily_reconciliation_report" in assets
    assert server.returncode is not None
