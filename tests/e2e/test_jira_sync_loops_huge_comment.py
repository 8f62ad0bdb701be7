"""ACCEPTANCE 27: a huge Jira comment reaches Slack once, within its limits, with a link."""

from __future__ import annotations

import pytest

from sandbox.jira import JiraDriver
from tests.e2e.conftest import Running
from tests.e2e.jira_news import JiraNews
from tests.e2e.jira_sync_loops import COPY_OF_JIRA, bot_replies, open_ticket, settle

# The fixtures, imported under their own names so pytest finds them here (they override
# those of tests/e2e/conftest.py).
from tests.e2e.jira_sync_loops import build_options as build_options
from tests.e2e.jira_sync_loops import config_text as config_text
from tests.e2e.jira_sync_loops import delivery as delivery
from tests.e2e.jira_sync_loops import jira_flavour as jira_flavour
from tests.e2e.jira_sync_loops import news as news
from tests.e2e.jira_sync_loops import sweep_interval as sweep_interval
from tests.e2e.jira_sync_loops import transport as transport

SLACK_TEXT = 40_000
SLACK_BLOCKS = 50
SLACK_SECTION = 3_000


def test_a_huge_jira_comment_reaches_slack_within_its_limits_with_a_link(
    running: Running, news: JiraNews, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ACCEPTANCE 27. Jira Cloud refuses comments over 32,767 characters; Jira Server and Data
    Center take as many as their admin allows (``jira.text.field.character.limit``), so the
    fake Jira's limit is raised to let in a 100,000-character comment, and on Cloud the
    comment is as long as Cloud allows. The text is full of ``&`` and ``<``, which grow five
    and four times when escaped for Slack. Slack gets the comment once, within its limits,
    with a link to the issue for the rest; no post is refused and none is retried."""
    from sandbox.jira.errors import TEXT_LIMIT

    flavour = running.world.jira.flavour
    length = 100_000 if flavour == "server" else TEXT_LIMIT
    monkeypatch.setattr("sandbox.jira.state.TEXT_LIMIT", max(length, TEXT_LIMIT))
    question, _, issue = open_ticket(running, news)
    posts_before = len(running.world.slack.web.calls_to("chat.postMessage"))
    unit = "Step <b>&</b> restart; "
    huge = (unit * (length // len(unit) + 1))[:length]
    assert len(huge) == length
    JiraDriver(running.world.jira).user("carol").comment(issue.key, huge)
    settle(running, news)

    posted = [m for m in bot_replies(running, question) if COPY_OF_JIRA.match(m.text)]
    assert posted, "the comment never reached Slack"
    calls = running.world.slack.web.calls_to("chat.postMessage")[posts_before:]
    assert [c.ok for c in calls] == [True] * len(calls), [c.error for c in calls]
    assert len(calls) == len(posted)  # nothing refused, nothing sent twice
    for message in posted:
        assert len(message.text) <= SLACK_TEXT
        assert len(message.blocks) <= SLACK_BLOCKS
        for block in message.blocks:
            if block.get("type") == "section":
                assert len(str(block.get("text", {}).get("text", ""))) <= SLACK_SECTION
    shown = "".join(m.text for m in posted)
    assert "Step &lt;b&gt;&amp;&lt;/b&gt; restart;" in shown
    assert len(shown) < len(huge)  # not all of it: the rest is one click away
    assert f"/browse/{issue.key}|" in posted[-1].text
