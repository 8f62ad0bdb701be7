"""Scale: ingest rate and dashboard query time with 10³ to 10⁶ tickets, on SQLite and on
PostgreSQL, each beside a floor measured in the same run.

Each database is migrated with the real migrations, then seeded in bulk: tickets spread over
a year across eight teams (services, levels, priorities, statuses that follow each ticket's
age, first responses and resolutions for most, ratings for some), a timeline of a few events
per ticket, comments, and the inbox rows that history leaves behind (all of them, as if the
inbox were never pruned: the worst case). The same seed gives the same data on both
databases, and the benchmark checks that every dashboard query gives the same answer on both.
The data comes from ``bench.scale_seed``, the databases from ``bench.scale_databases``.

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
import hashlib
import json
import logging
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select

from bench.common import RESULTS, percentile, report
from bench.ingest import measure as measure_http
from bench.scale_databases import Database, databases
from bench.scale_queries import FLOOR, PROPOSED_INDEXES, QUERIES, DashboardQuery
from bench.scale_seed import TEAMS
from deskhand.config import Config, parse_config
from deskhand.events import ReactionAdded
from deskhand.inbox import Delivery, Inbox
from deskhand.wiring import Deskhand, build
from sandbox.httpserver import LoopbackServer
from sandbox.world import SandboxWorld

T = TypeVar("T")
QUICK_SIZES = (1_000, 100_000)
FULL_SIZES = (1_000, 1_000_000)
GOAL_QUERY_MS = 300.0
GOAL_INGEST_RATIO = 0.9

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
        with LoopbackServer(deskhand.web_app()) as server:
            result = measure_http(
                server.port,
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
