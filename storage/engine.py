"""Engines and sessions for SQLite (WAL, one process) and PostgreSQL (psycopg 3, replicas)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_url(url: str | URL) -> URL:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy's default driver is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine with Deskhand's settings for the URL's backend."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    # Fail fast when the server is away: a delivery that cannot be stored must be refused
    # within Slack's 3 s (with 503) rather than hang (libpq's minimum is 2 s).
    kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 2)
    return create_engine(parsed, **kwargs)


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that writers
    # can start with BEGIN IMMEDIATE and take the write lock up front (no upgrade deadlocks).
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    connect_args.setdefault("check_same_thread", False)
    connect_args["isolation_level"] = None
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


@contextmanager
def write_turn(engine: Engine) -> Iterator[None]:
    """Wait for this process's turn to write, on SQLite.

    SQLite takes one writer at a time; threads that collide otherwise wait in SQLite's busy
    handler, which sleeps in growing steps (up to 100 ms) and turns a burst into long tails.
    Queueing on a lock in the process hands the database over at once. On PostgreSQL, which
    has row locks, this does nothing.
    """
    if not is_sqlite(engine):
        yield
        return
    with _LOCKS_LOCK:
        lock = _WRITE_LOCKS.setdefault(engine, threading.Lock())
    with lock:
        yield


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A session for one write transaction, committed on success.

    On SQLite it begins IMMEDIATE, taking the write lock before the first read, so a
    read-then-write transaction never fails to upgrade its lock under concurrency.
    """
    options: dict[str, Any] = {"sqlite_begin": "IMMEDIATE"} if is_sqlite(engine) else {}
    with (
        write_turn(engine),
        engine.connect().execution_options(**options) as connection,
        Session(connection, expire_on_commit=False) as session,
        session.begin(),
    ):
        yield session


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
