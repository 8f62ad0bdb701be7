"""The outbox relay's rules, on SQLite and PostgreSQL: order per ticket and target, a per-account
pause on Jira's Retry-After, bounded attempts, and dead letters that are recorded and reported.

Time is the relay's clock, moved by the tests: a wait is checked by where the clock is when a
row runs again, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.outbox import (
    REPORT_DEAD_LETTER,
    SYNC_FAILED,
    OutboxRelay,
    OutboxTask,
    RowNote,
    enqueue,
)
from deskhand.ports import (
    PacedError,
    RateLimitedError,
    RejectedError,
    UnavailableError,
    UnknownOutcomeError,
)
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


# order ------------------------------------------------------------------------------------------


def test_a_tickets_slack_rows_do_not_wait_for_its_jira_rows_and_each_keeps_its_order(
    migrated_engine: Engine, clock: Clock
) -> None:
    ticket = new_ticket(migrated_engine, 1)
    jira = FakeService(clock, lambda task, now: UnavailableError("HTTP 503"))
    slack = FakeService(clock)
    for step in range(3):
        add_row(migrated_engine, ticket, "jira", "jira_write", step)
        add_row(migrated_engine, ticket, "slack", "slack_post", step)
    relay = relay_for(
        migrated_engine,
        clock,
        {"jira_write": jira, "slack_post": slack},
        retry_delay=lambda attempts: timedelta(minutes=1),
    )

    while relay.run_once():
        pass
    # Jira is down: its first row failed and the next two wait behind it; Slack all went out.
    assert slack.done() == [(ticket, 0), (ticket, 1), (ticket, 2)]
    assert [(c.step, c.error is not None) for c in jira.calls] == [(0, True)]

    jira.failure = lambda task, now: None
    run_until_idle(relay, clock)
    assert jira.done() == [(ticket, 0), (ticket, 1), (ticket, 2)]
    assert {row.status for row in rows(migrated_engine)} == {"done"}


def test_rows_of_different_tickets_do_not_wait_for_each_other(
    migrated_engine: Engine, clock: Clock
) -> None:
    first, second = new_ticket(migrated_engine, 1), new_ticket(migrated_engine, 2)
    stuck = FakeService(
        clock, lambda task, now: UnavailableError("x") if task.ticket_id == first else None
    )
    add_row(migrated_engine, first, "slack", "post", 0)
    add_row(migrated_engine, first, "slack", "post", 1)
    add_row(migrated_engine, second, "slack", "post", 0)
    add_row(migrated_engine, second, "slack", "post", 1)
    relay = relay_for(
        migrated_engine, clock, {"post": stuck}, retry_delay=lambda n: timedelta(minutes=5)
    )
    while relay.run_once():
        pass
    assert stuck.done() == [(second, 0), (second, 1)]
    assert [row.status for row in rows(migrated_engine, ticket_id=first)] == ["pending", "pending"]


# rate limits ------------------------------------------------------------------------------------


def test_a_jira_429_pauses_every_jira_row_for_retry_after_while_slack_flows(
    migrated_engine: Engine, clock: Clock
) -> None:
    tickets = [new_ticket(migrated_engine, n) for n in (1, 2, 3)]
    start = clock()
    jira = FakeService(
        clock,
        lambda task, now: RateLimitedError(7, "jira-burst-based") if now == start else None,
    )
    slack = FakeService(clock)
    for ticket in tickets[:2]:
        add_row(migrated_engine, ticket, "jira", "jira_write", 0)
        add_row(migrated_engine, ticket, "slack", "slack_post", 0)
    relay = relay_for(migrated_engine, clock, {"jira_write": jira, "slack_post": slack})

    while relay.run_once():
        pass
    assert len(jira.calls) == 1  # the second Jira row was held back, not tried
    assert sorted(slack.done()) == [(tickets[0], 0), (tickets[1], 0)]
    held = rows(migrated_engine, target="jira")
    assert [row.attempts for row in held] == [0, 0]  # a rate-limited attempt is not counted
    assert all(row.next_attempt_at >= start + timedelta(seconds=7) for row in held)
    assert RowNote.parse(held[0].last_error).rate_limited == 1

    # Another replica, which did not see the 429, finds the held rows not due yet either.
    clock.advance(3)
    replica = OutboxRelay(migrated_engine, {"jira_write": jira}, owner="replica", clock=clock)
    assert replica.run_once() == 0
    # Rows added during the pause wait too; Slack rows keep flowing.
    add_row(migrated_engine, tickets[2], "jira", "jira_write", 0)
    add_row(migrated_engine, tickets[2], "slack", "slack_post", 0)
    clock.advance(3.9)
    while relay.run_once():
        pass
    assert len(jira.calls) == 1
    assert (tickets[2], 0) in slack.done()
    clock.advance(0.1)
    run_until_idle(relay, clock)
    assert jira.done() == [(tickets[0], 0), (tickets[1], 0), (tickets[2], 0)]
    assert min(call.at for call in jira.calls[1:]) >= start + timedelta(seconds=7)


def test_a_slack_429_delays_only_that_row(migrated_engine: Engine, clock: Clock) -> None:
    first, second = new_ticket(migrated_engine, 1), new_ticket(migrated_engine, 2)
    start = clock()
    slack = FakeService(
        clock,
        lambda task, now: (
            RateLimitedError(30) if task.ticket_id == first and now == start else None
        ),
    )
    add_row(migrated_engine, first, "slack", "post", 0)
    add_row(migrated_engine, second, "slack", "post", 0)
    relay = relay_for(migrated_engine, clock, {"post": slack})
    while relay.run_once():
        pass
    assert slack.done() == [(second, 0)]
    assert relay.paused_until("slack") is None
    run_until_idle(relay, clock)
    assert slack.done() == [(second, 0), (first, 0)]
    assert slack.calls[-1].at >= start + timedelta(seconds=30)
    assert slack.calls[-1].attempts == 2  # the executor sees its second try...
    assert rows(migrated_engine, ticket_id=first)[0].attempts == 1  # ...counted as one


def test_a_paced_row_runs_again_when_its_turn_comes_even_under_a_second(
    migrated_engine: Engine, clock: Clock
) -> None:
    first, second = new_ticket(migrated_engine, 1), new_ticket(migrated_engine, 2)
    start = clock()
    slack = FakeService(
        clock,
        lambda task, now: (
            PacedError(0.3, "pacing chat.update", service="slack")
            if task.ticket_id == first and now == start
            else RateLimitedError(0.3, "ratelimited", service="slack")
            if task.ticket_id == second and now == start
            else None
        ),
    )
    add_row(migrated_engine, first, "slack", "update", 0)
    add_row(migrated_engine, second, "slack", "update", 0)
    relay = relay_for(migrated_engine, clock, {"update": slack})
    while relay.run_once():
        pass
    paced, limited = rows(migrated_engine)
    assert paced.next_attempt_at == start + timedelta(seconds=0.3)  # the pacer's time
    assert limited.next_attempt_at == start + timedelta(seconds=1)  # Slack's: a second at least
    clock.advance(0.29)
    assert relay.run_once() == 0
    clock.advance(0.01)
    assert relay.run_once() == 1
    assert slack.done() == [(first, 0)]
    assert rows(migrated_engine, ticket_id=first)[0].attempts == 1  # the wait was not counted
    assert relay.paused_until("slack") is None
    clock.advance(0.7)
    run_until_idle(relay, clock)
    assert slack.done() == [(first, 0), (second, 0)]


def test_only_jiras_own_429_pauses_jira(migrated_engine: Engine, clock: Clock) -> None:
    """A Jira row that meets Slack's limit or its pacing (a name looked up for the comment)
    waits alone; Jira's own 429 (or one whose service is not named) holds every Jira row."""
    tickets = [new_ticket(migrated_engine, n) for n in (1, 2, 3, 4)]
    start = clock()
    errors: dict[int, Exception] = {
        tickets[0]: RateLimitedError(5, "ratelimited", service="slack"),
        tickets[1]: PacedError(0.5, "pacing users.info", service="slack"),
    }
    jira = FakeService(
        clock, lambda task, now: errors.get(task.ticket_id or 0) if now == start else None
    )
    for ticket in tickets[:3]:
        add_row(migrated_engine, ticket, "jira", "jira_write", 0)
    relay = relay_for(migrated_engine, clock, {"jira_write": jira})
    while relay.run_once():
        pass
    assert relay.paused_until("jira") is None
    assert jira.done() == [(tickets[2], 0)]

    errors[tickets[3]] = RateLimitedError(7, "jira-burst-based", service="jira")
    add_row(migrated_engine, tickets[3], "jira", "jira_write", 0)
    while relay.run_once():
        pass
    assert relay.paused_until("jira") == start + timedelta(seconds=7)
    run_until_idle(relay, clock)
    assert sorted(jira.done()) == sorted((ticket, 0) for ticket in tickets)


