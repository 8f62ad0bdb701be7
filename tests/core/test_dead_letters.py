"""Dead letters replayed (by an agent's press or the command line) once, recorded on the
timeline, and read back for ``deskhand sync status``; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.listeners.dead_letters import RETRY_ACTION, retry_pressed
from deskhand.config import Config, parse_config
from deskhand.dead_letter_reports import posted_report
from deskhand.dead_letters import (
    SYNC_RETRIED,
    DeadLetterRetries,
    DeadLetterRetryPressed,
    UnknownRowsError,
    dead_letter_ids,
    find_ticket_id,
    last_retry,
    overview,
    retry,
    sync_log,
)
from deskhand.domain import Origin
from deskhand.notices import Notices
from deskhand.outbox import (
    REPORT_DEAD_LETTER,
    REPORT_RETRIED,
    REPORT_WENT_THROUGH,
    OutboxRelay,
    OutboxTask,
    RowNote,
    enqueue,
)
from deskhand.ports import RejectedError, UnknownOutcomeError
from deskhand.tickets.timeline import record
from storage.engine import make_engine, writing
from storage.models import OutboxRow, TimelineEvent
from storage.types import utcnow
from tests.rows import add_ticket

CONFIG = """\
teams:
  - {name: IT, key_prefix: IT, triage_channel: it-triage}
