"""The Slack port against the sandbox's Slack: lookups it may remember, it remembers."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.slack_port import SlackChatPort
from sandbox.world import SandboxWorld


def port_for(world: SandboxWorld) -> SlackChatPort:
    client = WebClient(token=world.slack.bot_token, base_url=world.slack.api_url, timeout=5)
    return SlackChatPort(client)


def test_a_permalink_is_asked_for_once(sandbox_world: SandboxWorld) -> None:
    question = sandbox_world.slack.driver.user("alice").post("#help", "VPN is down")
    port = port_for(sandbox_world)
    first = port.permalink(question.channel, question.ts)
    assert first is not None
    assert question.ts.replace(".", "") in first
    assert port.permalink(question.channel, question.ts) == first
    assert len(sandbox_world.slack.web.calls_to("chat.getPermalink")) == 1
    assert port.permalink(question.channel, "1.000001") is None  # no such message


def test_people_are_named_and_found_by_email(sandbox_world: SandboxWorld) -> None:
    alice = sandbox_world.slack.workspace.find_user("alice")
    assert alice is not None
    assert alice.email
    port = port_for(sandbox_world)
    person = port.person(alice.id)
    assert person is not None
    assert (person.name, person.email, person.is_bot) == (alice.real_name, alice.email, False)
    assert port.user_by_email(alice.email.upper()) == alice.id
    assert port.user_by_email("nobody@example.com") is None
    port.person(alice.id)
    assert len(sandbox_world.slack.web.calls_to("users.info")) == 1
