"""The dashboard's queries, written against the real schema: the specification the reports
will implement, timed by ``bench.scale`` on SQLite and PostgreSQL at 10³ to 10⁶ tickets.

Every query takes the report's "now" as a bound parameter (never the database's clock), so
the same data gives the same answer on both databases; ``bench.scale`` checks that it does.
Percentiles are nearest-rank (PostgreSQL's ``percentile_disc``; on SQLite, which has no
percentile aggregate, the first value whose ``cume_dist()`` reaches the fraction, which is the
same value). Durations are whole seconds.

Where a query is too slow on the schema as migrated, :data:`PROPOSED_INDEXES` holds the index
that would fix it; the benchmark measures with those created ad hoc, labelled as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import SQLColumnExpression

from deskhand.domain import TicketStatus
from deskhand.sweep import changeable_tickets
from storage.models import Ticket, TimelineEvent

Query = Select[*tuple[Any, ...]]
FIRST_RESPONSE_SLA = timedelta(hours=4)
RESOLUTION_SLA = timedelta(days=3)
LIVE = tuple(status.value for status in TicketStatus if not status.is_done)


def seconds_between(
    dialect: str, later: SQLColumnExpression[Any], earlier: SQLColumnExpression[Any]
) -> ColumnElement[int]:
    """Whole seconds from ``earlier`` to ``later``."""
    if dialect == "postgresql":
        return cast(func.round(extract("epoch", later - earlier)), Integer)
    # SQLite stores UTC text; julianday() reads it as days (a double, exact to a millisecond).
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400), Integer)


def _constant(sql: str) -> ColumnElement[Any]:
    """A constant written into the SQL rather than bound: GROUP BY must repeat a grouped
    expression exactly, and PostgreSQL does not match two expressions whose parameters
    differ."""
    return literal_column(sql)


def _recent(dialect: str, name: str, query: Query) -> CTE:
    """``query`` (the rows of the report's window) as a CTE that the report aggregates.

    On SQLite it is MATERIALIZED: otherwise SQLite's planner may (with ANALYZE statistics, it
    does) read every ticket in team order through ``ix_tickets_team_status`` to save the sort
    for ``GROUP BY team``, rather than the window's few weeks through the index on its column;
    at 10⁶ tickets that was about a second instead of a seventh. PostgreSQL plans well either
    way, and inlines the CTE."""
    recent = query.cte(name)
    return recent.prefix_with("MATERIALIZED", dialect="sqlite") if dialect == "sqlite" else recent


def _percentiles(dialect: str, recent: CTE, fractions: tuple[float, ...] = (0.5, 0.9)) -> Query:
    """Per ``recent.c.team``: the count and the nearest-rank percentiles of
    ``recent.c.seconds``."""

    def name(fraction: float) -> str:
        return f"p{round(fraction * 100)}_s"

    if dialect == "postgresql":
        return (
            select(
                recent.c.team,
                func.count().label("tickets"),
                *(
                    func.percentile_disc(fraction)
                    .within_group(recent.c.seconds)
                    .label(name(fraction))
                    for fraction in fractions
                ),
            )
            .group_by(recent.c.team)
            .order_by(recent.c.team)
        )
    ranked = select(
        recent.c.team,
        recent.c.seconds,
        func.cume_dist().over(partition_by=recent.c.team, order_by=recent.c.seconds).label("rank"),
    ).subquery("ranked")
    return (
        select(
            ranked.c.team,
            func.count().label("tickets"),
            *(
                func.min(case((ranked.c.rank >= fraction, ranked.c.seconds))).label(name(fraction))
                for fraction in fractions
            ),
        )
        .group_by(ranked.c.team)
        .order_by(ranked.c.team)
    )


def volume_by_week(dialect: str, now: datetime) -> Query:
    """Tickets created per week (UTC, starting Monday, as YYYY-MM-DD), team, service and level
    over the last 90 days.

    Counted per the cheapest bucket first and labelled after: formatting a quarter of a
    million rows and sorting them by the text costs more than the counting."""
    if dialect == "postgresql":
        bucket = func.date_trunc(
            _constant("'week'"), func.timezone(_constant("'UTC'"), Ticket.created_at)
        )
    else:  # the day, from the stored UTC text; the days are gathered into weeks outside
        bucket = func.substr(Ticket.created_at, 1, 10)
    counted = (
        select(
            bucket.label("bucket"),
            Ticket.team,
            Ticket.service,
            Ticket.level,
            func.count().label("n"),
        )
        .where(Ticket.created_at >= now - timedelta(days=90))
        .group_by(bucket, Ticket.team, Ticket.service, Ticket.level)
        .subquery("counted")
    )
    if dialect == "postgresql":
        week = func.to_char(counted.c.bucket, _constant("'YYYY-MM-DD'"))
    else:  # date(day, '-6 days', 'weekday 1'): back six days, then on to the next Monday
        week = func.date(counted.c.bucket, _constant("'-6 days'"), _constant("'weekday 1'"))
    labelled = week.label("week")
    columns = (counted.c.team, counted.c.service, counted.c.level)
    return (
        select(labelled, *columns, cast(func.sum(counted.c.n), Integer).label("tickets"))
        .group_by(labelled, *columns)
        .order_by(labelled, *columns)
    )


def first_response_times(dialect: str, now: datetime) -> Query:
    """Median and p90 time to first response per team, of the tickets created in the last
    30 days that have had one."""
    recent = select(
        Ticket.team,
        seconds_between(dialect, Ticket.first_response_at, Ticket.created_at).label("seconds"),
    ).where(Ticket.created_at >= now - timedelta(days=30), Ticket.first_response_at.is_not(None))
    return _percentiles(dialect, _recent(dialect, "recent", recent))


def resolution_times(dialect: str, now: datetime) -> Query:
    """Median and p90 time to resolution per team, of the tickets resolved in the last 30 days.

    Resolved in the window, not created in it: counting by creation would leave out the slow
    tickets that are still open and flatter the figure."""
    recent = select(
        Ticket.team,
        seconds_between(dialect, Ticket.resolved_at, Ticket.created_at).label("seconds"),
    ).where(Ticket.resolved_at >= now - timedelta(days=30))
    return _percentiles(dialect, _recent(dialect, "recent", recent))


def open_by_status(dialect: str, now: datetime) -> Query:
    """Tickets not yet resolved, per team and status."""
    return (
        select(Ticket.team, Ticket.status, func.count().label("tickets"))
        .where(Ticket.status.in_(LIVE))
        .group_by(Ticket.team, Ticket.status)
        .order_by(Ticket.team, Ticket.status)
    )


def sla_breaches(dialect: str, now: datetime) -> Query:
    """Per team, of the tickets created in the last 30 days: how many were answered later than
    4 h (or are still waiting at 4 h, or were closed unanswered after 4 h), and how many were
    resolved later than 3 days (or are still open at 3 days)."""
    moment = literal(now, Ticket.created_at.type)
    answered = func.coalesce(Ticket.first_response_at, Ticket.resolved_at, moment)
    resolved = func.coalesce(Ticket.resolved_at, moment)
    recent = _recent(
        dialect,
        "recent",
        select(
            Ticket.team,
            seconds_between(dialect, answered, Ticket.created_at).label("response_s"),
            seconds_between(dialect, resolved, Ticket.created_at).label("resolution_s"),
        ).where(Ticket.created_at >= now - timedelta(days=30)),
    )

    def count_over(seconds: ColumnElement[int], limit: timedelta) -> ColumnElement[int]:
        return func.sum(case((seconds > limit.total_seconds(), 1), else_=0))

    return (
        select(
            recent.c.team,
            func.count().label("tickets"),
            count_over(recent.c.response_s, FIRST_RESPONSE_SLA).label("response_breaches"),
            count_over(recent.c.resolution_s, RESOLUTION_SLA).label("resolution_breaches"),
        )
        .group_by(recent.c.team)
        .order_by(recent.c.team)
    )


def backlog_age(dialect: str, now: datetime) -> Query:
    """Per team, the unresolved tickets by age: under a day, 1-3 days, 3-7 days, older; and
    the oldest."""

    def older(days: int) -> ColumnElement[bool]:
        return Ticket.created_at < now - timedelta(days=days)

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    return (
        select(
            Ticket.team,
            func.count().label("tickets"),
            count_if(~older(1)).label("under_1d"),
            count_if(and_(older(1), ~older(3))).label("d1_3"),
            count_if(and_(older(3), ~older(7))).label("d3_7"),
            count_if(older(7)).label("over_7d"),
            func.min(Ticket.created_at).label("oldest"),
        )
        .where(Ticket.status.in_(LIVE))
        .group_by(Ticket.team)
        .order_by(Ticket.team)
    )


def csat_by_team(dialect: str, now: datetime) -> Query:
    """Per team, the ratings of tickets resolved in the last 30 days: count and mean."""
    recent = _recent(
        dialect,
        "rated",
        select(Ticket.team, Ticket.csat_score).where(
            Ticket.resolved_at >= now - timedelta(days=30), Ticket.csat_score.is_not(None)
        ),
    )
    return (
        select(
            recent.c.team,
            func.count().label("ratings"),
            func.round(func.avg(recent.c.csat_score), 2).label("mean"),
        )
        .group_by(recent.c.team)
        .order_by(recent.c.team)
    )


def escalations(dialect: str, now: datetime) -> Query:
    """Moves between support levels in the last 30 days, per team and level reached (from the
    timeline, the reports' source for anything that is not a ticket column)."""
    moves = (
        select(Ticket.team, TimelineEvent.data["to"].as_integer().label("level"))
        .select_from(TimelineEvent)
        .join(Ticket, Ticket.id == TimelineEvent.ticket_id)
        .where(TimelineEvent.kind == "level_changed", TimelineEvent.at >= now - timedelta(days=30))
        .subquery("moves")
    )  # grouped outside: the JSON path is a bound parameter, which GROUP BY cannot repeat
    return (
        select(moves.c.team, moves.c.level, func.count().label("moves"))
        .group_by(moves.c.team, moves.c.level)
        .order_by(moves.c.team, moves.c.level)
    )


def ticket_count(dialect: str, now: datetime) -> Query:
    """The floor: every ticket counted, a full scan of the table (or its smallest index)."""
    return select(func.count()).select_from(Ticket)


def sweep_threads(dialect: str, now: datetime) -> Query:
    """Not a dashboard query: the thread sweep's selection (``deskhand.sweep``, every minute)
    of the tickets a late reply can still change: live, or done within the last 7 days. The
    sweep's own statement, read through a subquery to be a plain ``SELECT`` like the others."""
    changeable = changeable_tickets(now - timedelta(days=7)).subquery("changeable")
    return select(*changeable.c)


QueryBuilder = Callable[[str, datetime], Query]


@dataclass(frozen=True)
class DashboardQuery:
    name: str
    build: QueryBuilder
    dashboard: bool = True
    """False for the floor and for background queries: outside the 300 ms goal."""


QUERIES = (
    DashboardQuery("volume/week/team/service/level 90d", volume_by_week),
    DashboardQuery("first response p50/p90 per team 30d", first_response_times),
    DashboardQuery("resolution p50/p90 per team 30d", resolution_times),
    DashboardQuery("open per team and status", open_by_status),
    DashboardQuery("SLA breaches per team 30d", sla_breaches),
    DashboardQuery("backlog age per team", backlog_age),
    DashboardQuery("CSAT per team 30d", csat_by_team),
    DashboardQuery("escalations per team 30d", escalations),
    DashboardQuery("(sweep) live threads", sweep_threads, dashboard=False),
)
FLOOR = DashboardQuery("floor: count(*) tickets", ticket_count, dashboard=False)


@dataclass(frozen=True)
class ProposedIndex:
    name: str
    ddl: str
    """Plain SQL that both SQLite and PostgreSQL accept."""
    helps: tuple[str, ...]
    """The names of the queries it is for."""
    why: str


PROPOSED_INDEXES = (
    ProposedIndex(
        "ix_tickets_created_at_team_service_level",
        "CREATE INDEX ix_tickets_created_at_team_service_level "
        "ON tickets (created_at, team, service, level)",
        ("volume/week/team/service/level 90d",),
        "covers the 90-day volume report: an index-only range scan, no table rows read",
    ),
)
"""(``ix_tickets_resolved_at``, proposed here first, is in the schema since migration 0003.)"""
