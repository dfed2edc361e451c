"""The scheduled SFTP pull: fetch each new file of a remote directory once and land it.

Remotes are configured in ``$RECON_HOME/sftp.yml``::

    schedule: "*/15 * * * *"        # optional: cron of the Dagster schedule (default every 15 minutes)
    remotes:
      paypal_stl:                   # the remote's name (`recon pull-sftp --remote paypal_stl`)
        host: reports.paypal.com
        port: 22                    # optional, default 22
        username: acme
        password_env: PAYPAL_SFTP_PASSWORD   # or `password:`, or `private_key:` (+ `passphrase_env:`)
        known_hosts: ~/.ssh/known_hosts      # optional, default ~/.ssh/known_hosts; the host key must be in it
        directory: /ppreports/outgoing
        pattern: "*.CSV"            # optional, fnmatch glob on the file name, default "*"
        source: paypal_activity     # the source the files land for
        profile: acme_eu            # and the profile
        timeout_seconds: 30         # optional, for connecting and logging in

Every file fetched is recorded in the warehouse table ``raw.sftp_fetched``, keyed by remote, path,
size and modification time, with its SHA-256. A file already recorded under the same key is not
fetched again; a known path whose size or time changed is fetched again and landed only if its
content is new. A download goes to a temporary name first and lands through `land_file`, so the
landing zone never holds half a file.
"""

import asyncio
import fnmatch
import os
import posixpath
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh
import duckdb
import yaml

from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import file_fingerprint
from dagster_project.lib.landing import land_file
from dagster_project.lib.progress import progress
from dagster_project.lib.sources import SOURCES, known_profiles
from dagster_project.lib.warehouse import connect

CONFIG_FILE = "sftp.yml"
DEFAULT_SCHEDULE = "*/15 * * * *"
_REMOTE_KEYS = {
    "host", "port", "username", "password", "password_env", "private_key", "passphrase_env",
    "known_hosts", "directory", "pattern", "source", "profile", "timeout_seconds",
}  # fmt: skip


class SftpConfigError(ValueError):
    """sftp.yml is missing, unreadable, or a key in it is wrong."""


class SftpPullError(RuntimeError):
    """A remote could not be reached, logged into or listed."""


@dataclass(frozen=True)
class SftpRemote:
    name: str
    host: str
    username: str
    directory: str
    source: str
    profile: str
    port: int = 22
    password: str | None = field(default=None, repr=False)
    private_key: Path | None = None
    passphrase: str | None = field(default=None, repr=False)
    known_hosts: Path = Path("~/.ssh/known_hosts").expanduser()
    pattern: str = "*"
    timeout_seconds: float = 30.0

    @property
    def address(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"


@dataclass
class PullResult:
    remote: str
    listed: int = 0
    unchanged: int = 0
    fetched: int = 0
    landed: list[Path] = field(default_factory=list)
    same_content: int = 0
    changed_while_fetching: int = 0

    def summary(self) -> str:
        return (
            f"{self.remote}: {self.listed} matching file(s), {self.unchanged} already fetched, "
            f"{self.fetched} fetched, {len(self.landed)} landed, {self.same_content} with content "
            f"landed before, {self.changed_while_fetching} changing on the remote (left for the next pull)"
        )


def config_path(home: ReconHome) -> Path:
    return home.root / CONFIG_FILE


def schedule_cron(home: ReconHome) -> str:
    """The cron of the Dagster schedule; lenient, because Dagster reads it while loading."""
    try:
        document = yaml.safe_load(config_path(home).read_text()) or {}
        cron = document.get("schedule", DEFAULT_SCHEDULE) if isinstance(document, dict) else DEFAULT_SCHEDULE
        return cron if isinstance(cron, str) and len(cron.split()) == 5 else DEFAULT_SCHEDULE
    except (OSError, yaml.YAMLError):
        return DEFAULT_SCHEDULE


def load_remotes(home: ReconHome) -> dict[str, SftpRemote]:
    """Every remote of sftp.yml, checked; an error names the file and the key."""
    path = config_path(home)
    if not path.exists():
        raise SftpConfigError(f"{path}: no such file; describe the SFTP remotes there (see README, Channels)")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise SftpConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("remotes"), dict) or not document["remotes"]:
        raise SftpConfigError(f"{path}: remotes: expected a mapping of remote names to their settings")
    return {str(name): _remote(path, str(name), settings) for name, settings in document["remotes"].items()}


