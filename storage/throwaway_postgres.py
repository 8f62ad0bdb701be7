"""A PostgreSQL server to test and benchmark against, found or started on demand.

In order of preference: the server named by ``DESKHAND_TEST_DATABASE_URL``; a server answering
on 127.0.0.1:5432 (user ``postgres``, trust auth, as on a developer machine); a throwaway
cluster started from the installed server binaries in a temporary folder, run as the
``postgres`` user because PostgreSQL refuses to run as root. Each caller gets databases of its
own, created and dropped here, so parallel test workers never share state.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

TEST_URL_VARIABLE = "DESKHAND_TEST_DATABASE_URL"
_LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be found or started; the message says what was tried."""


@dataclass
class PostgresServer:
    admin_url: URL
    """A URL on which CREATE DATABASE may be run."""
    stop: Callable[[], None] = field(default=lambda: None)
    _created: list[str] = field(default_factory=list)

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL (psycopg 3 driver)."""
        name = f"deskhand_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        url = self.admin_url.set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    def drop_databases(self) -> None:
        with self._admin() as connection:
            for name in self._created:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        self._created.clear()

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        conninfo = self.admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Find or start a server; databases created on it are dropped on exit."""
    server = _find_or_start()
    try:
        yield server
    finally:
        try:
            server.drop_databases()
        finally:
            server.stop()


def _find_or_start() -> PostgresServer:
    tried: list[str] = []
    explicit = os.environ.get(TEST_URL_VARIABLE)
    if explicit:
        server = PostgresServer(make_url(explicit))
        _check(server, f"{TEST_URL_VARIABLE}={explicit}")
        return server
    if _port_open("127.0.0.1", 5432):
        server = PostgresServer(make_url(_LOCAL_URL))
        try:
            _check(server, _LOCAL_URL)
            return server
        except PostgresUnavailableError as exc:
            tried.append(str(exc))
    else:
        tried.append("nothing answers on 127.0.0.1:5432")
    binaries = _server_binaries()
    if binaries is None:
        tried.append("no PostgreSQL server binaries (initdb, pg_ctl) are installed")
        raise PostgresUnavailableError("; ".join(tried))
    return _start_cluster(binaries)


def _check(server: PostgresServer, label: str) -> None:
    try:
        with server._admin() as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        raise PostgresUnavailableError(f"cannot use {label}: {exc}".strip()) from exc


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _server_binaries() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(found[0]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_cluster(binaries: Path) -> PostgresServer:
    folder = Path(tempfile.mkdtemp(prefix="deskhand-pg-"))
    data = folder / "data"
    port = _free_port()
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(folder, user="postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []

    def run(*args: str) -> None:
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailableError(f"{args[0]} failed: {result.stderr.strip()[-500:]}")

    run(str(binaries / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off"
    run(
        str(binaries / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-w",
        "-l",
        str(folder / "log"),
        "start",
    )

    def stop() -> None:
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)

    server = PostgresServer(make_url(f"postgresql://postgres@127.0.0.1:{port}/postgres"), stop)
    _check(server, f"the throwaway cluster on port {port}")
    return server
