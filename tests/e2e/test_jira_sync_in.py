"""Jira → Slack (issue 5), Cloud and Server, through signed webhooks from the fake Jira and
again with the poller alone: comments reach the right thread once, state changes reach the
cards and the requester, and duplicated or reordered webhooks change nothing twice
(ACCEPTANCE 11, 12, 18, 19, 22, 34, 35).

Some tests are about webhooks themselves (duplicates, order, signatures) or about what only a
webhook can tell: a deleted comment or issue no longer shows in Jira's search, so the poller
never hears of it (see ``jira_sync/poller.py``). Those run with webhooks alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.jira import JiraDriver
from sandbox.jira.webhooks import WebhookSender
from sandbox.slack.state import Message
from storage.models import Ticket
from tests.e2e.conftest import Running
from tests.e2e.jira_news import DELIVERIES, JiraNews, jira_news
from tests.e2e.jira_news import build_options as delivery_options
from tests.e2e.jira_sync_loops import open_ticket, settle
from tests.e2e.test_jira_sync_out import JIRA_CONFIG

WEBHOOKS_ONLY = pytest.mark.parametrize("delivery", ["webhooks"])


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport() -> str:
    return "socket"  # Jira's webhooks reach the HTTP side, which runs in Socket Mode too


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


@pytest.fixture(params=DELIVERIES)
def delivery(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def build_options(delivery: str) -> dict[str, Any]:
    return delivery_options(delivery)


@pytest.fixture
def news(running: Running, delivery: str) -> Iterator[JiraNews]:
    with jira_news(running, delivery) as jira:
        yield jira


@pytest.fixture
def webhooks(news: JiraNews) -> WebhookSender:
    assert isinstance(news, WebhookSender), "a test of webhooks runs with webhooks"
    return news


def bot_texts(running: Running, message: Message) -> list[str]:
    bot = running.world.slack.workspace.bot.id
    return [m.text for m in running.world.slack.driver.thread(message) if m.user == bot]


def the_ticket(running: Running) -> Ticket:
    [ticket] = running.tickets()
    return ticket


def test_jira_comments_reach_the_right_thread_once(running: Running, news: JiraNews) -> None:
    question, triage, issue = open_ticket(running, news)
    jira = running.world.jira
    carol = JiraDriver(jira).user("carol")
    if isinstance(news, WebhookSender):
        news.duplicate(3)  # item 11: each of the next deliveries arrives twice
    carol.comment(issue.key, "Which office are you in?")
    restricted = {"type": "role", "value": "Developers"}
    jira.state.add_comment(
        jira.state.user("carol"), issue.key, "Berlin concentrator?", visibility=restricted
    )
    carol.comment(issue.key, "Berlin it is", internal=True)  # JSM's internal flag
    settle(running, news)

    public = [t for t in bot_texts(running, question) if "(in Jira)" in t]
    assert public == ["*Carol* (in Jira):\nWhich office are you in?"]
    notes = [t for t in bot_texts(running, triage) if "Berlin" in t]
    expected = [
        "*Carol* (internal note in Jira):\nBerlin concentrator?",
        "*Carol* (internal note in Jira):\nBerlin it is",
    ]
    assert sorted(notes) == sorted(expected)
    assert the_ticket(running).first_response_at is not None
    assert len(issue.comments) == len(expected) + 1  # nothing came back to Jira (item 18)


@WEBHOOKS_ONLY
def test_edits_and_deletions_in_jira_edit_the_slack_message(
    running: Running, webhooks: WebhookSender
) -> None:
    question, _, issue = open_ticket(running, webhooks)
    carol = JiraDriver(running.world.jira).user("carol")
    comment = carol.comment(issue.key, "Restart the router")
    settle(running, webhooks)
    carol.edit_comment(issue.key, comment.id, "Restart the router and the laptop")
    settle(running, webhooks)
    [posted] = [t for t in bot_texts(running, question) if "Restart the router" in t]
    assert posted.endswith("Restart the router and the laptop")
    carol.delete_comment(issue.key, comment.id)
    settle(running, webhooks)
    [posted] = [t for t in bot_texts(running, question) if "(in Jira)" in t]
    assert posted.endswith("_(deleted in Jira)_")


def test_status_assignee_and_priority_from_jira_reach_both_cards_and_the_requester(
    running: Running, news: JiraNews
) -> None:
    question, triage, issue = open_ticket(running, news)
    carol = JiraDriver(running.world.jira).user("carol")
    carol.assign(issue.key, "bob")
    carol.edit(issue.key, priority={"name": "High"})
    carol.transition(issue.key, "Done")
    settle(running, news)

    ticket = the_ticket(running)
    bob = running.world.slack.workspace.find_user("bob")
    assert bob is not None
    assert (ticket.assignee, ticket.priority, ticket.status) == (bob.id, "high", "resolved")
    lines = bot_texts(running, question)
    assert "Bob is now working on IT-1." in lines
    assert "IT-1's priority is now *high*." in lines
    assert "IT-1 is now *resolved*. Reply here if it is not fixed." in lines
    refreshed = running.world.slack.driver.messages("#it-triage")
    assert "Resolved" in str([m.blocks for m in refreshed if m.ts == triage.ts])
    # Deskhand's own writes to Jira came back as webhooks and were dropped: Jira still has
    # only carol's changes (no comment, no second transition).
    assert issue.comments == []
    assert issue.status == "Done"


@WEBHOOKS_ONLY
def test_reordered_status_webhooks_end_in_jiras_latest_state(
    running: Running, webhooks: WebhookSender
) -> None:
    """Item 12: changes delivered newest first; Slack still ends where Jira is."""
    _, _, issue = open_ticket(running, webhooks)
    carol = JiraDriver(running.world.jira).user("carol")
    webhooks.hold()
    carol.transition(issue.key, "In Progress")
    carol.transition(issue.key, "Done")
    comment = carol.comment(issue.key, "first words")
    carol.edit_comment(issue.key, comment.id, "final words")
    assert webhooks.release("reverse") >= 4
    settle(running, webhooks)
    ticket = the_ticket(running)
    assert ticket.status == "resolved"
    [only] = [c for c in ticket_comments(running) if c.jira_comment_id == comment.id]
    assert only.body == "final words"


def ticket_comments(running: Running) -> list[Any]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from storage.models import Comment

    with Session(running.deskhand.tickets.engine) as session:
        return list(session.scalars(select(Comment).order_by(Comment.id)))


def test_jira_text_is_shown_literally_and_pings_nobody(running: Running, news: JiraNews) -> None:
    """Item 35."""
    question, _, issue = open_ticket(running, news)
    nasty = "Hey <!channel> <!here> <!subteam^S123> @here see <https://evil.example|ok>"
    JiraDriver(running.world.jira).user("carol").comment(issue.key, nasty)
    settle(running, news)
    [posted] = [t for t in bot_texts(running, question) if "(in Jira)" in t]
    assert "<!" not in posted
    assert "<https://evil" not in posted
    assert "&lt;!channel&gt;" in posted
    assert "@\u2060here" in posted


@WEBHOOKS_ONLY
def test_a_deleted_issue_is_noted_for_the_team(running: Running, webhooks: WebhookSender) -> None:
    _, triage, issue = open_ticket(running, webhooks)
    state = running.world.jira.state
    state.delete_issue(state.user("carol"), issue.key)
    settle(running, webhooks)
    notes = [t for t in bot_texts(running, triage) if "was deleted" in t]
    assert len(notes) == 1
    assert issue.key in notes[0]


@WEBHOOKS_ONLY
def test_a_badly_signed_webhook_gets_401_and_changes_nothing(
    running: Running, webhooks: WebhookSender
) -> None:
    """Item 34."""
    question, _, issue = open_ticket(running, webhooks)
    body = b'{"webhookEvent": "comment_created"}'
    answer = requests.post(
        f"{running.web_url}/jira/webhook",
        data=body,
        headers={"X-Hub-Signature": "sha256=" + "0" * 64, "Content-Type": "application/json"},
        timeout=5,
    )
    assert answer.status_code == 401
    assert running.deskhand.inbox.pending() == 0
    assert len(bot_texts(running, question)) == 1  # the ticket card only
    assert issue.comments == []