"""
AGENT, STRANGER = "U0AGENT", "U0STRANGER"


@dataclass
class Agents:
    members: set[tuple[str, str]] = field(default_factory=lambda: {(AGENT, "IT")})

    def is_agent(self, user: str, team: str | None = None) -> bool:
        return any(u == user and (team is None or t == team) for u, t in self.members)


@dataclass
class Jira:
    """Fails with an unknown outcome, then refuses, until it is fixed."""

    fixed: bool = False
    calls: list[OutboxTask] = field(default_factory=list)

    def __call__(self, task: OutboxTask) -> dict[str, Any]:
        self.calls.append(task)
        if self.fixed:
            return {"key": "IT-100"}
        if len(self.calls) == 1:
            raise UnknownOutcomeError("timed out waiting for Jira")
        raise RejectedError("400", "<!channel> summary is required")


@dataclass
class Slack:
    """Posts reports and their updates (as far as the outbox can tell)."""

    reports: list[OutboxTask] = field(default_factory=list)
    updates: list[OutboxTask] = field(default_factory=list)
    went_through: list[OutboxTask] = field(default_factory=list)

    def report(self, task: OutboxTask) -> dict[str, Any]:
        self.reports.append(task)
        return {"channel": "C0TRIAGE", "ts": f"100.{task.id}", "thread_ts": None}

    def update(self, task: OutboxTask) -> dict[str, Any]:
        self.updates.append(task)
        return {"updated": True}

    def mark_went_through(self, task: OutboxTask) -> dict[str, Any]:
        self.went_through.append(task)
        return {"updated": True}


@dataclass
class World:
    engine: Engine
    relay: OutboxRelay
    jira: Jira
    slack: Slack
    ticket_id: int
    dead_id: int

    def drain(self) -> None:
        """Run the relay until nothing is due (retries here wait no time at all)."""
        while self.relay.run_once():
            pass


def new_ticket(engine: Engine) -> int:
    with writing(engine) as session:
        ticket = add_ticket(session, title="VPN is down")
        record(session, ticket.id, actor="U0REQUEST", kind="created", origin=Origin.SLACK, data={})
        enqueue(
            session,
            ticket_id=ticket.id,
            target="jira",
            action="create_jira_issue",
            payload={"ticket_id": ticket.id},
            key=f"ticket:{ticket.id}:jira:create",
        )
        return ticket.id


@pytest.fixture
def world(migrated_engine: Engine) -> World:
    """A ticket whose Jira create is a dead letter, reported in Slack."""
    ticket_id = new_ticket(migrated_engine)
    jira, slack = Jira(), Slack()
    relay = OutboxRelay(
        migrated_engine,
        {
            "create_jira_issue": jira,
            REPORT_DEAD_LETTER: slack.report,
            REPORT_RETRIED: slack.update,
            REPORT_WENT_THROUGH: slack.mark_went_through,
        },
        owner="test",
        retry_delay=lambda attempts: timedelta(0),
    )
    world = World(migrated_engine, relay, jira, slack, ticket_id, dead_id=0)
    world.drain()
    [dead] = rows(migrated_engine, status="dead")
    world.dead_id = dead.id
    assert len(slack.reports) == 1
    return world


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG)


def rows(engine: Engine, **where: Any) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxRow).filter_by(**where).order_by(OutboxRow.id)))


def events(engine: Engine, kind: str | None = None) -> list[TimelineEvent]:
    query = select(TimelineEvent).order_by(TimelineEvent.id)
    if kind is not None:
        query = query.where(TimelineEvent.kind == kind)
    with Session(engine) as session:
        return list(session.scalars(query))


def snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    """Everything a retry could change: every outbox row and the timeline."""
    outbox = [
        (r.id, r.action, r.status, r.attempts, r.next_attempt_at, r.last_error)
        for r in rows(engine)
    ]
    return [*outbox, *((e.id, e.kind) for e in events(engine))]


# replaying --------------------------------------------------------------------------------------


def test_a_retry_gives_the_dead_letter_one_more_round_and_says_so(world: World) -> None:
    [before] = rows(world.engine, id=world.dead_id)
    assert before.attempts == 2
    assert RowNote.parse(before.last_error).outcome_unknown

    [outcome] = retry(world.engine, [world.dead_id], actor=AGENT, origin=Origin.SLACK)

    assert outcome.retried
    assert (outcome.ticket_key, outcome.action, outcome.target) == (
        "IT-1",
        "create_jira_issue",
        "jira",
    )
    [row] = rows(world.engine, id=world.dead_id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at <= utcnow()
    # The replay still knows the first attempt may have created the issue.
    assert RowNote.parse(row.last_error).outcome_unknown
    [event] = events(world.engine, SYNC_RETRIED)
    assert (event.ticket_id, event.actor, event.origin) == (world.ticket_id, AGENT, "slack")
    assert event.data["row_id"] == world.dead_id
    assert event.data["attempts"] == 2
    [report] = rows(world.engine, action=REPORT_DEAD_LETTER)
    [update] = rows(world.engine, action=REPORT_RETRIED)
    assert update.payload["report_row_id"] == report.id
    assert (update.payload["actor"], update.payload["origin"]) == (AGENT, "slack")
    assert update.payload["at"] == event.at.isoformat()
    retried = last_retry(world.engine, world.ticket_id, world.dead_id)
    assert retried is not None
    assert (retried.actor, retried.origin, retried.at) == (AGENT, "slack", event.at)

    world.jira.fixed = True
    world.drain()
    assert [row.status for row in rows(world.engine, id=world.dead_id)] == ["done"]
    last = world.jira.calls[-1]
    assert (last.attempts, last.maybe_done) == (1, True)
    assert len(world.jira.calls) == 3
    [told] = world.slack.updates
    assert told.payload["report_row_id"] == report.id
    # It went through: the report is asked to say so, once.
    [through] = world.slack.went_through
    [done] = rows(world.engine, id=world.dead_id)
    assert done.done_at is not None
    assert through.payload == {
        "ticket_id": world.ticket_id,
        "row_id": world.dead_id,
        "done_at": done.done_at.isoformat(),
    }
    assert [r.status for r in rows(world.engine, action=REPORT_WENT_THROUGH)] == ["done"]


def test_a_second_retry_of_the_same_row_changes_nothing(world: World) -> None:
    retry(world.engine, [world.dead_id], actor=AGENT, origin=Origin.SLACK)
    before = snapshot(world.engine)
    [again] = retry(world.engine, [world.dead_id], actor="cli", origin=Origin.CLI)
    assert not again.retried
    assert again.status == "pending"
    assert snapshot(world.engine) == before


def test_an_unknown_row_is_refused_and_nothing_changes(world: World) -> None:
    before = snapshot(world.engine)
    with pytest.raises(UnknownRowsError) as refused:
        retry(world.engine, [world.dead_id, 999_999], actor="cli", origin=Origin.CLI)
    assert refused.value.row_ids == [999_999]
    assert "999999" in str(refused.value)
    assert snapshot(world.engine) == before


def test_two_presses_at_once_replay_the_row_once(world: World, database_url: str) -> None:
    start = threading.Barrier(2)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def press(actor: str) -> None:
        engine = make_engine(database_url)
        try:
            start.wait()
            [outcome] = retry(engine, [world.dead_id], actor=actor, origin=Origin.SLACK)
            outcomes.append(outcome.retried)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=press, args=(f"U0AGENT{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(outcomes) == [False, True]
    assert len(events(world.engine, SYNC_RETRIED)) == 1
    assert len(rows(world.engine, action=REPORT_RETRIED)) == 1


def test_only_a_reported_dead_letter_that_goes_through_asks_for_its_report_update(
    world: World,
) -> None:
    """A row that failed before but never died has no report to update."""
    calls: list[OutboxTask] = []

    def flaky(task: OutboxTask) -> dict[str, Any]:
        calls.append(task)
        if len(calls) == 1:
            raise RuntimeError("connection reset")
        return {}

    world.relay.executors["flaky"] = flaky
    with writing(world.engine) as session:
        enqueue(
            session,
            ticket_id=world.ticket_id,
            target="jira",
            action="flaky",
            payload={},
            key="test:flaky",
        )
    world.drain()
    assert len(calls) == 2
    assert [r.status for r in rows(world.engine, action="flaky")] == ["done"]
    assert rows(world.engine, action=REPORT_WENT_THROUGH) == []


def test_a_retried_report_row_that_goes_through_asks_for_nothing_more(world: World) -> None:
    """Reports are never reported on: a dead report row, retried, just goes through."""

    def refused(task: OutboxTask) -> dict[str, Any]:
        raise RejectedError("channel_not_found")

    world.relay.executors[REPORT_DEAD_LETTER] = refused
    retry(world.engine, [world.dead_id], actor=AGENT, origin=Origin.SLACK)
    world.drain()  # Jira refuses again; this time its report dies too
    dead = [r for r in rows(world.engine, status="dead") if r.action == REPORT_DEAD_LETTER]
    assert len(dead) == 1

    world.relay.executors[REPORT_DEAD_LETTER] = world.slack.report
    retry(world.engine, [dead[0].id], actor="cli", origin=Origin.CLI)
    world.drain()
    assert rows(world.engine, id=dead[0].id)[0].status == "done"
    assert rows(world.engine, action=REPORT_WENT_THROUGH) == []


# the Retry button -------------------------------------------------------------------------------


def press(world: World, user: str, ref: str) -> dict[str, Any]:
    return DeadLetterRetryPressed(
        user=user, row_id=world.dead_id, channel="C0TRIAGE", ref=ref
    ).payload()


def ephemerals(engine: Engine) -> list[dict[str, Any]]:
    return [row.payload for row in rows(engine, action="ephemeral")]


def test_only_an_agent_of_the_tickets_team_may_retry(world: World, config: Config) -> None:
    agents = Agents(members={(AGENT, "IT"), ("U0HRAGENT", "HR")})
    handler = DeadLetterRetries(world.engine, config, agents, Notices(world.engine))

    for stranger in (STRANGER, "U0HRAGENT"):
        before = snapshot(world.engine)
        handler.handle(press(world, stranger, f"t-{stranger}"))
        refusal = ephemerals(world.engine)[-1]
        assert refusal["user"] == stranger
        assert refusal["channel"] == "C0TRIAGE"
        assert refusal["text"] == (
            "Only agents of IT (members of #it-triage) can retry a sync. Nothing was changed."
        )
        assert [r for r in snapshot(world.engine) if r[1] != "ephemeral"] == [
            r for r in before if r[1] != "ephemeral"
        ]
    assert rows(world.engine, id=world.dead_id)[0].status == "dead"

    handler.handle(press(world, AGENT, "t-agent"))
    assert rows(world.engine, id=world.dead_id)[0].status == "pending"
    assert [e.actor for e in events(world.engine, SYNC_RETRIED)] == [AGENT]

    before = [r for r in snapshot(world.engine) if r[1] != "ephemeral"]
    handler.handle(press(world, AGENT, "t-agent-again"))
    assert [r for r in snapshot(world.engine) if r[1] != "ephemeral"] == before
    assert "already retried" in ephemerals(world.engine)[-1]["text"]


# reading ----------------------------------------------------------------------------------------


def test_the_sync_log_shows_sync_events_and_every_row(world: World) -> None:
    retry(world.engine, [world.dead_id], actor="cli", origin=Origin.CLI)
    log = sync_log(world.engine, world.ticket_id)
    assert (log.key, log.team, log.title, log.jira_key) == ("IT-1", "IT", "VPN is down", None)
    assert [(e.kind, e.actor, e.origin) for e in log.events] == [
        ("sync_failed", "deskhand", "deskhand"),
        ("sync_retried", "cli", "cli"),
    ]  # 'created' is not a sync event
    assert [(r.action, r.target, r.status) for r in log.rows] == [
        ("create_jira_issue", "jira", "pending"),
        (REPORT_DEAD_LETTER, "slack", "done"),
        (REPORT_RETRIED, "slack", "pending"),
    ]
    assert "summary is required" in (log.rows[0].last_error or "")


def test_the_overview_counts_rows_and_lists_every_dead_letter(world: World) -> None:
    summary = overview(world.engine)
    assert summary.counts == {("jira", "dead"): 1, ("slack", "done"): 1}
    [dead] = summary.dead
    assert (dead.id, dead.ticket_key, dead.action, dead.attempts) == (
        world.dead_id,
        "IT-1",
        "create_jira_issue",
        2,
    )
    assert dead_letter_ids(world.engine) == [world.dead_id]
    assert dead_letter_ids(world.engine, ticket_id=world.ticket_id + 1) == []


def test_a_ticket_is_found_by_key_in_any_case_or_by_id(world: World) -> None:
    assert find_ticket_id(world.engine, "IT-1") == world.ticket_id
    assert find_ticket_id(world.engine, " it-1 ") == world.ticket_id
    assert find_ticket_id(world.engine, str(world.ticket_id)) == world.ticket_id
    assert find_ticket_id(world.engine, "IT-2") is None
    assert find_ticket_id(world.engine, "12345") is None


def test_the_posted_report_is_where_its_row_says(world: World) -> None:
    [report] = rows(world.engine, action=REPORT_DEAD_LETTER)
    posted = posted_report(world.engine, world.ticket_id, world.dead_id)
    assert posted is not None
    assert (posted.channel, posted.ts, posted.thread_ts) == ("C0TRIAGE", f"100.{report.id}", None)
    assert posted.details["row_id"] == world.dead_id
    assert posted_report(world.engine, world.ticket_id, report.id) is None  # not a dead letter
    assert posted_report(world.engine, world.ticket_id + 1, world.dead_id) is None


def test_the_report_is_the_message_last_posted_with_the_latest_rounds_details(
    world: World,
) -> None:
    """A report row that posted nothing (here: skipped) leaves the earlier message standing
    as the report; what the latest round said is what an update of it shows."""
    [first] = rows(world.engine, action=REPORT_DEAD_LETTER)
    retry(world.engine, [world.dead_id], actor=AGENT, origin=Origin.SLACK)
    world.relay.executors[REPORT_DEAD_LETTER] = lambda task: {"skipped": "for the test"}
    world.drain()  # Jira refuses again: dead again, and a second report row
    [_, second] = rows(world.engine, action=REPORT_DEAD_LETTER)
    assert second.status == "done"
    posted = posted_report(world.engine, world.ticket_id, world.dead_id)
    assert posted is not None
    assert posted.ts == f"100.{first.id}"
    assert posted.details == second.payload
    assert posted.details != first.payload


# the Slack side: the press ------------------------------------------------------------------


def test_a_press_becomes_the_cores_event() -> None:
    body = {"user": {"id": AGENT}, "channel": {"id": "C0TRIAGE"}, "trigger_id": "T1"}
    event = retry_pressed(body, {"action_id": RETRY_ACTION, "value": "42"})
    assert event == DeadLetterRetryPressed(user=AGENT, row_id=42, channel="C0TRIAGE", ref="T1")
    assert retry_pressed(body, {"action_id": RETRY_ACTION, "value": "42; drop"}) is None
    assert retry_pressed(body, {"action_id": RETRY_ACTION}) is None
