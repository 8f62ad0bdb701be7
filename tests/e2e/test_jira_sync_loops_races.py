"""ACCEPTANCE 22: both sides change a comment or a field within a second, nothing echoes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.faults import Fault, FaultKind
from sandbox.jira import JiraDriver
from sandbox.jira.webhooks import WebhookSender
from storage.models import Comment, OutboxRow
from tests.e2e.conftest import Running
from tests.e2e.jira_news import JiraNews
from tests.e2e.jira_sync_loops import (
    bot_replies,
    by_bot_account,
    comment_updates,
    engine_of,
    open_ticket,
    settle,
    slack_updates_of,
    wait_for,
)

# The fixtures, imported under their own names so pytest finds them here (they override
# those of tests/e2e/conftest.py).
from tests.e2e.jira_sync_loops import build_options as build_options
from tests.e2e.jira_sync_loops import config_text as config_text
from tests.e2e.jira_sync_loops import delivery as delivery
from tests.e2e.jira_sync_loops import jira_flavour as jira_flavour
from tests.e2e.jira_sync_loops import news as news
from tests.e2e.jira_sync_loops import sweep_interval as sweep_interval
from tests.e2e.jira_sync_loops import transport as transport
from tests.e2e.test_jira_outage import MovedClock
from tests.e2e.test_jira_sync_out import JIRA_CONFIG
from tests.waiting import DEADLINE


def test_a_slack_reply_edited_in_slack_and_its_copy_edited_in_jira_at_once(
    running: Running, news: JiraNews
) -> None:
    """The reply belongs to Slack (it was written there): the requester's edit is carried to
    Jira, and carol's edit of Deskhand's copy in Jira is not carried back. Carol edits first
    and the requester in the same second after her, so Deskhand's update reaches Jira last
    and Jira ends where Slack is: one update to Jira, none to Slack. (Had carol edited after
    Deskhand's update, Jira would keep her text: the copy is not defended, only never
    echoed.)"""
    question, _, issue = open_ticket(running, news)
    alice = running.world.slack.driver.user("alice")
    reply = alice.reply(question, "The client says error 809")
    settle(running, news)
    [copy] = issue.comments
    bot_posts_before = len(bot_replies(running, question))

    JiraDriver(running.world.jira).user("carol").edit_comment(
        issue.key, copy.id, "*Alice* wrote in Slack:\nThe client says error 809 (Windows)"
    )
    alice.edit(reply, "The client says error 809 since the update")
    settle(running, news)

    if isinstance(news, WebhookSender):
        edits_heard = [a for a in news.attempts if a.event == "comment_updated"]
        assert edits_heard  # Deskhand heard of carol's edit, and answered
        assert all(a.status == 200 for a in edits_heard)
    assert [c.id for c in issue.comments] == [copy.id]
    assert copy.body == "*Alice* wrote in Slack:\nThe client says error 809 since the update"
    assert comment_updates(running) == [copy.id]
    assert reply.text == "The client says error 809 since the update"
    assert slack_updates_of(running, reply) == 0
    assert len(bot_replies(running, question)) == bot_posts_before
    with Session(engine_of(running)) as session:
        [stored] = session.scalars(select(Comment))
    assert stored.body == "The client says error 809 since the update"


def test_a_jira_comment_and_a_slack_reply_edited_within_the_same_second(
    running: Running, news: JiraNews
) -> None:
    """The other way round: carol's comment belongs to Jira. Its copy in Slack is the bot's
    message, which no person can edit (Slack lets only a message's author edit it: a user's
    chat.update of it answers ``cant_update_message``), so the edit that can race with carol's
    is one on a Slack-owned reply. Both at once: each edit is carried once, each the right
    way, and neither copy's update comes back (the bot's chat.update returns as a
    message_changed event with its bot_id; Deskhand's Jira update returns as a webhook)."""
    question, _, issue = open_ticket(running, news)
    slack = running.world.slack
    alice = slack.driver.user("alice")
    carol = JiraDriver(running.world.jira).user("carol")
    reply = alice.reply(question, "Rebooted, still down")
    original = carol.comment(issue.key, "Try the backup gateway")
    settle(running, news)
    [copy_in_jira] = by_bot_account(running, issue)
    [copy_in_slack] = [m for m in bot_replies(running, question) if "(in Jira)" in m.text]

    carol.edit_comment(issue.key, original.id, "Try the backup gateway, vpn2.example.com")
    alice.edit(reply, "Rebooted twice, still down")
    settle(running, news)

    assert copy_in_slack.text == "*Carol* (in Jira):\nTry the backup gateway, vpn2.example.com"
    assert slack_updates_of(running, copy_in_slack) == 1
    assert slack_updates_of(running, reply) == 0
    assert copy_in_jira.body == "*Alice* wrote in Slack:\nRebooted twice, still down"
    assert comment_updates(running) == [copy_in_jira.id]
    assert original.body == "Try the backup gateway, vpn2.example.com"
    assert len(issue.comments) == 2


