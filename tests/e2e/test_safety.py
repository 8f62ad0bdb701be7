"""Safety (ACCEPTANCE 36): private requests are redacted in the triage channel, notes stay
internal, tokens never reach the logs, and user text cannot ping anyone."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.conftest import Running
from tests.e2e.test_triage_actions import ticket


def test_a_request_from_a_private_channel_is_redacted_in_triage(running: Running) -> None:
    world = running.world
    ws = world.slack.workspace
    slack = world.slack.driver
    question = slack.user("alice").post("#help-private", "My salary slip shows the wrong IBAN")
    slack.user("bob").react(question, "ticket")
    running.settle()

    assert ticket(running).private_origin is True
    [triage] = slack.bot_posts("#it-triage")
    shown = triage.text + str(triage.blocks)
    assert "IBAN" not in shown
    assert "private conversation" in shown
    # The requester's own (private) thread does get the card with the title.
    cards = [m for m in slack.thread(question) if m.user == ws.bot.id]
    assert "IBAN" in cards[0].text


def test_hostile_text_pings_nobody(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post(
        "#help", "<!channel> <!here> <!subteam^S123> @here <https://evil.example|ok> is down"
    )
    slack.user("bob").react(question, "ticket")
    running.settle()
    for post in slack.bot_posts():
        text = post.text + str(post.blocks)
        for ping in ("<!channel>", "<!here>", "<!subteam^", "<https://evil"):
            assert ping not in text
        assert post.unfurl_links is False
        assert post.unfurl_media is False


def test_tokens_never_reach_the_logs(running: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "Laptop broken")
    slack.user("bob").react(question, "ticket")
    running.settle()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the run did log
    for secret in (
        running.world.slack.bot_token,
        running.world.slack.app_token,
        running.world.slack.signing_secret,
    ):
        assert secret not in logged
