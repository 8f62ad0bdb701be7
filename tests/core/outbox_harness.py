"""The outbox relay's test harness: a clock the tests move, a fake service, row helpers.

The service fails as a test tells it and remembers every call.

Time is the relay's clock, moved by the tests: a wait is checked by where the clock is when a
row runs again, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.outbox import OutboxRelay, OutboxTask, enqueue
from storage.engine import writing
from storage.models import OutboxRow, TimelineEvent
from storage.types import utcnow
from tests.rows import add_ticket

Failure = Callable[[OutboxTask, datetime], Exception | None]


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: utcnow() + timedelta(seconds=1))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Call:
    action: str
    ticket_id: int | None
    step: int
    at: datetime
    maybe_done: bool
    attempts: int
    error: Exception | None


@dataclass
class FakeService:
    """An executor that fails as ``failure`` says, and remembers every call."""

    clock: Clock
    failure: Failure = lambda task, now: None
    calls: list[Call] = field(default_factory=list)

    def __call__(self, task: OutboxTask) -> dict[str, Any]:
        error = self.failure(task, self.clock())
        self.calls.append(
            Call(
                task.action,
                task.ticket_id,
                int(task.payload.get("step", 0)),
                self.clock(),
                task.maybe_done,
                task.attempts,
                error,
            )
        )
        if error is not None:
            raise error
        return {"step": task.payload.get("step")}

    def done(self, action: str | None = None) -> list[tuple[int | None, int]]:
        return [
            (c.ticket_id, c.step)
            for c in self.calls
            if c.error is None and (action is None or c.action == action)
        ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def new_ticket(engine: Engine, number: int) -> int:
    with writing(engine) as session:
        return add_ticket(session, number).id


def add_row(engine: Engine, ticket_id: int | None, target: str, action: str, step: int) -> None:
    with writing(engine) as session:
        enqueue(
            session,
            ticket_id=ticket_id,
            target=target,
            action=action,
            payload={"ticket_id": ticket_id, "step": step},
            key=f"{ticket_id}:{target}:{action}:{step}",
        )


def rows(engine: Engine, **where: Any) -> list[OutboxRow]:
    with Session(engine) as session:
        query = select(OutboxRow).filter_by(**where).order_by(OutboxRow.id)
        return list(session.scalars(query))


def timeline(engine: Engine) -> list[TimelineEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(TimelineEvent).order_by(TimelineEvent.id)))


def run_until_idle(relay: OutboxRelay, clock: Clock, *, limit: int = 5000) -> None:
    """Run the relay; whenever nothing is due, move the clock to when something is."""
    for _ in range(limit):
        while relay.run_once():
            pass
        waiting = [row for row in rows(relay.engine) if row.status == "pending"]
        if not waiting:
            return
        # Only the first waiting row of each ticket and target can be next.
        heads: dict[tuple[int | None, str], OutboxRow] = {}
        for row in waiting:
            heads.setdefault((row.ticket_id, row.target), row)
        due = min(
            max(row.next_attempt_at, relay.paused_until(row.target, row.action) or clock())
            for row in heads.values()
        )
        clock.now = max(clock.now, due)
    raise AssertionError("the relay never became idle")


def relay_for(
    engine: Engine, clock: Clock, executors: dict[str, FakeService], **options: Any
) -> OutboxRelay:
    return OutboxRelay(engine, executors, owner="test", clock=clock, **options)
