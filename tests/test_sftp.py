"""The scheduled SFTP pull against a real SFTP server on the loopback interface."""

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import dagster as dg
import pytest
import yaml

from dagster_project.lib.home import ReconHome
from dagster_project.lib.sftp import SftpConfigError, SftpPullError, load_remotes, pull
from dagster_project.lib.warehouse import connect

USERNAME = "recon"
PASSWORD = "correct horse battery staple"
ORDERS = "Name,Email\n#1001,a@example.com\n"


@dataclass
class SftpServer:
    port: int
    root: Path
    known_hosts: Path
    client_key: Path


class _PasswordOrKeyServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USERNAME and password == PASSWORD


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpServer]:
    """An asyncssh SFTP server on 127.0.0.1, serving tmp_path/remote, in a thread of its own."""
    root = tmp_path / "remote"
    (root / "outgoing").mkdir(parents=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key_file = tmp_path / "id_ed25519"
    client_key.write_private_key(client_key_file)
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict = {}

    async def start() -> None:
        state["server"] = await asyncssh.create_server(
            _PasswordOrKeyServer,
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            authorized_client_keys=authorized,
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root).encode()),
        )
        started.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30), "the SFTP server did not start"
    port = state["server"].sockets[0].getsockname()[1]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    yield SftpServer(port, root, known_hosts, client_key_file)

    async def stop() -> None:
        state["server"].close()
        await state["server"].wait_closed()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)


def write_config(home: ReconHome, server: SftpServer, **overrides: object) -> None:
    settings = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": USERNAME,
        "password_env": "TEST_SFTP_PASSWORD",
        "known_hosts": str(server.known_hosts),
        "directory": "/outgoing",
        "pattern": "orders_*.csv",
        "source": "shopify_orders",
        "profile": "acme_eu",
        **overrides,
    }
    settings = {key: value for key, value in settings.items() if value is not None}
    (home.root / "sftp.yml").write_text(yaml.safe_dump({"remotes": {"shop_exports": settings}}))


