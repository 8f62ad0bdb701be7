"""The Slack port against the sandbox's Slack: lookups it may remember, it remembers, and
forgets when they may be wrong."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.slack_port import CHANNEL_TTL, SlackChatPort
from deskhand.ports import RejectedError
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


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_channel_is_remembered_for_a_while_and_forgotten_when_it_is_gone(
    sandbox_world: SandboxWorld,
) -> None:
    ws = sandbox_world.slack.workspace
    help_channel = ws.find_channel("help")
    assert help_channel is not None
    clock = Clock()
    client = WebClient(
        token=sandbox_world.slack.bot_token, base_url=sandbox_world.slack.api_url, timeout=5
    )
    port = SlackChatPort(client, clock=clock)

    def calls() -> int:
        return len(sandbox_world.slack.web.calls_to("conversations.info"))

    info = port.channel(help_channel.id)
    assert info is not None
    assert (info.name, info.is_private) == ("help", False)
    clock.now += CHANNEL_TTL
    assert port.channel(help_channel.id) == info
    assert calls() == 1
    clock.now += 1  # too old now: asked again
    assert port.channel(help_channel.id) == info
    assert calls() == 2

    # A call that finds the channel closed to the bot forgets what was remembered.
    private = ws.add_channel("secret", private=True, members=[])
    assert port.channel(private.id) is None  # not found is never remembered
    ws.join(private, ws.bot)
    assert port.channel(private.id) is not None
    private.members.discard(ws.bot.id)  # the bot is removed
    with pytest.raises(RejectedError):
        port.post_ephemeral(private.id, ws.bot.id, "hello")
    assert port.channel(private.id) is None
    assert calls() == 5