def test_a_field_changed_in_jira_while_slacks_change_is_on_its_way_ends_as_slack_said(
    running: Running, news: JiraNews
) -> None:
    """ACCEPTANCE 22 for the ticket's fields: bob raises the priority in Slack; Jira asks
    Deskhand to wait a moment (429) before it writes, and meanwhile carol lowers the priority
    in Jira. The documented rule: a field with a change from Slack on its way to Jira keeps
    Deskhand's value, and that change then overwrites Jira's. Both sides end on *high*; Jira
    got one priority update from Deskhand, the requester heard of *high* once and never of
    *low*."""
    question, triage, issue = open_ticket(running, news)
    jira = running.world.jira
    clock = MovedClock()  # the relay's: the wait Jira asks for passes when the test says
    running.deskhand.relay.clock = clock
    edits_before = len(priority_edits(running))
    wait = running.world.clock.speed * 600  # ten real minutes, unless the clock is moved
    jira.faults.add("PUT /issue/{key}", Fault(FaultKind.RATE_LIMIT, retry_after=wait))
    running.world.slack.driver.user("bob").click(triage, "set_priority", value="high")
    wait_for(lambda: [r.status for r in priority_edits(running)[edits_before:]] == [429])
    JiraDriver(jira).user("carol").edit(issue.key, priority={"name": "Low"})
    assert news.wait_idle(DEADLINE)  # carol's news is stored in the inbox
    wait_for(lambda: running.deskhand.inbox.pending() == 0)  # and handled
    assert [r.status for r in priority_edits(running)[edits_before:]] == [429]
    clock.ahead += timedelta(minutes=11)  # Retry-After has passed
    running.deskhand.wake()
    wait_for(lambda: len(priority_edits(running)) - edits_before == 2)
    settle(running, news)

    [ticket] = running.tickets()
    assert issue.priority is not None
    assert (ticket.priority, issue.priority.name) == ("high", "High")
    assert [r.status for r in priority_edits(running)[edits_before:]] == [429, 204]
    heard = [m.text for m in bot_replies(running, question) if "priority" in m.text]
    assert heard == ["IT-1's priority is now *high*."]


@pytest.mark.parametrize(
    "config_text", [JIRA_CONFIG.replace("timeout_seconds: 2", "timeout_seconds: 60")]
)
def test_a_field_read_from_jira_just_before_slacks_change_lands_there_stays_in_sync(
    running: Running, news: JiraNews
) -> None:
    """The same two changes, one step later: carol's news is handled while Deskhand's write
    of *high* is on its way, and Jira answers Deskhand's read of the issue (still *low*) only
    after that write has landed. Whatever the rule picks, both sides must end on one value.
    (The fake Jira is slowed down by holding that one answer; the client's timeout is raised
    so the hold does not look like an outage.)"""
    _, triage, issue = open_ticket(running, news)
    jira = running.world.jira
    edits_before = len(priority_edits(running))
    jira.faults.add("PUT /issue/{key}", Fault(FaultKind.RATE_LIMIT, retry_after=1.0))
    running.world.slack.driver.user("bob").click(triage, "set_priority", value="high")
    wait_for(lambda: [r.status for r in priority_edits(running)[edits_before:]] == [429])

    def push_done() -> bool:
        with Session(engine_of(running)) as session:
            rows = session.scalars(select(OutboxRow).where(OutboxRow.action == "jira_push_field"))
            return any(r.payload.get("field") == "priority" and r.status == "done" for r in rows)

    with holding_the_next_issue_read(running, until=push_done) as hold:
        JiraDriver(jira).user("carol").edit(issue.key, priority={"name": "Low"})
        settle(running, news)
    assert hold.released_by_condition, "the race was not staged: no push landed in the read"

    [ticket] = running.tickets()
    assert issue.priority is not None
    assert (ticket.priority, issue.priority.name) in (("high", "High"), ("low", "Low"))


@dataclass
class Hold:
    armed: bool = True
    released_by_condition: bool = False


@contextlib.contextmanager
def holding_the_next_issue_read(running: Running, *, until: Callable[[], bool]) -> Iterator[Hold]:
    """The fake Jira answers the next ``GET /issue/{key}`` as of when it was asked, but sends
    the answer only once ``until()`` holds (at most 50 s, under the client's timeout of 60)."""
    views = running.world.jira.wsgi_app.view_functions
    endpoint = "GET /issue/{key}"
    original = views[endpoint]
    hold = Hold()

    def held(**params: str) -> Any:
        answer = original(**params)
        if hold.armed:
            hold.armed = False
            deadline = time.monotonic() + 50
            while not until() and time.monotonic() < deadline:
                time.sleep(0.02)
            hold.released_by_condition = until()
        return answer

    views[endpoint] = held
    try:
        yield hold
    finally:
        views[endpoint] = original


def priority_edits(running: Running) -> list[Any]:
    return [
        r
        for r in running.world.jira.requests
        if r.route == "PUT /issue/{key}" and "priority" in ((r.json or {}).get("fields") or {})
    ]