def test_jiras_burst_limit_holds_only_that_endpoints_rows(
    migrated_engine: Engine, clock: Clock
) -> None:
    """Jira Cloud's burst limit is per endpoint and method: the other rows of that action
    wait its Retry-After, rows of other actions (other endpoints) go on."""
    first, second, other = (new_ticket(migrated_engine, n) for n in (1, 2, 3))
    start = clock()

    def answer(task: OutboxTask, now: datetime) -> Exception | None:
        if task.ticket_id == first and now == start:
            return RateLimitedError(7, "jira-burst-based", service="jira", scope="endpoint")
        return None

    jira = FakeService(clock, answer)
    add_row(migrated_engine, first, "jira", "jira_comment", 0)
    add_row(migrated_engine, second, "jira", "jira_comment", 0)
    add_row(migrated_engine, other, "jira", "jira_field", 0)
    relay = relay_for(migrated_engine, clock, {"jira_comment": jira, "jira_field": jira})
    while relay.run_once():
        pass
    assert relay.paused_until("jira") is None
    assert relay.paused_until("jira", "jira_comment") == start + timedelta(seconds=7)
    assert jira.done() == [(other, 0)]
    run_until_idle(relay, clock)
    assert sorted(jira.done()) == sorted([(first, 0), (second, 0), (other, 0)])
    assert clock() >= start + timedelta(seconds=7)


