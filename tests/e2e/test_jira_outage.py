"""ACCEPTANCE 8 through the sandbox: Jira answers 503 to everything for ten minutes. The
backlog (new issues, comments) is kept, each row retrying on its own bounded schedule; once
Jira is back it drains in each ticket's order, and nothing is lost or written twice.

Ten minutes pass in seconds: once the work is queued, the relay's clock is moved ahead to
each moment something falls due (``OutboxRelay.clock`` is the relay's idea of now), and the
test waits for the relay to have tried it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.outbox import MAX_ATTEMPTS
from sandbox.faults import Fault, FaultKind
from storage.models import Comment, OutboxRow
from storage.types import utcnow
from tests.e2e.conftest import Running
from tests.e2e.test_jira_sync_out import JIRA_CONFIG
from tests.waiting import DEADLINE

OUTAGE = timedelta(minutes=10)


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def transport() -> str:
    return "socket"


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


class MovedClock:
    """Real time, moved ahead by the test."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.ahead


def jira_rows(running: Running) -> list[OutboxRow]:
    with Session(running.deskhand.tickets.engine) as session:
        query = select(OutboxRow).where(OutboxRow.target == "jira").order_by(OutboxRow.id)
        return list(session.scalars(query))


def wait_for(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def next_try(running: Running, clock: MovedClock) -> None:
    """Move the relay's clock to when its next Jira row may be tried, and wait for the try:
    the first waiting row of each ticket (the others wait behind it), or the end of a pause.
    What is due and how many tries there were come from one reading, so a try the relay makes
    on its own meanwhile counts too."""
    rows = jira_rows(running)
    busy = {row.id for row in rows if row.status == "claimed"}
    if busy:  # a try under way (the relay also looks on its own): that one is the next
        wait_for(
            lambda: not any(r.id in busy and r.status == "claimed" for r in jira_rows(running))
        )
        return
    tried = sum(row.attempts for row in rows)
    heads: dict[int | None, OutboxRow] = {}
    for row in rows:
        if row.status == "pending":
            heads.setdefault(row.ticket_id, row)
    if not heads:
        return  # everything is done
    due = min(row.next_attempt_at for row in heads.values())
    paused = running.deskhand.relay.paused_until("jira")
    when = max(due, paused) if paused is not None else due
    clock.ahead += max(when - clock(), timedelta(0)) + timedelta(milliseconds=1)
    running.deskhand.wake()
    wait_for(lambda: sum(row.attempts for row in jira_rows(running)) > tried)


def test_ten_minutes_of_503_keep_the_backlog_and_drain_it_in_ticket_order(
    running: Running,
) -> None:
    world = running.world
    slack = world.slack.driver
    clock = MovedClock()
    running.deskhand.relay.clock = clock
    world.jira.faults.add("*", Fault(FaultKind.SERVER_ERROR, times=None, status=503))
    started = clock()

    questions = []
    for text in ("VPN is down", "Printer jammed"):
        question = slack.user("alice").post("#help", text)
        slack.user("bob").react(question, "ticket")
        questions.append(question)
    wait_for(lambda: len(running.tickets()) == 2)  # the cards are up: people answer in them
    for question in questions:
        for n in range(2):
            slack.user("alice").reply(question, f"{question.text}, detail {n}")
    wait_for(lambda: running.deskhand.inbox.pending() == 0 and len(jira_rows(running)) == 6)

    while clock() - started < OUTAGE:
        next_try(running, clock)
    wait_for(lambda: all(row.status != "claimed" for row in jira_rows(running)))
    kept = jira_rows(running)
    assert [row.status for row in kept] == ["pending"] * 6  # nothing dropped, nothing dead
    assert max(row.attempts for row in kept) < MAX_ATTEMPTS
    assert world.jira.state.issues == {}
    # Slack was not held back: both cards are in the triage channel.
    assert len(slack.bot_posts("#it-triage")) == 2

    world.jira.faults.clear("*")
    for _ in range(40):
        if all(row.status == "done" for row in jira_rows(running)):
            break
        next_try(running, clock)
    running.settle()

    assert {row.status for row in jira_rows(running)} == {"done"}  # remote links too
    assert len(world.jira.state.issues) == 2
    for question in questions:
        [ticket] = [t for t in running.tickets() if t.origin_ts == question.ts]
        assert ticket.jira_key is not None
        issue = world.jira.state.issue(ticket.jira_key)
        # Each comment once, in the order Deskhand took the replies in (Slack's delivery order).
        with Session(running.deskhand.tickets.engine) as session:
            taken = session.scalars(
                select(Comment.body).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
            ).all()
        assert sorted(taken) == [f"{question.text}, detail 0", f"{question.text}, detail 1"]
        assert [c.body.rsplit("\n", 1)[-1] for c in issue.comments] == list(taken)
