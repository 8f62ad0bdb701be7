"""A dead letter's report follows its row, end to end through the sandbox: a retry that goes
through turns the report into a tick without a button; a retry that dies again updates the
same report (its attempts, error and Retry button) rather than post a second one; a report
someone deleted is posted anew.

On Jira Cloud, SQLite and HTTP only: the report is Slack's side, the same on every Jira,
database and transport (tests/e2e/test_dead_letters.py runs the press on both Jiras).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dead_letter_messages import ACTION_LABELS
from bot.dead_letters import REPORT_EVENT
from bot.listeners.dead_letters import RETRY_ACTION
from deskhand.dead_letters import retry
from deskhand.domain import Origin
from deskhand.outbox import REPORT_DEAD_LETTER, UNREPORTED_ACTIONS
from sandbox.faults import Fault, FaultKind
from sandbox.slack.model import Message
from storage.models import OutboxRow, TimelineEvent
from tests.e2e.conftest import Running
from tests.e2e.test_jira_issue import JIRA_CONFIG

ATTEMPTS = 2
ZONE = "Europe/Berlin"
CONFIG = JIRA_CONFIG.replace(
    "    jira: {project: IT, issue_type: Task}\n",
    f"    jira: {{project: IT, issue_type: Task}}\n    business_hours: {{timezone: {ZONE}}}\n",
)


@pytest.fixture
def config_text() -> str:
    assert "business_hours" in CONFIG
    return CONFIG


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def transport() -> str:
    return "http"


@pytest.fixture
def triage(running: Running) -> Message:
    """IT-1, whose Jira create Jira refuses (503) until told otherwise: settled, its create
    a dead letter, reported in the thread of its triage card (returned)."""
    running.deskhand.relay.max_attempts = ATTEMPTS
    running.deskhand.relay.retry_delay = lambda attempts: timedelta(milliseconds=50)
    jira, slack = running.world.jira, running.world.slack.driver
    jira.faults.add("POST /issue", Fault(FaultKind.SERVER_ERROR, times=None, status=503))
    question = slack.user("alice").post("#help", "VPN is down")
    slack.user("bob").react(question, "ticket")
    running.settle()
    assert create_row(running).status == "dead"
    [card] = [m for m in slack.bot_posts("#it-triage") if m.thread_ts in (None, m.ts)]
    return card


def create_row(running: Running) -> OutboxRow:
    with Session(running.deskhand.tickets.engine) as session:
        row = session.scalar(select(OutboxRow).where(OutboxRow.action == "create_jira_issue"))
    assert row is not None
    return row


def reports(running: Running, triage: Message) -> list[Message]:
    """The bot's dead-letter reports in the triage card's thread."""
    return [
        m
        for m in running.world.slack.driver.thread(triage)
        if (m.metadata or {}).get("event_type") == REPORT_EVENT
    ]


def retry_buttons(report: Message) -> list[str]:
    """The values of the report's Retry buttons."""
    return [
        str(e["value"])
        for b in report.blocks
        for e in b.get("elements", [])
        if e.get("action_id") == RETRY_ACTION
    ]


def failures(running: Running) -> int:
    with Session(running.deskhand.tickets.engine) as session:
        query = select(TimelineEvent).where(TimelineEvent.kind == "sync_failed")
        return len(session.scalars(query).all())


def sync_retry(running: Running, row_id: int) -> None:
    """What ``deskhand sync retry ROW`` does, from outside the running Deskhand."""
    [outcome] = retry(running.deskhand.tickets.engine, [row_id], actor="cli", origin=Origin.CLI)
    assert outcome.retried


def on_team_clock(at: datetime) -> str:
    local = at.astimezone(ZoneInfo(ZONE))
    return f"{local:%H:%M} {local.tzname()}"