def _remote(path: Path, name: str, settings: Any) -> SftpRemote:
    where = f"{path}: remotes.{name}"
    if not isinstance(settings, dict):
        raise SftpConfigError(f"{where}: expected a mapping of settings")
    unknown = sorted(set(map(str, settings)) - _REMOTE_KEYS)
    if unknown:
        raise SftpConfigError(f"{where}.{unknown[0]}: unknown key; known keys: {', '.join(sorted(_REMOTE_KEYS))}")

    def text(key: str, required: bool = True) -> str | None:
        value = settings.get(key)
        if value is None:
            if required:
                raise SftpConfigError(f"{where}.{key}: missing")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
            raise SftpConfigError(f"{where}.{key}: expected a non-empty text, got {value!r}")
        return str(value)

    def from_environment(key: str) -> str | None:
        variable = text(key, required=False)
        if variable is None:
            return None
        if variable not in os.environ:
            raise SftpConfigError(f"{where}.{key}: the environment variable {variable} is not set")
        return os.environ[variable]

    def number(key: str, default: float, kind: type) -> Any:
        value = settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or kind(value) != value:
            raise SftpConfigError(f"{where}.{key}: expected a positive {kind.__name__}, got {value!r}")
        return kind(value)

    source = text("source")
    if source not in SOURCES:
        raise SftpConfigError(f"{where}.source: unknown source {source!r}; known sources: {', '.join(sorted(SOURCES))}")
    profile = text("profile")
    if profile not in known_profiles():
        raise SftpConfigError(
            f"{where}.profile: unknown profile {profile!r}; known profiles: {', '.join(known_profiles())}"
        )
    if "password" in settings and "password_env" in settings:
        raise SftpConfigError(f"{where}.password: give either password or password_env, not both")
    password = text("password", required=False) or from_environment("password_env")
    key_file = text("private_key", required=False)
    private_key = Path(key_file).expanduser() if key_file else None
    if private_key is not None and not private_key.is_file():
        raise SftpConfigError(f"{where}.private_key: {private_key}: no such file")
    if password is None and private_key is None:
        raise SftpConfigError(f"{where}: give password, password_env or private_key")
    known_hosts = Path(text("known_hosts", required=False) or "~/.ssh/known_hosts").expanduser()
    if not known_hosts.is_file():
        raise SftpConfigError(
            f"{where}.known_hosts: {known_hosts}: no such file; the remote's host key must be listed there "
            f"(ssh-keyscan -p PORT HOST >> {known_hosts})"
        )
    directory = text("directory")
    assert directory is not None
    return SftpRemote(
        name=name,
        host=str(text("host")),
        port=number("port", 22, int),
        username=str(text("username")),
        password=password,
        private_key=private_key,
        passphrase=from_environment("passphrase_env"),
        known_hosts=known_hosts,
        directory=directory,
        pattern=text("pattern", required=False) or "*",
        source=source,
        profile=profile,
        timeout_seconds=number("timeout_seconds", 30.0, float),
    )


