"""What a dead letter's report says at each stage of its row: set aside, retried, through,
set aside again; in words a triage agent reads, with user text escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.dead_letter_messages import (
    ACTION_LABELS,
    action_label,
    dead_message,
    retrying_message,
    went_through_message,
)
from bot.listeners.dead_letters import RETRY_ACTION
from deskhand.dead_letter_reports import Retried

AGENT = "U0AGENT"
AT = datetime(2026, 3, 5, 9, 42, 7, tzinfo=UTC)
"""10:42 in Berlin (CET)."""
BY_AGENT = Retried(AGENT, "slack", AT)
BY_CLI = Retried("cli", "cli", AT)


@pytest.fixture
def details() -> dict[str, Any]:
    return {
        "ticket_id": 1,
        "row_id": 42,
        "action": "create_jira_issue",
        "target": "jira",
        "attempts": 12,
        "error": "400: <!channel> @here <https://evil.example|ok> " + "x" * 5000,
    }


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def shown(blocks: list[dict[str, Any]]) -> str:
    """Every mrkdwn text of the blocks, in order."""
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    texts += [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    return "\n".join(texts)


def test_the_report_names_the_failure_in_words_escapes_the_error_and_offers_retry(
    details: dict[str, Any],
) -> None:
    text, blocks = dead_message("IT-7", details, zone="UTC")
    assert text == "IT-7: creating the Jira issue failed and was set aside"
    assert ":warning: *IT-7*: creating the Jira issue failed after 12 attempts" in shown(blocks)
    assert "Last error from Jira:" in shown(blocks)
    assert "<!channel>" not in str(blocks)
    assert "<https://evil" not in str(blocks)
    assert "&lt;!channel&gt;" in str(blocks)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    [button] = buttons(blocks)
    assert (button["action_id"], button["value"]) == (RETRY_ACTION, "42")
    assert "`deskhand sync retry 42`" in shown(blocks)


def test_a_report_after_a_retry_that_died_says_so_and_offers_retry_again(
    details: dict[str, Any],
) -> None:
    text, blocks = dead_message("IT-7", {**details, "attempts": 3}, zone="UTC", retried=BY_AGENT)
    assert text == "IT-7: creating the Jira issue failed again and was set aside"
    assert "creating the Jira issue failed again after 3 attempts" in shown(blocks)
    assert f"Retried by <@{AGENT}> " in shown(blocks)
    assert "and it failed again" in shown(blocks)
    [button] = buttons(blocks)
    assert button["value"] == "42"


def test_while_retrying_the_report_says_who_and_offers_no_button(
    details: dict[str, Any],
) -> None:
    text, blocks = retrying_message("IT-7", details, BY_AGENT, zone="UTC")
    assert text == "IT-7: creating the Jira issue is being tried again"
    assert buttons(blocks) == []
    assert f"Retried by <@{AGENT}> " in shown(blocks)
    assert shown(blocks).endswith(": trying again.")
    _, by_cli = retrying_message("IT-7", details, BY_CLI, zone="UTC")
    assert "Retried with `deskhand sync retry` " in shown(by_cli)
    assert "<@" not in shown(by_cli)


def test_once_through_the_report_says_when_and_by_whose_retry_without_a_button(
    details: dict[str, Any],
) -> None:
    text, blocks = went_through_message(
        "IT-3", details, at=AT, retried=BY_AGENT, zone="Europe/Berlin"
    )
    assert text == "IT-3: creating the Jira issue went through on retry"
    assert buttons(blocks) == []
    headline = shown(blocks).splitlines()[0]
    assert headline.startswith(":white_check_mark: *IT-3*: creating the Jira issue went through")
    # Slack shows the time on each reader's clock; the fallback is the team's.
    token = f"<!date^{int(AT.timestamp())}^{{date_short_pretty}} at {{time}}|Mar 5 at 10:42 CET>"
    assert f"on retry {token} (by <@{AGENT}>)." in headline
    assert "evil" not in str(blocks)  # the error is history now

    _, by_cli = went_through_message("IT-3", details, at=AT, retried=BY_CLI, zone="UTC")
    assert "|Mar 5 at 09:42 UTC> (by `deskhand sync retry`)." in shown(by_cli)
    _, unknown = went_through_message("IT-3", details, at=AT, retried=None, zone="UTC")
    assert "09:42 UTC>." in shown(unknown)


def test_every_message_names_the_action_in_words_not_by_its_internal_name(
    details: dict[str, Any],
) -> None:
    messages = [
        dead_message("IT-7", details, zone="UTC"),
        dead_message("IT-7", details, zone="UTC", retried=BY_CLI),
        retrying_message("IT-7", details, BY_CLI, zone="UTC"),
        went_through_message("IT-7", details, at=AT, retried=BY_CLI, zone="UTC"),
    ]
    for text, blocks in messages:
        assert "create_jira_issue" not in text
        assert "create_jira_issue" not in shown(blocks)
        assert "creating the Jira issue" in text


def test_an_action_without_a_label_reads_as_its_name_in_words() -> None:
    assert action_label("jira_add_comment") == ACTION_LABELS["jira_add_comment"]
    assert action_label("frobnicate_the_widget") == "frobnicate the widget"
    assert action_label("<!here>_x") == "&lt;!here&gt; x"
    text, _ = dead_message(
        "IT-7",
        {"row_id": 1, "action": "frobnicate_the_widget", "target": "jira", "attempts": 1},
        zone="UTC",
    )
    assert text == "IT-7: frobnicate the widget failed and was set aside"