def test_a_command_line_retry_that_goes_through_turns_the_report_into_a_tick(
    running: Running, triage: Message
) -> None:
    [report] = reports(running, triage)
    row = create_row(running)
    assert retry_buttons(report) == [str(row.id)]
    assert report.text == "IT-1: creating the Jira issue failed and was set aside"

    running.world.jira.faults.clear("POST /issue")
    sync_retry(running, row.id)
    running.settle()

    row = create_row(running)
    assert row.status == "done"
    assert row.done_at is not None
    [ticket] = running.tickets()
    assert list(running.world.jira.state.issues) == [ticket.jira_key]
    # The same message, edited: through, when (on the team's clock where Slack cannot show
    # each reader's), by the command line, and nothing left to press.
    assert [m.ts for m in reports(running, triage)] == [report.ts]
    assert report.edited is not None
    assert report.text == "IT-1: creating the Jira issue went through on retry"
    [headline] = [b["text"]["text"] for b in report.blocks if b["block_id"] == "dead_letter"]
    assert headline.startswith(":white_check_mark: *IT-1*: creating the Jira issue went through")
    assert f"<!date^{int(row.done_at.timestamp())}^" in headline
    assert f"{on_team_clock(row.done_at)}> (by `deskhand sync retry`)." in headline
    assert retry_buttons(report) == []
    assert "create_jira_issue" not in str(report.blocks)


def test_a_retry_that_dies_again_updates_the_same_report(running: Running, triage: Message) -> None:
    [report] = reports(running, triage)
    row_id = create_row(running).id
    bob = running.world.slack.driver.user("bob")

    # Jira is still down: bob's retry spends its attempts and the row is set aside again.
    bob.click(report, RETRY_ACTION)
    running.settle()
    row = create_row(running)
    assert (row.status, row.attempts) == ("dead", ATTEMPTS)
    assert failures(running) == 2
    with Session(running.deskhand.tickets.engine) as session:
        report_rows = session.scalars(
            select(OutboxRow).where(OutboxRow.action == REPORT_DEAD_LETTER)
        ).all()
    assert [(r.status, (r.result or {}).get("ts")) for r in report_rows] == [
        ("done", report.ts),
        ("done", report.ts),
    ]
    # One report in the thread, updated: again, by bob's retry, the latest error, Retry back.
    assert [m.ts for m in reports(running, triage)] == [report.ts]
    assert report.text == "IT-1: creating the Jira issue failed again and was set aside"
    shown = str(report.blocks)
    assert f"creating the Jira issue failed again after {ATTEMPTS} attempts" in shown
    assert f"Retried by <@{bob.user.id}>" in shown
    assert "HTTP 503" in shown
    assert retry_buttons(report) == [str(row_id)]

    # The button is back, and works: this time Jira answers.
    running.world.jira.faults.clear("POST /issue")
    bob.click(report, RETRY_ACTION)
    running.settle()
    assert create_row(running).status == "done"
    assert [m.ts for m in reports(running, triage)] == [report.ts]
    assert report.text == "IT-1: creating the Jira issue went through on retry"
    assert f"(by <@{bob.user.id}>)." in str(report.blocks)
    assert retry_buttons(report) == []


def test_a_deleted_report_is_posted_anew_when_the_retry_dies_again(
    running: Running, triage: Message
) -> None:
    [first] = reports(running, triage)
    row_id = create_row(running).id
    running.world.slack.driver.user("bob").delete(first)

    sync_retry(running, row_id)  # Jira is still down
    running.settle()

    assert create_row(running).status == "dead"
    [report] = reports(running, triage)
    assert report.ts != first.ts
    assert report.text == "IT-1: creating the Jira issue failed again and was set aside"
    assert "Retried with `deskhand sync retry`" in str(report.blocks)
    assert retry_buttons(report) == [str(row_id)]
    with Session(running.deskhand.tickets.engine) as session:
        statuses = session.scalars(select(OutboxRow.status).where(OutboxRow.target == "slack"))
        assert "dead" not in list(statuses)  # the update of the deleted report was let go


def test_every_action_the_relay_carries_out_has_a_label(running: Running) -> None:
    """An action without one would show in reports as its internal name."""
    wired = set(running.deskhand.relay.executors) - UNREPORTED_ACTIONS
    assert "create_jira_issue" in wired
    assert wired - set(ACTION_LABELS) == set()
