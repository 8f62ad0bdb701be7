"""What the no-loops tests (``test_jira_sync_loops_*.py``) share: fixtures and helpers.

The tests: no loops, no echoes, no duplicates between a ticket's Slack threads and its Jira
issue (issue 5; ACCEPTANCE 18, 19, 20, 22 and 27), on Cloud and Server, with Jira's news
coming by signed webhooks from the fake Jira and, in a second run of each test, by the poller
alone.

Everything Deskhand writes comes back to it: its Slack posts and edits as Slack events, its
Jira comments and changes as Jira webhooks or in the poller's next read. These tests count,
on both sides, what people wrote and what Deskhand copied, and require the two to match
exactly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.jira.model import Comment as JiraComment
from sandbox.jira.model import Issue
from sandbox.slack.state import Message
from tests.e2e.conftest import Running
from tests.e2e.jira_news import DELIVERIES, JiraNews, jira_news
from tests.e2e.jira_news import build_options as delivery_options
from tests.e2e.test_jira_sync_out import JIRA_CONFIG
from tests.waiting import DEADLINE

COPY_OF_JIRA = re.compile(r"^\*(?P<name>[^*]+)\* \((?:internal note )?in Jira\):\n")
"""How the bot's post of a Jira comment begins."""


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport() -> str:
    return "socket"  # both transports are covered elsewhere; here: both Jiras, both databases


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


@pytest.fixture
def sweep_interval() -> float:
    """Seconds between sweeps of the ticket threads; a test may parametrize it."""
    return 60.0


@pytest.fixture(params=DELIVERIES)
def delivery(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def build_options(sweep_interval: float, delivery: str) -> dict[str, Any]:
    return {**delivery_options(delivery), "sweep_interval": sweep_interval}


@pytest.fixture
def news(running: Running, delivery: str) -> Iterator[JiraNews]:
    with jira_news(running, delivery) as jira:
        yield jira


def settle(running: Running, news: JiraNews) -> None:
    """Until both sides are quiet: what Deskhand writes comes back to it, once more."""
    for _ in range(2):
        running.settle()
        assert news.wait_idle(DEADLINE)
    running.settle()


def open_ticket(running: Running, news: JiraNews) -> tuple[Message, Message, Issue]:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "VPN is down")
    slack.user("bob").react(question, "ticket")
    settle(running, news)
    [ticket] = running.tickets()
    assert ticket.jira_key is not None
    [triage] = slack.bot_posts("#it-triage")
    return question, triage, running.world.jira.state.issue(ticket.jira_key)


def thread(running: Running, root: Message) -> list[Message]:
    """The replies of ``root``'s thread (the root itself left out)."""
    return [m for m in running.world.slack.driver.thread(root) if m.ts != root.ts]


def bot_replies(running: Running, root: Message) -> list[Message]:
    bot = running.world.slack.workspace.bot.id
    return [m for m in thread(running, root) if m.user == bot]


def by_bot_account(running: Running, issue: Issue) -> list[JiraComment]:
    return [c for c in issue.comments if c.author == running.world.jira.bot.name]


def comment_updates(running: Running) -> list[str]:
    """The comment ids Deskhand sent an edit of to Jira, one entry per request."""
    return [
        r.path.rstrip("/").rsplit("/", 1)[-1]
        for r in running.world.jira.requests
        if r.route == "PUT /issue/{key}/comment/{comment_id}"
    ]


def slack_updates_of(running: Running, message: Message) -> int:
    calls = running.world.slack.web.calls_to("chat.update")
    return sum(1 for c in calls if c.args.get("ts") == message.ts)


def engine_of(running: Running) -> Any:
    return running.deskhand.tickets.engine


def wait_for(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
