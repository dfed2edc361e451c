"""Shared fixtures: a private RECON_HOME per test, and one demo warehouse per session."""

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from dagster_project.lib.home import DBT_PROJECT_DIR, ReconHome

RECON = str(Path(sys.executable).parent / "recon")
DBT = str(Path(sys.executable).parent / "dbt")
DEMO_DAYS = 5
DEMO_ORDERS_PER_DAY = 30


def recon(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the `recon` command line against ``home`` as a user would (on small test data dbt
    overlaps two models at a time)."""
    env = {"RECON_DBT_THREADS": "2", **os.environ, "RECON_HOME": str(home)}
    for key in ("DAGSTER_HOME", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
        env.pop(key, None)
    completed = subprocess.run([RECON, *args], env=env, capture_output=True, text=True, timeout=900)
    if check and completed.returncode != 0:
        raise AssertionError(
            f"recon {' '.join(args)} exited {completed.returncode}\n"
            f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
        )
    return completed


def dbt(home: ReconHome, *args: str) -> subprocess.CompletedProcess[str]:
    """Run dbt on the project against ``home``'s warehouse, as the product runs it."""
    return subprocess.run(
        [DBT, *args, "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **home.environment()},
        capture_output=True,
        text=True,
        timeout=600,
    )


@contextmanager
def serving(app: Any, *, lifespan: str = "on", log_level: str = "warning") -> Iterator[str]:
    """A real HTTP server on loopback for ``app`` (ASGI): uvicorn in a thread on a socket bound
    beforehand, so requests queue until it serves them. Yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
    assert not thread.is_alive()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReconHome]:
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    for key in ("DAGSTER_HOME", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
        monkeypatch.delenv(key, raising=False)
    saved = dict(os.environ)
    yield ReconHome.from_env().activate()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home where `recon demo` has generated, ingested and reconciled the demo data."""
    root = tmp_path_factory.mktemp("demo") / "home"
    completed = recon(root, "demo", "--days", str(DEMO_DAYS), "--orders-per-day", str(DEMO_ORDERS_PER_DAY))
    assert "precision 100.00%, recall 100.00%" in completed.stdout, completed.stdout
    return root
