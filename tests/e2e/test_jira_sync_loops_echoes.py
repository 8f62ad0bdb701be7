"""ACCEPTANCE 18 and 20: the bot's own posts and other bots' posts are not synced again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.jira import JiraDriver
from sandbox.slack.driver import Person
from sandbox.slack.state import Message
from storage.models import Comment
from tests.e2e.conftest import Running
from tests.e2e.jira_news import JiraNews
from tests.e2e.jira_sync_loops import (
    COPY_OF_JIRA,
    bot_replies,
    by_bot_account,
    engine_of,
    open_ticket,
    settle,
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


def test_a_busy_ticket_gets_jira_comments_only_for_what_people_wrote(
    running: Running, news: JiraNews
) -> None:
    """ACCEPTANCE 18, counted: a ticket with a bit of everything (cards and their updates,
    notices to the requester, Jira comments posted in both threads, edits in Slack and Jira,
    changes from both sides). Every bot post and edit comes back to Deskhand as a Slack event,
    every Deskhand write to Jira as a webhook. At the end Deskhand's account wrote exactly one
    Jira comment per human reply in Slack, and the bot's posts are exactly the cards, the
    notices and one post per human Jira comment."""
    slack = running.world.slack
    bot = slack.workspace
    echoed: list[dict[str, Any]] = []
    bot.subscribe(
        lambda event: (
            echoed.append(event)
            if event.get("bot_id") == bot.bot.bot_id
            or (event.get("message") or {}).get("bot_id") == bot.bot.bot_id
            else None
        )
    )
    question, triage, issue = open_ticket(running, news)
    alice, bob = slack.driver.user("alice"), slack.driver.user("bob")
    carol = JiraDriver(running.world.jira).user("carol")

    bob.click(triage, "claim")
    settle(running, news)
    bob.reply(question, "Can you try the other office's Wi-Fi?")
    bob.reply(triage, "Looks like the Berlin concentrator")
    carol.comment(issue.key, "Concentrator logs are clean")
    carol.comment(issue.key, "Checked with the network team", internal=True)
    settle(running, news)
    answer = alice.reply(question, "Same there")
    bob.click(triage, "set_priority", value="high")
    settle(running, news)
    alice.edit(answer, "Same there, and on my phone's hotspot")
    carol.transition(issue.key, "Waiting for customer")
    settle(running, news)
    carol.transition(issue.key, "Done")
    settle(running, news)

    copies = sorted(c.body for c in by_bot_account(running, issue))
    assert copies == [
        "*Alice* wrote in Slack:\nSame there, and on my phone's hotspot",
        "*Bob* wrote an internal note in Slack:\nLooks like the Berlin concentrator",
        "*Bob* wrote in Slack:\nCan you try the other office's Wi-Fi?",
    ]
    assert [c.body for c in issue.comments if c.author == "carol"] == [
        "Concentrator logs are clean",
        "Checked with the network team",
    ]
    assert len(issue.comments) == len(copies) + 2

    from_jira = [
        m.text
        for root in (question, triage)
        for m in bot_replies(running, root)
        if COPY_OF_JIRA.match(m.text)
    ]
    assert sorted(from_jira) == sorted(
        [
            "*Carol* (in Jira):\nConcentrator logs are clean",
            "*Carol* (internal note in Jira):\nChecked with the network team",
        ]
    )
    [card, *notices] = [
        m.text for m in bot_replies(running, question) if not COPY_OF_JIRA.match(m.text)
    ]
    assert card.startswith("Ticket IT-1 ")  # the ticket card, kept up to date
    assert notices == [
        "Bob is now working on IT-1.",
        "IT-1's priority is now *high*.",
        "IT-1 is now *waiting on requester*.",
        "IT-1 is now *resolved*. Reply here if it is not fixed.",
    ]
    assert echoed, "the bot's posts should have come back as events"
    # Nothing else anywhere: the two cards, the notices and the copies of Jira comments.
    assert len(slack.driver.bot_posts()) == 2 + len(notices) + len(from_jira)


# -- ACCEPTANCE 20: another bot --------------------------------------------------------------------


@pytest.mark.parametrize("sweep_interval", [0.2])
def test_another_bots_posts_are_synced_at_most_once(running: Running, news: JiraNews) -> None:
    """ACCEPTANCE 20 for other bots. A Slack bot (its messages carry a ``bot_id``) posting in
    a ticket's threads is synced zero times: Deskhand takes only people's replies as comments,
    both from live events and in the thread sweep (which runs here every 0.2 s and reads the
    threads after the bot's posts), so two bots can never start a conversation through Jira.
    A Jira automation account is a Jira user like any other, so its comment reaches Slack once;
    the bot's post of it comes back as a Slack event and goes no further."""
    question, triage, issue = open_ticket(running, news)
    slack = running.world.slack
    ws = slack.workspace
    pager = ws.add_bot("pagerbot")
    ws.channels[triage.channel].members.add(pager.id)
    robot = Person(slack, pager)
    robot.reply(question, "Automated: incident INC-7 opened for VPN")
    robot.reply(triage, "Automated: 3 similar tickets this hour")
    replies_read = len(slack.web.calls_to("conversations.replies"))
    running.world.jira.add_user("automation", "automation@example.com", "Automation for Jira")
    JiraDriver(running.world.jira).user("automation").comment(
        issue.key, "This issue was linked to INC-7"
    )
    settle(running, news)
    wait_for(lambda: read_since(running, replies_read, question, triage))
    settle(running, news)

    assert [c.author for c in issue.comments] == ["automation"]
    posted = [m.text for m in bot_replies(running, question) if COPY_OF_JIRA.match(m.text)]
    assert posted == ["*Automation for Jira* (in Jira):\nThis issue was linked to INC-7"]
    with Session(engine_of(running)) as session:
        stored = list(session.scalars(select(Comment)))
    assert [c.body for c in stored] == ["This issue was linked to INC-7"]


def read_since(running: Running, since: int, *roots: Message) -> bool:
    """Whether the sweep read each of ``roots``' threads after call number ``since``."""
    calls = running.world.slack.web.calls_to("conversations.replies")[since:]
    read = {(c.args.get("channel"), c.args.get("ts")) for c in calls}
    return all((root.channel, root.ts) in read for root in roots)
