"""The outbox relay through outages, refusals and unknown outcomes, and its dead letters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import Engine

from deskhand.outbox import REPORT_DEAD_LETTER, SYNC_FAILED, OutboxTask
from deskhand.ports import RateLimitedError, RejectedError, UnavailableError, UnknownOutcomeError
from tests.core.outbox_harness import (
    Clock,
    FakeService,
    add_row,
    new_ticket,
    relay_for,
    rows,
    run_until_idle,
    timeline,
)

# The fixture, imported under its own name so pytest finds it here.
from tests.core.outbox_harness import clock as clock


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
