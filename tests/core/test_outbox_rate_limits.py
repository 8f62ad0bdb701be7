"""The outbox relay under 429s and pacing: who waits, for how long, and when it gives up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from deskhand.outbox import OutboxRelay, OutboxTask, RowNote
from deskhand.ports import PacedError, RateLimitedError
from tests.core.outbox_harness import (
    Clock,
    FakeService,
    add_row,
    new_ticket,
    relay_for,
    rows,
    run_until_idle,
)

# The fixture, imported under its own name so pytest finds it here.
from tests.core.outbox_harness import clock as clock


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
