"""ACCEPTANCE 19: a long conversation across Slack and Jira, each comment once on each side."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import slack_pacing
from deskhand.sync_breaker import PAUSED
from sandbox.jira import JiraDriver
from sandbox.world import SandboxWorld
from storage.engine import writing
from storage.models import Comment, OutboxRow, TimelineEvent
from tests.e2e.conftest import Running, serving
from tests.e2e.jira_news import build_options as delivery_options
from tests.e2e.jira_news import jira_news
from tests.e2e.jira_sync_loops import by_bot_account, engine_of, open_ticket, settle, thread

# The fixture, imported under its own name so pytest finds it here.
from tests.e2e.jira_sync_loops import delivery as delivery
from tests.e2e.test_jira_sync_out import JIRA_CONFIG

ROUNDS = 50
ROUND_LENGTH = timedelta(seconds=12)
"""The time one round of the conversation stands for: two comments every 12 s is 10 comment
syncs a minute, half of what the breaker allows."""


def let_time_pass(running: Running, elapsed: timedelta) -> None:
    """Make every outbox row ``elapsed`` older, as if that much time had passed since."""
    with writing(engine_of(running)) as session:
        for row in session.scalars(select(OutboxRow)):
            row.created_at -= elapsed


@pytest.mark.parametrize("jira_flavour", ["cloud"])
def test_a_hundred_alternating_human_comments_make_a_hundred_on_each_side(
    sandbox_world: SandboxWorld, sqlite_url: str, delivery: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ACCEPTANCE 19: 50 replies in Slack (the requester and the agent by turns) and 50
    comments in Jira (carol), alternating: Jira ends with 100 comments (carol's 50 and
    Deskhand's copies of the 50 replies) and the thread with 100 replies (the 50 human ones
    and the bot's copies of carol's 50), every one exactly once.

    Honest pacing. People take turns at the pace of a conversation; a script typing 100
    comments in a few seconds would be exactly what the per-ticket circuit breaker is there to
    stop (more than 20 comment syncs a minute, ``deskhand/sync_breaker.py``). The breaker
    judges the pace by the outbox rows' ``created_at``, so after every round the test makes
    all rows 12 s older: each round stands for 12 s of a conversation, ten comments a minute.
    The test checks the breaker never tripped. Slack's pace: the sandbox runs its clock 100x
    fast, Slack's one-post-a-second rule included; Deskhand's own pacer runs on real time, so
    it gets the same factor here, or the 50 posts alone would take 50 real seconds (the
    pacing itself is tested in test_storm.py).
    """
    monkeypatch.setattr(slack_pacing, "SPEED", sandbox_world.clock.speed)
    ws = sandbox_world.slack.workspace
    ws.add_channel("hr-triage", private=True, members=[ws.bot])
    options = delivery_options(delivery)
    with (
        serving(sandbox_world, sqlite_url, "socket", JIRA_CONFIG, **options) as running,
        jira_news(running, delivery) as news,
    ):
        question, _, issue = open_ticket(running, news)
        slack = running.world.slack.driver
        people = (slack.user("alice"), slack.user("bob"))
        carol = JiraDriver(running.world.jira).user("carol")
        before = len(thread(running, question))
        for number in range(ROUNDS):
            people[number % 2].reply(question, f"Slack says {number}")
            carol.comment(issue.key, f"Jira says {number}")
            settle(running, news)
            let_time_pass(running, ROUND_LENGTH)

        expected_slack = [f"Slack says {n}" for n in range(ROUNDS)]
        expected_jira = [f"Jira says {n}" for n in range(ROUNDS)]
        # Jira: carol's 50, and one copy of each Slack reply, written by Deskhand's account.
        assert len(issue.comments) == 2 * ROUNDS
        assert [c.body for c in issue.comments if c.author == "carol"] == expected_jira
        copies = by_bot_account(running, issue)
        assert len(copies) == ROUNDS
        names = ("Alice", "Bob")
        assert [c.body for c in copies] == [
            f"*{names[n % 2]}* wrote in Slack:\nSlack says {n}" for n in range(ROUNDS)
        ]
        # Slack: the 50 human replies and one post of each Jira comment, nothing else.
        replies = thread(running, question)[before:]
        bot = running.world.slack.workspace.bot.id
        human = [m.text for m in replies if m.user != bot]
        posted = [m.text for m in replies if m.user == bot]
        assert human == expected_slack
        assert sorted(posted) == sorted(f"*Carol* (in Jira):\n{t}" for t in expected_jira)
        assert len(replies) == 2 * ROUNDS
        with Session(engine_of(running)) as session:
            stored = list(session.scalars(select(Comment)))
            tripped = session.scalar(select(func.count()).where(TimelineEvent.kind == PAUSED))
        assert len(stored) == 2 * ROUNDS
        assert all(c.slack_ts and c.jira_comment_id for c in stored)
        assert tripped == 0
