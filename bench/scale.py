"""Scale: ingest rate and dashboard query time with 10³ to 10⁶ tickets, on SQLite and on
PostgreSQL, each beside a floor measured in the same run.

Each database is migrated with the real migrations, then seeded in bulk: tickets spread over
a year across eight teams (services, levels, priorities, statuses that follow each ticket's
age, first responses and resolutions for most, ratings for some), a timeline of a few events
per ticket, comments, and the inbox rows that history leaves behind (the inbox is never
pruned). The same seed gives the same data on both databases, and the benchmark checks that
every dashboard query gives the same answer on both.

- **ingest**: deliveries stored per second with N tickets present, in interleaved rounds over
  every database so that drift on a shared machine falls on all alike. ``store``:
  ``Inbox.store`` alone from several threads (the part of an ack that touches the database);
  ``http`` (with ``--full`` or ``--http``): signed Slack events through Deskhand's HTTP
  endpoint into the inbox, workers running, as ``bench.ingest`` sends them. Floor: the same
  on a migrated database with no tickets. Goal: the rate at the largest size at least 90% of
  the rate at 10³.
- **queries**: the dashboard's queries (``bench.scale_queries``), best and median of 3 runs.
  Floor: ``SELECT count(*) FROM tickets`` on the same database. Goal: every dashboard query
  at most 300 ms (median) at 10⁶. At the largest size, and wherever a query misses, the
  queries that ``bench.scale_queries.PROPOSED_INDEXES`` would help are measured again with
  those indexes created ad hoc (rows marked "+index"); the indexes are dropped after.

Quick by default (10³ and 10⁵ tickets, about a minute and a half); ``--full`` seeds 10³ and
10⁶ (some 11 million rows a database; about a quarter of an hour in all on two cores).

    python -m bench.scale [--full] [--sizes 1000,100000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import hashlib
import itertools
import json
import logging
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Engine, Select, Table, insert, update

from bench.common import RESULTS, percentile, report
from bench.ingest import measure as measure_http
from bench.scale_queries import FLOOR, PROPOSED_INDEXES, QUERIES, DashboardQuery
from bot.http import EVENTS_PATH, flask_app
from deskhand.config import Config, parse_config
from deskhand.events import ReactionAdded, ThreadReply
from deskhand.inbox import Delivery, Inbox
from deskhand.wiring import Deskhand, build
from sandbox.httpserver import LoopbackServer
from sandbox.world import SandboxWorld
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Comment, InboxRow, Team, Ticket, TimelineEvent
from storage.throwaway_postgres import PostgresServer, postgres_server

T = TypeVar("T")
QUICK_SIZES = (1_000, 100_000)
FULL_SIZES = (1_000, 1_000_000)
GOAL_QUERY_MS = 300.0
GOAL_INGEST_RATIO = 0.9
BATCH = 5_000
"""Tickets generated and inserted per transaction, with their timelines, comments and inbox."""

# --------------------------------------------------------------------------------------------
# The data: eight teams, a year of tickets.


@dataclass(frozen=True)
class TeamSpec:
    name: str
    prefix: str
    weight: int
    """Share of the requests (out of the weights' sum)."""
    services: tuple[str, ...]
    agents: int
    on_jira: bool


TEAMS = (
    TeamSpec("IT", "IT", 40, ("Laptop", "Access", "VPN", "Email", "Software", "Printer"), 24, True),
    TeamSpec("HR", "HR", 12, ("Payroll", "Leave", "Onboarding", "Benefits"), 8, False),
    TeamSpec("Finance", "FIN", 10, ("Expenses", "Invoices", "Purchasing"), 8, True),
    TeamSpec("Facilities", "FAC", 10, ("Desk", "Building", "Parking", "Catering"), 6, False),
    TeamSpec("Legal", "LEG", 4, ("Contracts", "NDA", "Compliance"), 4, False),
    TeamSpec("Security", "SEC", 8, ("Incident", "Access review", "Phishing"), 6, True),
    TeamSpec("Sales Ops", "SOPS", 8, ("CRM", "Quotes", "Territories"), 5, False),
    TeamSpec("Data", "DATA", 8, ("Dashboards", "Pipelines", "Warehouse access"), 6, True),
)
HELP_CHANNELS = tuple(f"C0HELP{index:04d}" for index in range(12))
REQUESTERS = 20_000
WORDS = (
    *("the", "my", "laptop", "cannot", "access", "since", "this", "morning", "please", "help"),
    *("invoice", "vpn", "keeps", "dropping", "error", "when", "I", "try", "to", "open", "new"),
    *("starter", "needs", "account", "payroll", "question", "about", "last", "month", "printer"),
    *("on", "floor", "three", "is", "jammed", "again", "dashboard", "shows", "wrong", "numbers"),
)
YEAR = 365 * 86_400


class Mix(Generic[T]):
    """Values drawn in proportion to their weights (``random.choices`` without rebuilding
    the cumulative weights on every call)."""

    def __init__(self, weighted: dict[T, int]) -> None:
        self.values = tuple(weighted)
        self.cumulative = tuple(itertools.accumulate(weighted.values()))

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


TEAM_MIX = Mix({index: team.weight for index, team in enumerate(TEAMS)})
LEVEL_MIX = Mix({1: 70, 2: 22, 3: 8})
INTAKE_MIX = Mix({"reaction": 60, "command": 30, "dm": 10})
PRIORITY_MIX = Mix({"low": 20, "normal": 60, "high": 15, "urgent": 5})
WORKING_MIX = Mix({"in_progress": 75, "waiting_on_requester": 25})
CSAT_MIX = Mix({1: 4, 2: 4, 3: 10, 4: 32, 5: 50})


class Seeder:
    """Deterministic rows for tickets ``1..count``, created over the year before ``now``.

    Statuses follow each ticket's age: first responses after a log-normal delay (median
    40 minutes, about 7% later than 4 h), resolutions after another (median 8 h, about 7%
    later than 3 days), tickets resolved more than 3 days ago closed, a few left stale."""

    def __init__(self, count: int, now: datetime, seed: int = 7) -> None:
        self.count = count
        self.now = now
        self.rng = random.Random(seed)
        ages = sorted((self.rng.randrange(YEAR) for _ in range(count)), reverse=True)
        self.created = [now - timedelta(seconds=age) for age in ages]
        """Oldest first, so ids rise with creation time as they do in production."""
        self.numbers = {team.name: 0 for team in TEAMS}
        self.rows = 0
        """Rows generated so far, all tables."""
        self._ts = 0

    def teams(self) -> list[dict[str, Any]]:
        return [
            {
                "name": team.name,
                "key_prefix": team.prefix,
                "triage_channel": f"C0TRIAGE{index:02d}",
                "jira_project": None,
                "next_number": self.numbers[team.name] + 1,
            }
            for index, team in enumerate(TEAMS)
        ]

    def batches(self) -> Iterator[Batch]:
        for start in range(0, self.count, BATCH):
            batch = Batch()
            for offset in range(start, min(start + BATCH, self.count)):
                self._ticket(batch, offset + 1, self.created[offset])
            self.rows += sum(len(rows) for rows in vars(batch).values())
            yield batch

    def _slack_ts(self, moment: datetime) -> str:
        self._ts += 1  # a counter after the dot keeps every (channel, ts) unique
        return f"{int(moment.timestamp())}.{self._ts:06d}"

    def _after(self, moment: datetime, median_s: float, sigma: float) -> datetime:
        seconds = max(30, round(self.rng.lognormvariate(0, sigma) * median_s))
        return moment + timedelta(seconds=seconds)

    def _ticket(self, batch: Batch, ticket_id: int, created: datetime) -> None:
        rng = self.rng
        team_index = TEAM_MIX.pick(rng)
        team = TEAMS[team_index]
        self.numbers[team.name] += 1
        number = self.numbers[team.name]
        requester = f"U{rng.randrange(REQUESTERS):07d}"
        agent = f"U{team_index}A{rng.randrange(team.agents):04d}"
        level = LEVEL_MIX.pick(rng)
        channel = rng.choice(HELP_CHANNELS)
        via = INTAKE_MIX.pick(rng)
        origin_ts = self._slack_ts(created) if via == "reaction" else None
        thread_ts = origin_ts or self._slack_ts(created)

        responded = self._after(created, 40 * 60, 1.2)
        resolved = self._after(responded, 8 * 3600, 1.5)
        answered = rng.random() >= 0.03  # the others are closed unanswered (duplicates, spam)
        forgotten = rng.random() < 0.01  # never resolved: the backlog's long tail
        responded_at = responded if answered and responded <= self.now else None
        resolved_at = resolved if not forgotten and resolved <= self.now else None
        closed_at = None
        if resolved_at is not None:  # closed 3 days after resolution, or at once if unanswered
            closed_at = resolved_at + timedelta(days=3) if responded_at else resolved_at
            closed_at = closed_at if closed_at <= self.now else None
        if closed_at is not None:
            status = "closed"
        elif resolved_at is not None:
            status = "resolved"
        elif responded_at is not None:
            status = WORKING_MIX.pick(rng)
        else:
            status = "open"
        latest = max(t for t in (created, responded_at, resolved_at, closed_at) if t is not None)
        service = rng.choice(team.services)
        batch.tickets.append(
            {
                "id": ticket_id,
                "key": f"{team.prefix}-{number}",
                "team": team.name,
                "requester": requester,
                "title": f"{service}: {' '.join(rng.choices(WORDS, k=rng.randint(3, 8)))}",
                "description": " ".join(rng.choices(WORDS, k=rng.randint(10, 70))),
                "service": service,
                "level": level,
                "status": status,
                "priority": PRIORITY_MIX.pick(rng),
                "assignee": agent if responded_at else None,
                "fields": {"system": service.lower()} if rng.random() < 0.3 else {},
                "labels": ["vip"] if rng.random() < 0.02 else [],
                "origin_kind": via,
                "origin_channel": channel if origin_ts else None,
                "origin_ts": origin_ts,
                "private_origin": via == "dm",
                "thread_channel": channel,
                "thread_ts": thread_ts,
                "triage_channel": f"C0TRIAGE{team_index:02d}",
                "triage_ts": self._slack_ts(created),
                "jira_key": f"{team.prefix}J-{number}" if team.on_jira else None,
                "jira_updated": latest if team.on_jira else None,
                "created_at": created,
                "updated_at": latest,
                "first_response_at": responded_at,
                "resolved_at": resolved_at,
                "closed_at": closed_at,
                "csat_score": (CSAT_MIX.pick(rng) if resolved_at and rng.random() < 0.3 else None),
            }
        )

        def event(at: datetime, kind: str, actor: str, data: dict[str, Any]) -> None:
            batch.events.append(
                {"ticket_id": ticket_id, "at": at, "actor": actor, "kind": kind}
                | {"origin": "slack", "data": data, "recipe": None, "reason": None}
            )

        def comment(at: datetime, author: str, visibility: str = "public") -> None:
            ts = self._slack_ts(at)
            body = " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))
            batch.comments.append(
                {"ticket_id": ticket_id, "author": author, "author_name": "", "body": body}
                | {"visibility": visibility, "origin": "slack", "slack_channel": channel}
                | {"slack_ts": ts, "jira_comment_id": None, "jira_updated": None}
                | {"created_at": at, "updated_at": at, "deleted_at": None}
            )
            reply = {"user": author, "channel": channel, "ts": ts, "thread_ts": thread_ts}
            payload = reply | {"text": body, "files": []}  # ThreadReply.payload()'s shape
            batch.inbox.append(
                _done_delivery(f"Ev{ticket_id:09d}{ts}", ThreadReply.KIND, payload, at)
            )

        event(created, "created", requester, {"via": via, "channel": channel, "ts": origin_ts})
        reaction = {"user": agent, "emoji": "ticket", "channel": channel, "ts": thread_ts}
        payload = reaction | {"item_user": requester}  # ReactionAdded.payload()'s shape
        batch.inbox.append(
            _done_delivery(f"Ev{ticket_id:09d}", ReactionAdded.KIND, payload, created)
        )
        if responded_at is None:
            if resolved_at is not None:
                event(resolved_at, "status_changed", agent, {"from": "open", "to": "closed"})
            return
        event(responded_at, "assigned", agent, {"from": None, "to": agent})
        event(responded_at, "status_changed", agent, {"from": "open", "to": "in_progress"})
        comment(responded_at, agent)
        event(responded_at, "first_response", agent, {})
        end = resolved_at or self.now
        if rng.random() < 0.5:
            comment(responded_at + (end - responded_at) / 3, requester)
        if rng.random() < 0.2:
            comment(responded_at + (end - responded_at) / 2, agent, "internal")
        if level > 1:
            at = responded_at + (end - responded_at) / 4
            event(at, "level_changed", agent, {"from": 1, "to": level})
        if resolved_at is not None:
            event(resolved_at, "status_changed", agent, {"from": "in_progress", "to": "resolved"})
        if closed_at is not None:
            event(closed_at, "status_changed", "deskhand", {"from": "resolved", "to": "closed"})


@dataclass
class Batch:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    inbox: list[dict[str, Any]] = field(default_factory=list)


def _done_delivery(key: str, kind: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    """An inbox row as the worker leaves it once handled."""
    return {
        "source": "slack",
        "dedupe_key": key,
        "kind": kind,
        "payload": payload,
        "status": "done",
        "attempts": 1,
        "next_attempt_at": at,
        "lease_owner": None,
        "lease_until": None,
        "last_error": None,
        "received_at": at,
        "processed_at": at,
    }


# --------------------------------------------------------------------------------------------
# The databases.


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


# --------------------------------------------------------------------------------------------
# Ingest.

INGEST_MEASURES = ("http", "store")


def store_rate(db: Database, seconds: float, threads: int) -> tuple[float, float]:
    """``Inbox.store`` from ``threads`` threads for ``seconds``: deliveries stored per second
    and the p99 of one store, in ms."""
    inbox = Inbox(db.engine)
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        mine: list[float] = []
        while time.monotonic() < deadline:
            event = ReactionAdded("U0LOAD", "eyes", "C0LOAD", f"{time.time():.6f}")
            key = f"Ev{uuid.uuid4().hex[:12].upper()}"
            started = time.monotonic()
            if inbox.store(Delivery("slack", key, event.KIND, event.payload())):
                mine.append(time.monotonic() - started)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(latencies) / seconds, percentile(latencies, 0.99) * 1000


def http_rate(
    db: Database, world: SandboxWorld, seconds: float, threads: int
) -> tuple[float, float]:
    """Signed Slack events into Deskhand's HTTP endpoint on ``db`` (its workers running), as
    ``bench.ingest`` sends them: events acknowledged per second and the ack p99, in ms."""
    deskhand = build(
        app_config(world),
        bot_token=world.slack.bot_token,
        signing_secret=world.slack.signing_secret,
        database_url=db.url,
    )
    swept = _first_sweep(deskhand)
    deskhand.start()
    try:
        # The thread sweep runs at start, then once a minute: left inside a window of a few
        # seconds it would weigh fifteen times its share. Its query is timed on its own.
        swept.wait(timeout=120)
        with LoopbackServer(flask_app(deskhand.app)) as server:
            result = measure_http(
                f"{server.url}{EVENTS_PATH}",
                world.slack.signing_secret,
                world.slack.workspace.team_id,
                seconds,
                threads,
            )
    finally:
        deskhand.stop()
        deskhand.inbox.engine.dispose()
    return float(result["events_per_s"]), float(result["p99_ms"])


def _first_sweep(deskhand: Deskhand) -> threading.Event:
    """An event set once the sweep loop has finished its first step."""
    done = threading.Event()
    for loop in deskhand.loops:
        if loop.name == "sweep":
            step = loop.step

            def step_then_tell(step: Callable[[], int] = step) -> int:
                try:
                    return step()
                finally:
                    done.set()

            loop.step = step_then_tell
            return done
    done.set()  # no sweep: nothing to wait for
    return done


def app_config(world: SandboxWorld) -> Config:
    """The seeded teams, pointed at the sandbox's Slack."""
    teams = "\n".join(
        f"  - {{name: {team.name}, key_prefix: {team.prefix}, triage_channel: triage-{index}}}"
        for index, team in enumerate(TEAMS)
    )
    slack = f'{{request_channels: [help], api_url: "{world.slack.api_url}"}}'
    return parse_config(f"slack: {slack}\nteams:\n{teams}\n")


Measured = list[dict[str, tuple[float, float]]]
"""Per round, per measure: (rate per second, p99 ms)."""
Rounds = dict[str, Measured]
"""Per database label."""


def measure_ingest(
    dbs: list[Database], rounds: int, seconds: dict[str, float], threads: int
) -> Rounds:
    """Interleaved rounds: each measures every database once, in turn, the order reversed
    every other round, so drift on a shared machine falls on every database alike."""
    figures: Rounds = {db.label: [] for db in dbs}
    with SandboxWorld(rate_limits=False) as world:
        for number in range(rounds):
            for db in dbs if number % 2 == 0 else reversed(dbs):
                round_: dict[str, tuple[float, float]] = {}
                if seconds["http"] > 0 and db.tickets > 0:  # its floor is bench.ingest's
                    round_["http"] = http_rate(db, world, seconds["http"], threads)
                round_["store"] = store_rate(db, seconds["store"], threads)
                figures[db.label].append(round_)
    return figures


def ingest_rows(dbs: list[Database], figures: Rounds, smallest: int) -> list[dict[str, Any]]:
    """Medians over the rounds; each ratio is the median of the rounds' own ratios."""

    def twin(db: Database, tickets: int) -> Measured:
        return next(
            figures[d.label] for d in dbs if d.backend == db.backend and d.tickets == tickets
        )

    rows = []
    for measure in INGEST_MEASURES:
        for db in dbs:
            mine = figures[db.label]
            if not mine or measure not in mine[0]:
                continue
            rows.append(
                {
                    "measure": measure,
                    "backend": db.backend,
                    "tickets": db.tickets,
                    "per_s": statistics.median(r[measure][0] for r in mine),
                    "p99_ms": statistics.median(r[measure][1] for r in mine),
                    "vs_empty": _ratio(mine, twin(db, 0), measure),
                    f"vs_{smallest}": _ratio(mine, twin(db, smallest), measure),
                    "rounds_range": _ratio(mine, twin(db, smallest), measure, spread=True),
                }
            )
    return rows


def _ratio(mine: Measured, other: Measured, measure: str, *, spread: bool = False) -> str:
    """The median of the rounds' ratios of ``mine`` to ``other`` (with ``spread``, the lowest
    and highest: how much to trust the median); '-' if ``other`` lacks the measure."""
    if not other or measure not in other[0]:
        return "-"
    ratios = [a[measure][0] / b[measure][0] for a, b in zip(mine, other, strict=True)]
    if spread:
        return f"{min(ratios):.2f}-{max(ratios):.2f}"
    return f"{statistics.median(ratios):.2f}"


# --------------------------------------------------------------------------------------------
# Queries.


@dataclass(frozen=True)
class Timing:
    best_ms: float
    median_ms: float
    rows: int
    answer: str
    """A digest of the result, to compare the backends."""


def time_query(db: Database, query: DashboardQuery, now: datetime, runs: int = 3) -> Timing:
    """Run ``query`` ``runs`` times, each on a connection from the warm pool, rows fetched."""
    statement = query.build(db.backend, now)
    spent: list[float] = []
    result: list[Any] = []
    for _ in range(runs):
        with db.engine.connect() as connection:
            started = time.perf_counter()
            result = list(connection.execute(statement).all())
            spent.append(time.perf_counter() - started)
    return Timing(min(spent) * 1000, statistics.median(spent) * 1000, len(result), digest(result))


def digest(rows: list[Any]) -> str:
    """The rows, in whatever order, as a short hash that the two backends can share."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal | float):
            return round(float(value), 2)
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    lines = sorted(json.dumps([plain(value) for value in row]) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


def plan(db: Database, statement: Select[Any]) -> str:
    """The database's own plan for ``statement``, one line per step."""
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN " if db.backend == "sqlite" else "EXPLAIN "
    with db.engine.connect() as connection:
        lines = connection.exec_driver_sql(explain + str(compiled)).all()
    return "\n".join(str(line[-1]) for line in lines)


@dataclass
class QueryResults:
    rows: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)


def measure_queries(db: Database, now: datetime, out: QueryResults, *, proposals: bool) -> None:
    """Every query on ``db`` beside the floor; again with the proposed indexes for the queries
    that missed the goal (or for all, with ``proposals``)."""
    floor = time_query(db, FLOOR, now)
    out.rows.append(query_row(db, FLOOR, floor, floor))
    misses: set[str] = set()
    for query in QUERIES:
        timing = time_query(db, query, now)
        out.rows.append(query_row(db, query, timing, floor))
        out.answers.setdefault((db.tickets, query.name), set()).add(timing.answer)
        if timing.median_ms > GOAL_QUERY_MS:
            misses.add(query.name)
            out.plans[f"{db.label}: {query.name}"] = plan(db, query.build(db.backend, now))
    wanted = [index for index in PROPOSED_INDEXES if proposals or misses & set(index.helps)]
    if not wanted:
        return
    with db.engine.begin() as connection:
        for index in wanted:
            connection.exec_driver_sql(index.ddl)
        connection.exec_driver_sql("ANALYZE")
    try:
        helped = {name for index in wanted for name in index.helps}
        for query in (query for query in QUERIES if query.name in helped):
            timing = time_query(db, query, now)
            out.rows.append(query_row(db, query, timing, floor, suffix=" +index"))
            name = f"{db.label}: {query.name} (with proposed index)"
            out.plans[name] = plan(db, query.build(db.backend, now))
    finally:
        with db.engine.begin() as connection:
            for index in wanted:
                connection.exec_driver_sql(f"DROP INDEX {index.name}")


def query_row(
    db: Database, query: DashboardQuery, timing: Timing, floor: Timing, suffix: str = ""
) -> dict[str, Any]:
    goal = ""
    if query.dashboard:
        goal = "met" if timing.median_ms <= GOAL_QUERY_MS else "MISSED"
    return {
        "backend": db.backend,
        "tickets": db.tickets,
        "query": query.name + suffix,
        "rows": timing.rows,
        "best_ms": timing.best_ms,
        "median_ms": timing.median_ms,
        "x_floor": f"{timing.median_ms / floor.median_ms:.1f}",
        "goal": goal,
    }


# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="10³ and 10⁶ tickets, longer rounds")
    parser.add_argument("--sizes", help="ticket counts, comma-separated (default 1000,100000)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, help="interleaved ingest rounds")
    parser.add_argument("--threads", type=int, default=8, help="ingest load threads")
    parser.add_argument(
        "--http",
        action=argparse.BooleanOptionalAction,
        help="measure ingest through the HTTP endpoint too (the default with --full)",
    )
    parser.add_argument(
        "--sqlite-statistics",
        action="store_true",
        help="ANALYZE the SQLite databases (Deskhand does not), to see the plans it would get",
    )
    parser.add_argument(
        "--proposals",
        action="store_true",
        help="measure the proposed indexes at every size (else at the largest, and on a miss)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the sweep's complaints about seeded threads
    if args.sizes:
        sizes = tuple(sorted(int(size) for size in args.sizes.split(",")))
    else:
        sizes = FULL_SIZES if args.full else QUICK_SIZES
    backends = tuple(args.backends.split(","))
    rounds = args.rounds or (6 if args.full else 5)
    seconds = {
        "http": 4.0 if (args.full if args.http is None else args.http) else 0.0,
        "store": 2.0 if args.full else 1.5,
    }
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    clock = [time.perf_counter()]
    queries = QueryResults()
    with databases(backends, sizes, now, sqlite_statistics=args.sqlite_statistics) as dbs:
        clock.append(time.perf_counter())
        figures = measure_ingest(dbs, rounds, seconds, args.threads)
        clock.append(time.perf_counter())
        for db in dbs:
            if db.tickets:
                every = args.proposals or db.tickets == sizes[-1]
                measure_queries(db, now, queries, proposals=every)
        clock.append(time.perf_counter())
    largest, smallest = sizes[-1], sizes[0]
    phases = ", ".join(
        f"{name} {end - start:.0f} s"
        for name, start, end in zip(("seed", "ingest", "queries"), clock, clock[1:], strict=False)
    )
    seeding = "; ".join(
        f"{db.tickets:,} tickets ({db.rows:,} rows): {db.seconds_to_seed:.0f} s"
        for db in dbs
        if db.tickets and db.backend == backends[0]
    )
    shared = {
        "sizes": ", ".join(f"{size:,}" for size in sizes),
        "seeding": seeding + " (both databases; generated once)",
        "sqlite statistics": "ANALYZEd" if args.sqlite_statistics else "none, as Deskhand runs",
    }
    shared["phases"] = phases + f"; {time.perf_counter() - clock[0]:.0f} s in all"
    ingest = ingest_rows(dbs, figures, smallest)
    report(
        "scale_ingest",
        ingest,
        {
            **shared,
            "measures": "; ".join(
                f"{name}: {what} ({seconds[name]:g} s a round)"
                for name, what in (
                    ("store", "Inbox.store alone"),
                    ("http", "signed Slack events into Deskhand's endpoint, workers running"),
                )
                if seconds[name]
            )
            + f"; {args.threads} threads; {rounds} interleaved rounds; medians",
            "floor": "the same measure on a migrated database with no tickets (vs_empty)",
            "goal": f"ingest at {largest:,} >= {GOAL_INGEST_RATIO:.0%} of ingest at "
            f"{smallest:,}: " + ingest_verdict(ingest, largest, smallest),
        },
    )
    differ = [
        f"{name} at {size:,}" for (size, name), seen in queries.answers.items() if len(seen) > 1
    ]
    report(
        "scale_queries",
        queries.rows,
        {
            **shared,
            "floor": "SELECT count(*) FROM tickets on the same database; x_floor: median/floor's",
            "answers": (
                "DIFFER between the backends: " + ", ".join(differ)
                if differ
                else "the same on every backend, at every size"
            ),
            "proposed indexes": "; ".join(f"{i.ddl} ({i.why})" for i in PROPOSED_INDEXES),
            "goal": query_verdict(queries.rows, largest),
            "plans": f"{write_plans(queries.plans)} (queries over the goal, and with proposals)",
        },
    )


def write_plans(plans: dict[str, str]) -> str:
    """The databases' plans, beside the results; where they went, for the notes."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "scale_plans.json"
    path.write_text(json.dumps(plans, indent=2))
    return f"{path.parent.name}/{path.name}"


def ingest_verdict(rows: list[dict[str, Any]], largest: int, smallest: int) -> str:
    verdicts = [
        f"{row['backend']} {row['measure']} {row[f'vs_{smallest}']} "
        + ("(met)" if float(row[f"vs_{smallest}"]) >= GOAL_INGEST_RATIO else "(MISSED)")
        for row in rows
        if row["tickets"] == largest
    ]
    return "; ".join(verdicts)


def query_verdict(rows: list[dict[str, Any]], largest: int) -> str:
    plain = [row for row in rows if row["tickets"] == largest and row["goal"]]
    missed = [
        f"{row['backend']} {row['query']} ({row['median_ms']:.0f} ms)"
        for row in plain
        if row["goal"] == "MISSED"
    ]
    scope = f"every dashboard query <= {GOAL_QUERY_MS:.0f} ms (median) at {largest:,}"
    if largest < 1_000_000:
        scope += " (the goal is set at 10^6)"
    return scope + (": MISSED by " + "; ".join(missed) if missed else ": met")


if __name__ == "__main__":
    main()
