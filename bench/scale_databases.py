"""The scale benchmark's databases: migrated with the real migrations, seeded in bulk with
``bench.scale_seed``'s rows, and dropped afterwards."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, update

from bench.scale_seed import Batch, Seeder
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Comment, InboxRow, Team, Ticket, TimelineEvent
from storage.throwaway_postgres import PostgresServer, postgres_server


@dataclass
class Database:
    backend: str
    """'sqlite' or 'postgresql'."""
    tickets: int
    url: str
    engine: Engine
    seconds_to_seed: float = 0.0
    rows: int = 0

    @property
    def label(self) -> str:
        return f"{self.backend} {self.tickets:,}"


@contextlib.contextmanager
def databases(
    backends: Sequence[str], sizes: Sequence[int], now: datetime, *, sqlite_statistics: bool
) -> Iterator[list[Database]]:
    """A migrated, seeded database per backend and size (size 0: the floor, no tickets), in
    that order; all dropped on exit."""
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="deskhand-scale-")))
        server: PostgresServer | None = None
        if "postgresql" in backends:
            server = stack.enter_context(postgres_server())
        made: list[Database] = []
        for size in (0, *sizes):
            group = []
            for backend in backends:
                if backend == "sqlite":
                    url = f"sqlite:///{scratch / f'scale-{size}.db'}"
                else:
                    assert server is not None
                    url = server.create_database()
                upgrade(url)
                engine = make_engine(url, pool_size=12, max_overflow=4)
                stack.callback(engine.dispose)
                group.append(Database(backend, size, url, engine))
            seed(group, size, now, sqlite_statistics=sqlite_statistics)
            made.extend(group)
        # By backend, then size: in the ingest rounds the sizes compared run back to back.
        yield sorted(made, key=lambda db: (backends.index(db.backend), db.tickets))


def seed(group: list[Database], size: int, now: datetime, *, sqlite_statistics: bool) -> None:
    """Generate ``size`` tickets once and write them into every database of ``group``, one
    writer thread per database (SQLite and the PostgreSQL server work outside the GIL)."""
    seeder = Seeder(size, now)
    started = time.perf_counter()
    for db in group:
        with db.engine.begin() as connection:
            connection.execute(insert(Team), seeder.teams())
    writers = {db.backend: ThreadPoolExecutor(1, f"seed-{db.backend}") for db in group}
    pending: deque[Future[int]] = deque()
    try:
        for batch in seeder.batches():
            for db in group:
                pending.append(writers[db.backend].submit(write_batch, db, batch))
            while len(pending) > 4 * len(group):  # bounded: a slow writer holds back the rest
                pending.popleft().result()
        while pending:
            pending.popleft().result()
    finally:
        for writer in writers.values():
            writer.shutdown(cancel_futures=True)
    for db in group:
        with db.engine.begin() as connection:
            for team in seeder.teams():
                connection.execute(
                    update(Team)
                    .where(Team.name == team["name"])
                    .values(next_number=team["next_number"])
                )
        settle(db, sqlite_statistics=sqlite_statistics)
    for db in group:
        db.rows = seeder.rows
        db.seconds_to_seed = time.perf_counter() - started


SEEDED: tuple[tuple[Table, str], ...] = (
    (cast(Table, Ticket.__table__), "tickets"),
    (cast(Table, TimelineEvent.__table__), "events"),
    (cast(Table, Comment.__table__), "comments"),
    (cast(Table, InboxRow.__table__), "inbox"),
)


def write_batch(db: Database, batch: Batch) -> int:
    """Insert ``batch`` in one transaction with the driver's own bulk path: ``executemany``
    on SQLite, with the values through SQLAlchemy's bind processors for each column (so they
    are stored exactly as the application stores them); ``COPY`` on PostgreSQL. Core's
    ``executemany`` ran at a third to a half of this speed: too slow to seed 10⁶ tickets
    (some 11 million rows a database) in minutes."""
    written = 0
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.backend == "sqlite":  # the driver runs in autocommit mode (see storage.engine)
            cursor.execute("BEGIN IMMEDIATE")
        for table, name in SEEDED:
            rows: list[dict[str, Any]] = getattr(batch, name)
            if not rows:
                continue
            columns = [column for column in table.columns if column.name in rows[0]]
            names = ", ".join(column.name for column in columns)
            if db.backend == "sqlite":
                processors = [column.type.bind_processor(db.engine.dialect) for column in columns]
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
                    [
                        tuple(
                            process(row[column.name]) if process else row[column.name]
                            for column, process in zip(columns, processors, strict=True)
                        )
                        for row in rows
                    ],
                )
            else:
                documents = {c.name for c in columns if isinstance(rows[0][c.name], dict | list)}
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(
                            [
                                json.dumps(row[c.name]) if c.name in documents else row[c.name]
                                for c in columns
                            ]
                        )
            written += len(rows)
        raw.commit()
    finally:
        raw.close()
    return written


def settle(db: Database, *, sqlite_statistics: bool) -> None:
    """What a database that has lived with its data has. On PostgreSQL: statistics (autovacuum
    keeps them), the visibility map (for index-only scans), the ticket id sequence past the
    seeded ids. On SQLite, statistics only with ``sqlite_statistics``: Deskhand never runs
    ANALYZE (or ``PRAGMA optimize``), and the planner chooses differently with them (see the
    notes of the results)."""
    if db.backend == "sqlite":
        if sqlite_statistics:
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
            "GREATEST((SELECT max(id) FROM tickets), 1))"
        )
        connection.exec_driver_sql("VACUUM ANALYZE")
