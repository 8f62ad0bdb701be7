"""The sweep's ticket query searches indexes, never the whole tickets table, on SQLite too."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session

from deskhand.inbox import Inbox
from deskhand.ports import ChatMessage
from deskhand.sweep import ThreadSweep
from storage.engine import make_engine
from storage.models import Team, Ticket
from storage.types import utcnow

NOW = utcnow()
RECENT, LONG_AGO = NOW - timedelta(days=1), NOW - timedelta(days=90)


class Threads:
    """A chat whose threads are all empty; records which threads were read."""

    def __init__(self) -> None:
        self.read: list[tuple[str, str]] = []

    def thread(self, channel: str, ts: str) -> list[ChatMessage]:
        self.read.append((channel, ts))
        return []


def _ticket(
    n: int, status: str, closed: datetime | None, resolved: datetime | None
) -> dict[str, Any]:
    return {
        "key": f"IT-{n}",
        "team": "IT",
        "requester": "U0ALICE",
        "title": "VPN is down",
        "origin_kind": "reaction",
        "status": status,
        "created_at": LONG_AGO,
        "closed_at": closed,
        "resolved_at": resolved,
        "thread_channel": "C0HELP",
        "thread_ts": f"{n}.000100",
    }


def _fill(engine: Engine) -> set[int]:
    """3000 tickets, nearly all finished long ago; the numbers of those a reply can change."""
    changeable = {
        1: ("open", None, None),
        2: ("in_progress", None, None),
        3: ("waiting_on_requester", None, None),
        4: ("closed", RECENT, LONG_AGO),
        5: ("closed", RECENT, RECENT),  # found by two of the searches: swept once
        6: ("resolved", None, RECENT),
        7: ("open", RECENT, RECENT),  # reopened: found by all three
    }
    rows = [_ticket(n, *changeable[n]) for n in sorted(changeable)]
    rows += [_ticket(n, "closed", LONG_AGO, LONG_AGO) for n in range(100, 2600)]
    rows += [_ticket(n, "resolved", None, LONG_AGO) for n in range(2600, 3093)]
    with Session(engine) as session, session.begin():
        session.add(Team(name="IT", key_prefix="IT", triage_channel="C0TRIAGE"))
        session.flush()
        session.execute(insert(Ticket), rows)
    return set(changeable)


@pytest.mark.parametrize("analyzed", [False, True], ids=["no-statistics", "analyzed"])
def test_sqlite_finds_the_changeable_tickets_by_index_searches(
    sqlite_url: str, analyzed: bool
) -> None:
    """Whether or not ``ANALYZE`` has gathered statistics over many finished tickets (with
    them, SQLite planned the one-``OR`` form as a walk of the whole table)."""
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    changeable = _fill(engine)
    if analyzed:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if "FROM tickets" in sql:
            statements.append((sql, params))

    chat = Threads()
    sweep = ThreadSweep(engine, chat, Inbox(engine), budget_per_run=100, now=lambda: NOW)
    event.listen(engine, "before_cursor_execute", record)
    sweep.run_once()
    event.remove(engine, "before_cursor_execute", record)

    assert sorted(chat.read) == sorted(("C0HELP", f"{n}.000100") for n in changeable)
    [(sql, params)] = statements
    with engine.connect() as connection:
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    engine.dispose()
    assert [step for step in plan if step.startswith("SCAN tickets")] == [], plan
    searches = [step for step in plan if step.startswith("SEARCH tickets USING")]
    for index in ("ix_tickets_status", "ix_tickets_closed_at", "ix_tickets_resolved_at"):
        assert any(f"INDEX {index} " in step for step in searches), plan