def test_jiras_write_limit_per_issue_holds_only_that_tickets_rows(
    migrated_engine: Engine, clock: Clock
) -> None:
    """Jira Cloud's write limit is per issue: that ticket's rows wait, nobody else's."""
    busy, quiet = new_ticket(migrated_engine, 1), new_ticket(migrated_engine, 2)
    start = clock()

    def answer(task: OutboxTask, now: datetime) -> Exception | None:
        if task.ticket_id == busy and now == start:
            return RateLimitedError(3, "jira-per-issue-on-write", service="jira", scope="subject")
        return None

    jira = FakeService(clock, answer)
    add_row(migrated_engine, busy, "jira", "jira_comment", 0)
    add_row(migrated_engine, busy, "jira", "jira_comment", 1)
    add_row(migrated_engine, quiet, "jira", "jira_comment", 0)
    relay = relay_for(migrated_engine, clock, {"jira_comment": jira})
    while relay.run_once():
        pass
    assert relay.paused_until("jira", "jira_comment") is None
    assert jira.done() == [(quiet, 0)]
    run_until_idle(relay, clock)
    assert jira.done() == [(quiet, 0), (busy, 0), (busy, 1)]


def test_a_service_that_always_says_429_ends_in_a_dead_letter(
    migrated_engine: Engine, clock: Clock
) -> None:
    ticket = new_ticket(migrated_engine, 1)
    jira = FakeService(clock, lambda task, now: RateLimitedError(60))
    add_row(migrated_engine, ticket, "jira", "jira_write", 0)
    relay = relay_for(
        migrated_engine,
        clock,
        {"jira_write": jira},
        max_attempts=2,
        rate_limit_patience=timedelta(minutes=10),
    )
    run_until_idle(relay, clock)
    [row] = rows(migrated_engine, action="jira_write")
    assert row.status == "dead"
    # Far more 429s than max_attempts, yet bounded: ten minutes of waiting, then one more.
    assert len(jira.calls) == 11
    assert [call.attempts for call in jira.calls] == list(range(1, 12))
    assert row.attempts == 1
    note = RowNote.parse(row.last_error)
    assert (note.rate_limited, note.waited) == (11, 660)


# outages ----------------------------------------------------------------------------------------


def test_a_ten_minute_jira_outage_keeps_the_backlog_and_drains_it_in_ticket_order(
    migrated_engine: Engine, clock: Clock
) -> None:
    start = clock()
    outage_ends = start + timedelta(minutes=10)
    answers = iter(range(10**6))

    def down(task: OutboxTask, now: datetime) -> Exception | None:
        if now >= outage_ends:
            return None
        if next(answers) % 2:
            return UnavailableError("HTTP 503")
        return RateLimitedError(30, "jira-quota-global-based")

    jira, slack = FakeService(clock, down), FakeService(clock)
    tickets = [new_ticket(migrated_engine, n) for n in range(1, 6)]
    for step in range(3):
        for ticket in tickets:
            add_row(migrated_engine, ticket, "jira", "jira_write", step)
            add_row(migrated_engine, ticket, "slack", "slack_post", step)
    relay = relay_for(migrated_engine, clock, {"jira_write": jira, "slack_post": slack})

    run_until_idle(relay, clock)

    assert {row.status for row in rows(migrated_engine)} == {"done"}  # nothing lost
    for ticket in tickets:
        assert [s for t, s in jira.done() if t == ticket] == [0, 1, 2]
    assert all(call.at < start + timedelta(seconds=1) for call in slack.calls)
    failures = [call for call in jira.calls if call.error is not None]
    assert failures
    assert all(call.at < outage_ends for call in failures)
    assert all(row.attempts <= relay.max_attempts for row in rows(migrated_engine))
    # After every 429, no Jira call at all until its Retry-After has passed.
    for call in failures:
        if isinstance(call.error, RateLimitedError):
            later = [c.at for c in jira.calls if c.at > call.at]
            assert min(later) >= call.at + timedelta(seconds=30)
    # While Jira is down it is probed by one row at a time, never by the backlog at once.
    assert len({call.at for call in failures}) == len(failures)