def landed(home: ReconHome) -> list[str]:
    folder = home.landing / "shopify_orders" / "acme_eu"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_each_file_is_fetched_once_and_again_only_when_it_changes(
    home: ReconHome, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SFTP_PASSWORD", PASSWORD)
    write_config(home, sftp_server)
    outgoing = sftp_server.root / "outgoing"
    (outgoing / "orders_2026-11-01.csv").write_text(ORDERS)
    (outgoing / "orders_2026-11-02.csv").write_text(ORDERS.replace("1001", "1002"))
    (outgoing / "README.txt").write_text("not an export\n")

    [first] = pull(home)
    assert (first.listed, first.fetched, len(first.landed)) == (2, 2, 2)
    assert landed(home) == ["orders_2026-11-01.csv", "orders_2026-11-02.csv"]
    assert (home.landing / "shopify_orders" / "acme_eu" / "orders_2026-11-01.csv").read_text() == ORDERS

    [again] = pull(home, "shop_exports")
    assert (again.unchanged, again.fetched, again.landed) == (2, 0, [])

    changed = outgoing / "orders_2026-11-01.csv"
    changed.write_text(ORDERS + "#1003,c@example.com\n")
    os.utime(changed, (1_800_000_000, 1_800_000_000))
    touched = outgoing / "orders_2026-11-02.csv"  # a new time, the same content
    os.utime(touched, (1_800_000_100, 1_800_000_100))
    [third] = pull(home)
    assert (third.unchanged, third.fetched, len(third.landed), third.same_content) == (0, 2, 1, 1)
    names = landed(home)
    assert len(names) == 3 and {"orders_2026-11-01.csv", "orders_2026-11-02.csv"} < set(names)
    [newer] = set(names) - {"orders_2026-11-01.csv", "orders_2026-11-02.csv"}
    assert (home.landing / "shopify_orders" / "acme_eu" / newer).read_text().endswith("#1003,c@example.com\n")

    with connect(home.warehouse, read_only=True) as connection:
        rows = connection.execute(
            "select path, landed_path is not null from raw.sftp_fetched order by path, fetched_at"
        ).fetchall()
    assert rows == [
        ("/outgoing/orders_2026-11-01.csv", True),
        ("/outgoing/orders_2026-11-01.csv", True),
        ("/outgoing/orders_2026-11-02.csv", True),
        ("/outgoing/orders_2026-11-02.csv", False),
    ]


def test_a_private_key_logs_in(home: ReconHome, sftp_server: SftpServer) -> None:
    write_config(home, sftp_server, password_env=None, private_key=str(sftp_server.client_key))
    (sftp_server.root / "outgoing" / "orders_2026-11-01.csv").write_text(ORDERS)
    [result] = pull(home)
    assert len(result.landed) == 1


def test_a_wrong_password_is_a_clear_error(
    home: ReconHome, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "wrong")
    write_config(home, sftp_server)
    with pytest.raises(SftpPullError, match=r"remote shop_exports \(recon@127.0.0.1:\d+\): authentication failed"):
        pull(home)
    assert landed(home) == []


def test_an_unreachable_host_is_a_clear_error(
    home: ReconHome, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SFTP_PASSWORD", PASSWORD)
    write_config(home, sftp_server, port=1)  # nothing listens on port 1
    with pytest.raises(SftpPullError, match=r"remote shop_exports \(recon@127.0.0.1:1\): cannot connect"):
        pull(home)


def test_an_untrusted_host_key_is_refused(
    home: ReconHome, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEST_SFTP_PASSWORD", PASSWORD)
    other = tmp_path / "other_known_hosts"
    stranger = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    other.write_text(f"[127.0.0.1]:{sftp_server.port} {stranger}")
    write_config(home, sftp_server, known_hosts=str(other))
    with pytest.raises(SftpPullError, match="host key not trusted"):
        pull(home)


def test_config_errors_name_the_file_and_key(
    home: ReconHome, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = home.root / "sftp.yml"
    with pytest.raises(SftpConfigError, match=r"sftp\.yml: no such file"):
        load_remotes(home)
    write_config(home, sftp_server)
    with pytest.raises(SftpConfigError, match=r"sftp\.yml: remotes\.shop_exports\.password_env: .*TEST_SFTP_PASSWORD"):
        load_remotes(home)
    monkeypatch.setenv("TEST_SFTP_PASSWORD", PASSWORD)
    write_config(home, sftp_server, source="nonsense")
    with pytest.raises(SftpConfigError, match=rf"{config}: remotes\.shop_exports\.source: unknown source 'nonsense'"):
        load_remotes(home)
    write_config(home, sftp_server, port="twenty-two")
    with pytest.raises(SftpConfigError, match=r"remotes\.shop_exports\.port: expected a positive int"):
        load_remotes(home)
    write_config(home, sftp_server)
    with pytest.raises(SftpConfigError, match=r"remotes\.nowhere: no such remote"):
        pull(home, "nowhere")


def test_the_schedule_runs_only_when_sftp_is_configured(home: ReconHome, sftp_server: SftpServer) -> None:
    from dagster_project.channels import build_sftp_schedule

    assert build_sftp_schedule(home).default_status == dg.DefaultScheduleStatus.STOPPED
    write_config(home, sftp_server)
    schedule = build_sftp_schedule(home)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "*/15 * * * *"


def test_the_dagster_job_pulls(home: ReconHome, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.channels import sftp_pull_job
    from dagster_project.resources import WarehouseResource

    monkeypatch.setenv("TEST_SFTP_PASSWORD", PASSWORD)
    write_config(home, sftp_server)
    (sftp_server.root / "outgoing" / "orders_2026-11-01.csv").write_text(ORDERS)
    result = sftp_pull_job.execute_in_process(resources={"warehouse": WarehouseResource()})
    assert result.success
    assert landed(home) == ["orders_2026-11-01.csv"]


def test_the_command_pulls_and_names_the_remote_when_it_fails(
    home: ReconHome, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import recon

    write_config(home, sftp_server)
    (sftp_server.root / "outgoing" / "orders_2026-11-01.csv").write_text(ORDERS)
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "wrong")
    refused = recon(home.root, "pull-sftp", check=False)
    assert refused.returncode == 1
    assert "error: remote shop_exports (recon@127.0.0.1:" in refused.stderr
    assert "authentication failed" in refused.stderr
    monkeypatch.setenv("TEST_SFTP_PASSWORD", PASSWORD)
    pulled = recon(home.root, "pull-sftp", "--remote", "shop_exports")
    assert "1 fetched, 1 landed" in pulled.stderr
    assert landed(home) == ["orders_2026-11-01.csv"]