def ensure_fetched_table(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("create schema if not exists raw")
    connection.execute(
        """
        create table if not exists raw.sftp_fetched (
            remote varchar not null,
            path varchar not null,
            size_bytes bigint not null,
            mtime bigint not null,
            sha256 varchar not null,
            fetched_at timestamp not null,
            landed_path varchar,
            primary key (remote, path, size_bytes, mtime)
        )
        """
    )


def pull(home: ReconHome, remote_name: str | None = None) -> list[PullResult]:
    """Pull every configured remote, or the one named; stop at the first remote that fails."""
    remotes = load_remotes(home)
    if remote_name is not None:
        if remote_name not in remotes:
            raise SftpConfigError(
                f"{config_path(home)}: remotes.{remote_name}: no such remote; configured: {', '.join(remotes)}"
            )
        remotes = {remote_name: remotes[remote_name]}
    return [pull_remote(home, remote) for remote in remotes.values()]


def pull_remote(home: ReconHome, remote: SftpRemote) -> PullResult:
    result = asyncio.run(_pull(home, remote))
    progress("sftp", result.summary())
    return result


def _connect_options(remote: SftpRemote) -> dict[str, Any]:
    options: dict[str, Any] = {
        "host": remote.host,
        "port": remote.port,
        "username": remote.username,
        "known_hosts": str(remote.known_hosts),
        "connect_timeout": remote.timeout_seconds,
        "login_timeout": remote.timeout_seconds,
        # only what sftp.yml says: no ~/.ssh/config, no agent, no default keys
        "config": None,
        "agent_path": None,
        "client_keys": None,
        "password": remote.password,
    }
    if remote.private_key is not None:
        try:
            options["client_keys"] = [asyncssh.read_private_key(remote.private_key, remote.passphrase)]
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as error:
            raise SftpPullError(
                f"remote {remote.name}: cannot read the private key {remote.private_key}: {error}"
            ) from None
    return options


async def _open(remote: SftpRemote) -> asyncssh.SSHClientConnection:
    try:
        return await asyncssh.connect(**_connect_options(remote))
    except asyncssh.PermissionDenied:
        method = "password" if remote.password is not None else f"private key {remote.private_key}"
        raise SftpPullError(
            f"remote {remote.name} ({remote.address}): authentication failed for user {remote.username!r} "
            f"with the configured {method}; check sftp.yml and the secret it points to"
        ) from None
    except asyncssh.HostKeyNotVerifiable as error:
        raise SftpPullError(
            f"remote {remote.name} ({remote.address}): host key not trusted ({error.reason}); add the host's key "
            f"to {remote.known_hosts} after checking its fingerprint"
        ) from None
    except (OSError, TimeoutError, asyncssh.Error) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
        raise SftpPullError(
            f"remote {remote.name} ({remote.address}): cannot connect: {reason or type(error).__name__}"
        ) from None


def _is_file(attrs: asyncssh.SFTPAttrs) -> bool:
    if attrs.permissions is not None:
        return stat.S_ISREG(attrs.permissions)
    return attrs.type == asyncssh.FILEXFER_TYPE_REGULAR


async def _pull(home: ReconHome, remote: SftpRemote) -> PullResult:
    result = PullResult(remote.name)
    progress("sftp", f"{remote.name}: listing {remote.directory} on {remote.address}")
    with connect(home.warehouse) as connection:
        ensure_fetched_table(connection)
        rows = connection.execute(
            "select path, size_bytes, mtime, sha256 from raw.sftp_fetched where remote = ?", [remote.name]
        ).fetchall()
    known_keys = {(path, size, mtime) for path, size, mtime, _ in rows}
    known_hashes = {sha256 for *_, sha256 in rows}
    staging_root = home.root / "sftp"
    staging_root.mkdir(parents=True, exist_ok=True)
    async with await _open(remote) as ssh:
        async with ssh.start_sftp_client() as sftp:
            try:
                names = await sftp.readdir(remote.directory)
            except asyncssh.SFTPError as error:
                raise SftpPullError(
                    f"remote {remote.name} ({remote.address}): cannot list {remote.directory}: {error.reason}"
                ) from None
            entries = sorted(
                (
                    entry
                    for entry in names
                    if isinstance(entry.filename, str)
                    and not entry.filename.startswith(".")
                    and fnmatch.fnmatchcase(entry.filename, remote.pattern)
                    and _is_file(entry.attrs)
                ),
                key=lambda entry: str(entry.filename),
            )
            result.listed = len(entries)
            staging = Path(tempfile.mkdtemp(prefix=f"{remote.name}-", dir=staging_root))
            try:
                for entry in entries:
                    await _fetch(home, remote, sftp, entry, staging, known_keys, known_hashes, result)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return result


async def _fetch(
    home: ReconHome,
    remote: SftpRemote,
    sftp: asyncssh.SFTPClient,
    entry: asyncssh.SFTPName,
    staging: Path,
    known_keys: set[tuple[str, int, int]],
    known_hashes: set[str],
    result: PullResult,
) -> None:
    name = str(entry.filename)
    path = posixpath.join(remote.directory, name)
    size, mtime = int(entry.attrs.size or 0), int(entry.attrs.mtime or 0)
    if (path, size, mtime) in known_keys:
        result.unchanged += 1
        return
    partial = staging / f".{name}.partial"
    progress("sftp", f"{remote.name}: fetching {path} ({size} bytes)")
    try:
        await sftp.get(path, partial)
        after = await sftp.stat(path)
    except asyncssh.SFTPError as error:
        raise SftpPullError(f"remote {remote.name} ({remote.address}): cannot fetch {path}: {error.reason}") from None
    if (after.size, after.mtime) != (entry.attrs.size, entry.attrs.mtime) or partial.stat().st_size != size:
        # still being written on the remote: fetch it when it has settled
        result.changed_while_fetching += 1
        partial.unlink()
        progress("sftp", f"{remote.name}: {path} changed while being fetched; left for the next pull")
        return
    downloaded = staging / name
    partial.replace(downloaded)
    sha256 = file_fingerprint(downloaded)
    result.fetched += 1
    landed: Path | None = None
    if sha256 in known_hashes:
        result.same_content += 1
        progress("sftp", f"{remote.name}: {path} has the content of a file fetched before; not landed again")
    else:
        landed = land_file(home.landing, downloaded, remote.source, remote.profile)
        result.landed.append(landed)
        progress("sftp", f"{remote.name}: landed {path} as {landed}")
    downloaded.unlink()
    with connect(home.warehouse) as connection:
        ensure_fetched_table(connection)
        connection.execute(
            "insert or ignore into raw.sftp_fetched values (?, ?, ?, ?, ?, ?, ?)",
            [
                remote.name,
                path,
                size,
                mtime,
                sha256,
                datetime.now(UTC).replace(tzinfo=None),
                str(landed) if landed else None,
            ],
        )
    known_keys.add((path, size, mtime))
    known_hashes.add(sha256)
