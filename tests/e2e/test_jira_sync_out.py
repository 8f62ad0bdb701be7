"""Slack → Jira (issue 5): a ticket's replies, internal notes, assignee, status and priority
reach its Jira issue, on Jira Cloud and Server; the bot's own posts never do (item 18)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox.jira.model import Issue
from sandbox.slack.state import Message
from storage.models import Comment
from tests.e2e.conftest import Running

JIRA_CONFIG = """\
slack:
  request_channels: [help]
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
    jira: {project: IT, issue_type: Task}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage}
jira:
  url: https://replaced-by-the-sandbox.example
  account: replaced@example.com
  timeout_seconds: 2
  fallback_account: replaced@example.com
  internal_comment_visibility: {type: role, value: Developers}
"""


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport() -> str:
    return "socket"  # the transports are covered elsewhere; here: both Jiras, both databases


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


def open_ticket(running: Running) -> tuple[Message, Message, Issue]:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "VPN is down\nsince 9am")
    slack.user("bob").react(question, "ticket")
    running.settle()
    [ticket] = running.tickets()
    assert ticket.jira_key is not None
    [triage] = slack.bot_posts("#it-triage")
    return question, triage, running.world.jira.state.issue(ticket.jira_key)


def account(running: Running, name: str) -> str:
    user = running.world.jira.state.users[name]
    return user.account_id if running.world.jira.flavour == "cloud" else user.name


def test_the_issue_describes_the_request_and_links_back(running: Running) -> None:
    question, _, issue = open_ticket(running)
    alice = running.world.slack.workspace.find_user("alice")
    assert alice is not None
    assert f"Requested in Slack by {alice.real_name}" in (issue.description or "")
    assert str(alice.email) in (issue.description or "")
    [link] = issue.remote_links
    assert question.ts.replace(".", "") in link.object["url"]
    assert link.object["title"] == "Slack thread of IT-1"


def test_replies_and_notes_become_comments_once(running: Running) -> None:
    question, triage, issue = open_ticket(running)
    slack = running.world.slack.driver
    slack.user("bob").reply(question, "Please restart the router")
    slack.user("bob").reply(triage, "Core switch logs show flapping")
    slack.user("alice").reply(question, "Restarted, still down")
    running.settle()

    bodies = [(c.body, c.visibility) for c in issue.comments]
    assert len(bodies) == 3, bodies
    [public] = [c for c in issue.comments if "Please restart the router" in c.body]
    [note] = [c for c in issue.comments if "Core switch logs show flapping" in c.body]
    [answer] = [c for c in issue.comments if "Restarted, still down" in c.body]
    assert public.body.startswith("*Bob")
    assert answer.body.startswith("*Alice")
    assert public.visibility is None
    assert not public.internal
    assert note.visibility == {"type": "role", "value": "Developers"}
    assert "internal note" in note.body
    assert answer.visibility is None
    assert {c.author for c in issue.comments} == {running.world.jira.bot.name}
    # Deskhand's own posts (cards, notices) came back as events: none became a comment.
    assert slack.bot_posts("#it-triage")
    assert len(issue.comments) == 3


def test_claim_priority_and_resolve_reach_the_issue(running: Running) -> None:
    _, triage, issue = open_ticket(running)
    bob = running.world.slack.driver.user("bob")
    bob.click(triage, "claim")
    running.settle()
    assert issue.assignee == "bob"
    assert issue.status == "In Progress"

    bob.click(triage, "set_priority", value="high")
    running.settle()
    assert issue.priority is not None
    assert issue.priority.name == "High"

    bob.click(triage, "set_status", value="resolved")
    running.settle()
    assert (issue.status, issue.resolution) == ("Done", "Done")
    assert account(running, "bob")  # the assignee was found by email, not by name


def test_an_edited_then_deleted_reply_updates_and_marks_its_comment(running: Running) -> None:
    question, _, issue = open_ticket(running)
    bob = running.world.slack.driver.user("bob")
    reply = bob.reply(question, "Restart the router")
    running.settle()
    [comment] = issue.comments
    bob.edit(reply, "Restart the router, then the laptop")
    running.settle()
    assert [c.id for c in issue.comments] == [comment.id]
    assert comment.body.endswith("Restart the router, then the laptop")
    bob.delete(reply)
    running.settle()
    assert [c.id for c in issue.comments] == [comment.id]
    assert "deleted this comment" in comment.body


def test_forty_thousand_characters_fit_jira_with_the_way_back_to_slack(running: Running) -> None:
    """ACCEPTANCE 28: within Jira's limits, the permalink kept, and no 400 to retry."""
    slack = running.world.slack.driver
    long_text = "The VPN drops every few minutes " + "and then it comes back " * 1_730
    assert 39_000 < len(long_text) <= 40_000
    question = slack.user("alice").post("#help", long_text)
    slack.user("bob").react(question, "ticket")
    running.settle()
    [ticket] = running.tickets()
    assert ticket.jira_key is not None
    issue = running.world.jira.state.issue(ticket.jira_key)
    assert len(issue.summary) <= 255
    description = issue.description or ""
    assert len(description.encode("utf-16-le")) // 2 <= 32_767
    assert "/archives/" in description.split("\n\n", 1)[0]  # the permalink, ahead of the cut

    reply = slack.user("bob").reply(question, long_text)
    running.settle()
    [comment] = issue.comments
    assert len(comment.body.encode("utf-16-le")) // 2 <= 32_767
    assert reply.ts.replace(".", "") in comment.body.split("\n", 1)[0]
    posts = [r for r in running.world.jira.requests if r.route == "POST /issue/{key}/comment"]
    assert [r.status for r in posts] == [201]


def test_a_runaway_thread_trips_the_breaker_and_the_triage_thread_hears_once(
    running: Running,
) -> None:
    """ACCEPTANCE 20: more than LIMIT comments in a minute stop being copied; agents are told."""
    from deskhand.sync_breaker import LIMIT

    question, triage, issue = open_ticket(running)
    chatty = running.world.slack.driver.user("alice")
    for n in range(LIMIT + 5):
        chatty.reply(question, f"ping {n}")
    running.settle()
    assert len(issue.comments) == LIMIT
    with Session(running.deskhand.tickets.engine) as session:
        kept = session.scalar(select(func.count()).select_from(Comment))
    assert kept == LIMIT + 5 + 1  # all kept on the ticket (and the alert), only not copied
    alerts = [
        m
        for m in running.world.slack.driver.thread(triage)
        if "Comment sync for this ticket is paused" in m.text
    ]
    assert len(alerts) == 1
