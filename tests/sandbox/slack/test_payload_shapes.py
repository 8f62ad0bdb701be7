"""Events and interaction payloads have the field shapes of Slack's recorded samples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.slack.delivery import Reply
from sandbox.slack.fake import SlackFake
from sandbox.slack.state import Message
from tests.contracts.slack import SlackContract


class Recorder:
    """A transport that keeps what Slack would send, so shapes can be checked directly."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.interactions: list[tuple[str, dict[str, Any]]] = []

    def deliver_event(self, envelope: dict[str, Any]) -> None:
        self.events.append(envelope)

    def deliver_interaction(self, kind: str, payload: dict[str, Any]) -> Reply:
        self.interactions.append((kind, payload))
        return Reply(200, None, 0.0)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return True

    def close(self) -> None:
        return None

    def event(self, event_type: str, subtype: str | None = None) -> dict[str, Any]:
        for envelope in self.events:
            inner = envelope["event"]
            if inner["type"] == event_type and inner.get("subtype") == subtype:
                return envelope
        raise LookupError(f"no {event_type}/{subtype} event among {len(self.events)}")


@pytest.fixture
def recorded() -> Iterator[tuple[SlackFake, Recorder]]:
    with SlackFake(rate_limits=False) as fake:
        ws = fake.workspace
        alice = ws.add_user("alice")
        ws.add_channel("help", members=[alice, ws.bot])
        recorder = Recorder()
        fake.router.transport = recorder
        yield fake, recorder


def card(fake: SlackFake) -> Message:
    blocks = [
        {
            "type": "actions",
            "block_id": "triage",
            "elements": [
                {
                    "type": "button",
                    "action_id": "claim",
                    "text": {"type": "plain_text", "text": "Claim"},
                    "value": "IT-1",
                }
            ],
        }
    ]
    channel = fake.workspace.find_channel("help")
    assert channel is not None
    return fake.workspace.post(channel, fake.workspace.bot, "card", blocks=blocks)


def no_problems(contract: SlackContract, kind: str, body: dict[str, Any]) -> None:
    if kind.startswith("events/"):
        assert contract.event_problems(kind, body) == []
    elif kind.endswith("SlashCommandPayload"):
        assert contract.form_problems(kind, body) == []
    else:
        assert contract.shape_problems(kind, body) == []


def test_message_events(recorded: tuple[SlackFake, Recorder], contract: SlackContract) -> None:
    fake, recorder = recorded
    alice = fake.driver.user("alice")
    question = alice.post("#help", "VPN is down")
    alice.reply(question, "still down")
    alice.edit(question, "VPN is down again")
    card(fake)
    alice.delete(question)
    for envelope in recorder.events:
        inner = envelope["event"]
        kind = {
            "message_changed": "events/MessageChangedPayload",
            "message_deleted": "events/MessageDeletedPayload",
            None: "events/MessagePayload",
        }[inner.get("subtype")]
        if inner["type"] == "message":
            no_problems(contract, kind, envelope)


def test_file_share_event(recorded: tuple[SlackFake, Recorder], contract: SlackContract) -> None:
    fake, recorder = recorded
    files = [{"id": "F0001", "name": "screenshot.png", "mimetype": "image/png"}]
    fake.driver.user("alice").post("#help", "see attached", files=files)
    no_problems(contract, "events/MessageFileSharePayload", recorder.event("message", "file_share"))


def test_reaction_join_and_home_events(
    recorded: tuple[SlackFake, Recorder], contract: SlackContract
) -> None:
    fake, recorder = recorded
    ws = fake.workspace
    bob = ws.add_user("bob")
    alice = fake.driver.user("alice")
    message = alice.post("#help", "hi")
    alice.react(message, "ticket")
    fake.driver.user("bob").post("#help", "joining by posting")
    alice.open_home()
    no_problems(contract, "events/ReactionAddedPayload", recorder.event("reaction_added"))
    joined = recorder.event("member_joined_channel")
    assert joined["event"]["user"] == bob.id
    no_problems(contract, "events/MemberJoinedChannelPayload", joined)
    no_problems(contract, "events/AppHomeOpenedPayload", recorder.event("app_home_opened"))


def test_interaction_payloads(
    recorded: tuple[SlackFake, Recorder], contract: SlackContract
) -> None:
    fake, recorder = recorded
    alice = fake.driver.user("alice")
    question = alice.post("#help", "printer jammed")
    alice.command("/helpdesk", "printer jammed")
    alice.shortcut(question, "create_ticket_from_message")
    alice.click(card(fake), "claim")
    modal = {
        "type": "modal",
        "callback_id": "new_ticket",
        "notify_on_close": True,
        "title": {"type": "plain_text", "text": "New ticket"},
        "submit": {"type": "plain_text", "text": "Create"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "title"},
            }
        ],
    }
    trigger = fake.workspace.issue_trigger(alice.user)
    from slack_sdk import WebClient

    opened = WebClient(base_url=fake.api_url, token=fake.bot_token).views_open(
        trigger_id=trigger, view=modal
    )
    view = fake.workspace.views[opened["view"]["id"]]
    alice.submit(view, {"title": "Printer"})
    fake.workspace.open_view(view)
    alice.close(view)
    kinds = [(kind, payload.get("type", "command")) for kind, payload in recorder.interactions]
    assert kinds == [
        ("slash_commands", "command"),
        ("interactive", "message_action"),
        ("interactive", "block_actions"),
        ("interactive", "view_submission"),
        ("interactive", "view_closed"),
    ]
    samples = {
        "command": "app-backend/slash-commands/SlashCommandPayload",
        "message_action": "app-backend/interactive-components/MessageShortcutPayload",
        "block_actions": "app-backend/interactive-components/BlockActionPayload",
        "view_submission": "app-backend/views/ViewSubmissionPayload",
        "view_closed": "app-backend/views/ViewClosedPayload",
    }
    for _, payload in recorder.interactions:
        no_problems(contract, samples[payload.get("type", "command")], payload)
    submitted = recorder.interactions[3][1]
    assert submitted["view"]["state"]["values"] == {
        "title": {"title": {"type": "plain_text_input", "value": "Printer"}}
    }
