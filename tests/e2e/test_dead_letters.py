"""Dead letters end to end: Jira keeps failing a ticket's issue create until the row is set
aside; the triage channel is told, with a Retry button; only an agent's press replays it, and
once Jira is back the replay creates exactly one issue (ACCEPTANCE 8).

Runs on Jira Cloud and Server, on SQLite over HTTP only: the relay, the report and the press
are the same on every database and transport, which the other e2e modules cover.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.listeners.dead_letters import RETRY_ACTION
from sandbox.faults import Fault, FaultKind
from sandbox.slack.model import Message
from storage.models import OutboxRow, TimelineEvent
from tests.e2e.conftest import Running
from tests.e2e.test_jira_issue import JIRA_CONFIG

ATTEMPTS = 3


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def transport() -> str:
    return "http"


def creates(running: Running) -> int:
    return len([r for r in running.world.jira.requests if r.route == "POST /issue"])


def create_row(running: Running) -> OutboxRow:
    with Session(running.deskhand.tickets.engine) as session:
        row = session.scalar(select(OutboxRow).where(OutboxRow.action == "create_jira_issue"))
    assert row is not None
    return row


def retries(running: Running) -> list[TimelineEvent]:
    with Session(running.deskhand.tickets.engine) as session:
        query = select(TimelineEvent).where(TimelineEvent.kind == "sync_retried")
        return list(session.scalars(query))


def report_in(running: Running, triage: Message) -> Message:
    """The bot's report of the dead letter, in the thread of the ticket's triage card."""
    slack = running.world.slack.driver
    found = [m for m in slack.thread(triage) if m.ts != triage.ts and RETRY_ACTION in str(m.blocks)]
    assert len(found) == 1, [m.text for m in slack.thread(triage)]
    return found[0]


def test_a_dead_jira_create_is_reported_and_only_an_agents_retry_replays_it_once(
    running: Running,
) -> None:
    relay = running.deskhand.relay
    relay.max_attempts = ATTEMPTS
    relay.retry_delay = lambda attempts: timedelta(milliseconds=50)
    jira, slack = running.world.jira, running.world.slack.driver
    jira.faults.add("POST /issue", Fault(FaultKind.SERVER_ERROR, times=None, status=503))

    question = slack.user("alice").post("#help", "VPN is down")
    slack.user("bob").react(question, "ticket")
    running.settle()

    # Jira failed every attempt: the row is set aside, and nothing was created.
    row = create_row(running)
    assert (row.status, row.attempts) == ("dead", ATTEMPTS)
    assert creates(running) == ATTEMPTS
    assert jira.state.issues == {}
    [ticket] = running.tickets()
    assert ticket.jira_key is None
    # Meanwhile the ticket's Slack side went out regardless.
    [triage] = [m for m in slack.bot_posts("#it-triage") if m.thread_ts in (None, m.ts)]
    assert "IT-1" in triage.text

    report = report_in(running, triage)
    shown = str(report.blocks)
    assert report.text == "IT-1: creating the Jira issue failed and was set aside"
    assert f"creating the Jira issue failed after {ATTEMPTS} attempts" in shown
    assert "HTTP 503" in shown
    button = next(
        e
        for b in report.blocks
        for e in b.get("elements", [])
        if e.get("action_id") == RETRY_ACTION
    )
    assert button["value"] == str(row.id)
    stale = copy.deepcopy(report)  # the message as a slow second presser still sees it

    # Someone who is not an agent of IT is refused (by DM: they are not in #it-triage).
    dave = slack.user("dave")
    dave.click(report, RETRY_ACTION)
    running.settle()
    dm = running.world.slack.workspace.im_channel(
        dave.user.id, running.world.slack.workspace.bot.id
    )
    [refusal] = slack.messages(dm.id)
    assert "Only agents of IT" in refusal.text
    assert "Nothing was changed" in refusal.text
    assert create_row(running).status == "dead"
    assert retries(running) == []
    assert creates(running) == ATTEMPTS

    # Jira is back; an agent presses Retry: exactly one issue.
    jira.faults.clear("POST /issue")
    bob = slack.user("bob")
    bob.click(report, RETRY_ACTION)
    running.settle()
    [ticket] = running.tickets()
    assert ticket.jira_key is not None
    assert list(jira.state.issues) == [ticket.jira_key]
    assert creates(running) == ATTEMPTS + 1
    assert create_row(running).status == "done"
    [retried] = retries(running)
    assert (retried.actor, retried.origin) == (bob.user.id, "slack")
    # The report now says it went through on bob's retry, and offers no button any more.
    assert report.edited is not None
    assert report.text == "IT-1: creating the Jira issue went through on retry"
    assert ":white_check_mark: *IT-1*: creating the Jira issue went through" in str(report.blocks)
    assert f"(by <@{bob.user.id}>)" in str(report.blocks)
    assert RETRY_ACTION not in str(report.blocks)

    # A second agent pressing the stale button changes nothing.
    carol = slack.user("carol")
    carol.click(stale, RETRY_ACTION)
    running.settle()
    assert list(jira.state.issues) == [ticket.jira_key]
    assert creates(running) == ATTEMPTS + 1
    assert len(retries(running)) == 1
    [told] = slack.ephemerals(carol)
    assert "already retried" in told["text"]