def test_an_outage_longer_than_the_attempts_leaves_dead_letters_that_are_reported(
    migrated_engine: Engine, clock: Clock
) -> None:
    ticket = new_ticket(migrated_engine, 1)
    jira = FakeService(clock, lambda task, now: UnavailableError("HTTP 502 Bad Gateway"))
    add_row(migrated_engine, ticket, "jira", "create_jira_issue", 0)
    relay = relay_for(migrated_engine, clock, {"create_jira_issue": jira}, max_attempts=3)
    for _ in range(10):
        relay.run_once()
        if rows(migrated_engine, action="create_jira_issue")[0].status == "dead":
            break
        clock.advance(600)
    [dead] = rows(migrated_engine, action="create_jira_issue")
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert len(jira.calls) == 3
    [event] = [e for e in timeline(migrated_engine) if e.kind == SYNC_FAILED]
    assert event.ticket_id == ticket
    assert event.data == {
        "row_id": dead.id,
        "action": "create_jira_issue",
        "target": "jira",
        "attempts": 3,
        "error": "HTTP 502 Bad Gateway",
    }
    [report] = rows(migrated_engine, action=REPORT_DEAD_LETTER)
    assert (report.target, report.status, report.ticket_id) == ("slack", "pending", ticket)
    assert report.payload == {"ticket_id": ticket, **event.data}


def test_a_report_that_fails_is_recorded_but_never_reported(
    migrated_engine: Engine, clock: Clock
) -> None:
    ticket = new_ticket(migrated_engine, 1)
    add_row(migrated_engine, ticket, "jira", "jira_write", 0)
    broken_slack = FakeService(clock, lambda task, now: RejectedError("channel_not_found"))
    jira = FakeService(clock, lambda task, now: RejectedError("400", "Field 'x' is invalid"))
    relay = relay_for(
        migrated_engine, clock, {"jira_write": jira, REPORT_DEAD_LETTER: broken_slack}
    )
    run_until_idle(relay, clock)
    statuses = [(row.action, row.status) for row in rows(migrated_engine)]
    assert statuses == [("jira_write", "dead"), (REPORT_DEAD_LETTER, "dead")]
    assert [e.kind for e in timeline(migrated_engine)] == [SYNC_FAILED, SYNC_FAILED]
    assert len(jira.calls) == 1  # rejected: dead at once, no retries
    assert "rejected: 400: Field 'x' is invalid" in (rows(migrated_engine)[0].last_error or "")


def test_a_row_without_a_ticket_or_an_executor_dies_quietly(
    migrated_engine: Engine, clock: Clock
) -> None:
    add_row(migrated_engine, None, "slack", "nobody_does_this", 0)
    relay = relay_for(migrated_engine, clock, {})
    run_until_idle(relay, clock)
    [row] = rows(migrated_engine)
    assert row.status == "dead"
    assert row.last_error == "no executor for nobody_does_this"
    assert timeline(migrated_engine) == []


def test_after_an_unknown_outcome_every_later_attempt_looks_first(
    migrated_engine: Engine, clock: Clock
) -> None:
    ticket = new_ticket(migrated_engine, 1)
    script: Iterator[Exception | None] = iter(
        [UnknownOutcomeError("timed out"), UnavailableError("HTTP 503"), RateLimitedError(5), None]
    )
    jira = FakeService(clock, lambda task, now: next(script))
    add_row(migrated_engine, ticket, "jira", "create_jira_issue", 0)
    relay = relay_for(migrated_engine, clock, {"create_jira_issue": jira})
    run_until_idle(relay, clock)
    assert [call.maybe_done for call in jira.calls] == [False, True, True, True]
    assert [call.attempts for call in jira.calls] == [1, 2, 3, 4]
    assert rows(migrated_engine)[0].attempts == 3
    assert rows(migrated_engine)[0].status == "done"


# the row's note ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        RowNote("HTTP 503"),
        RowNote("timed out: [x] 1 s", outcome_unknown=True),
        RowNote("rate limited for 7 s", rate_limited=3, waited=21),
        RowNote("a\nb", outcome_unknown=True, rate_limited=1, waited=1),
    ],
)
def test_the_row_note_reads_back_what_it_wrote(note: RowNote) -> None:
    assert RowNote.parse(note.text()) == note
    assert RowNote.parse(note.text()).replayed() == RowNote(
        note.error, outcome_unknown=note.outcome_unknown
    )


def test_any_old_error_text_is_a_plain_note() -> None:
    assert RowNote.parse("ConnectionError('[Errno 111]')") == RowNote(
        "ConnectionError('[Errno 111]')"
    )
    assert RowNote.parse(None) == RowNote("")
