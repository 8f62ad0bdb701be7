"""The outbox relay keeps order per ticket and target, and nothing else waits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from deskhand.ports import UnavailableError
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
