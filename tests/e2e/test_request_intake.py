"""The other ways in: /helpdesk and its modal, the message shortcut, DMs to the bot and
auto-ticket channels, over both transports and both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.faults import Fault, FaultKind
from sandbox.slack.state import View
from storage.models import Ticket
from tests.e2e.conftest import Running

CONFIG = """\
slack:
  request_channels: [help]
  auto_ticket_channels: [it-requests]
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
    services: [Laptop, VPN]
    forms:
      - name: everyone
        fields:
          - {id: location, label: Office, type: select, options: [Berlin, Lyon], required: true}
      - name: laptops
        services: [Laptop]
        fields:
          - {id: model, label: Model, type: text, required: true}
          - {id: needed_by, label: Needed by, type: date}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage}
"""


@pytest.fixture
def config_text() -> str:
    return CONFIG


@pytest.fixture
def extra_public_channels() -> list[str]:
    return ["it-requests", "random"]


def open_form(running: Running, text: str = "") -> View:
    slack = running.world.slack.driver
    reply = slack.user("alice").command("/helpdesk", text, channel="#help")
    assert reply.status == 200
    view = slack.open_modal(slack.user("alice"))
    assert view is not None
    return view


def input_ids(view: View) -> list[str]:
    return [b["element"]["action_id"] for b in view.body["blocks"] if b["type"] == "input"]


def test_helpdesk_opens_the_form_with_the_text_and_the_teams_fields(running: Running) -> None:
    view = open_form(running, "my laptop <is> slow")
    description = view.body["blocks"][1]["element"]
    assert description["initial_value"] == "my laptop <is> slow"
    assert "request_field_location" in input_ids(view)
    assert "request_field_model" not in input_ids(view)

    alice = running.world.slack.driver.user("alice")
    alice.click(view, "request_team_service", value='["IT","Laptop"]')
    updated = running.world.slack.driver.open_modal(alice)
    assert updated is not None
    assert updated.id == view.id  # the same modal, updated in place
    assert input_ids(updated)[-3:] == [
        "request_field_location",
        "request_field_model",
        "request_field_needed_by",
    ]


def test_an_invalid_submission_gets_errors_on_its_blocks_and_no_ticket(running: Running) -> None:
    view = open_form(running)
    alice = running.world.slack.driver.user("alice")
    reply = alice.submit(view, {"request_title": "", "request_team_service": '["IT",null]'})
    assert reply.body["response_action"] == "errors"
    assert set(reply.body["errors"]) == {"request_title", "request_field_location"}
    running.settle()
    assert running.tickets() == []
    assert running.world.slack.driver.open_modal(alice) is not None  # still open to fix


def test_a_valid_submission_makes_a_ticket_confirmed_in_the_dm(running: Running) -> None:
    slack = running.world.slack.driver
    alice = slack.user("alice")
    view = open_form(running, "it will not boot")
    alice.click(view, "request_team_service", value='["IT","Laptop"]')
    assert slack.open_modal(alice) is view
    values = {
        "request_title": "Laptop <!channel> dead",
        "request_description": "it will not boot",
        "request_team_service": '["IT","Laptop"]',
        "request_priority": "high",
        "request_field_location": "Berlin",
        "request_field_model": "X1 Carbon",
    }
    reply = alice.submit(view, values)
    assert reply.body in (None, "", {})
    assert slack.open_modal(alice) is None
    alice.submit(view, values)  # a redelivered submission changes nothing
    running.settle()

    [ticket] = running.tickets()
    assert (ticket.key, ticket.title, ticket.priority, ticket.service) == (
        "IT-1",
        "Laptop <!channel> dead",
        "high",
        "Laptop",
    )
    assert ticket.fields == {"location": "Berlin", "model": "X1 Carbon"}
    assert (ticket.origin_kind, ticket.origin_channel, ticket.requester) == (
        "command",
        None,
        alice.user.id,
    )
    dm = running.world.slack.workspace.im_channel(
        alice.user.id, running.world.slack.workspace.bot.id
    )
    confirmation = slack.bot_posts(dm.id)[0]  # then the ticket card, in its thread
    assert "IT-1" in confirmation.text
    assert "&lt;!channel&gt;" in confirmation.text
    assert (ticket.thread_channel, ticket.thread_ts) == (dm.id, confirmation.ts)
    [_, card] = slack.thread(confirmation)
    assert "IT-1" in card.text
    [triage] = slack.bot_posts("#it-triage")
    assert "IT-1" in triage.text


def test_the_form_opens_first_and_an_expired_trigger_gets_an_apology(running: Running) -> None:
    world = running.world
    slow = Fault(FaultKind.TIMEOUT, times=None, delay=4)
    for method in ("chat.postMessage", "conversations.info", "reactions.get"):
        world.slack.web.faults.add(method, slow)
    try:
        slack = world.slack.driver
        reply = slack.user("alice").command("/helpdesk", "help")
        # Acknowledged within Slack's 3 s (the sandbox takes a later ack for none), so no
        # slow call came first; and the form is open, so views.open met the trigger's 3 s.
        assert reply.status == 200
        assert slack.open_modal(slack.user("alice")) is not None
    finally:
        world.slack.web.faults.clear()

    world.slack.workspace.trigger_lifetime = 0
    dave = slack.user("dave")
    reply = dave.command("/helpdesk", "printer")
    assert reply.status == 200
    assert slack.open_modal(dave) is None
    [sorry] = slack.ephemerals(dave)
    assert "did not open in time" in sorry["text"]


def test_the_shortcut_makes_one_ticket_from_any_message_the_bot_sees(running: Running) -> None:
    slack = running.world.slack.driver
    message = slack.user("alice").post("#random", "the coffee machine leaks")
    slack.user("dave").shortcut(message, "create_ticket_from_message")
    slack.user("bob").shortcut(message, "create_ticket_from_message")
    running.settle()

    [ticket] = running.tickets()
    assert (ticket.origin_kind, ticket.requester, ticket.title) == (
        "shortcut",
        slack.user("alice").user.id,
        "the coffee machine leaks",
    )
    assert (
        len([m for m in slack.thread(message) if m.user == running.world.slack.workspace.bot.id])
        == 1
    )
    # Bob is not in #random, so he cannot be shown an ephemeral there: he is told in a DM.
    ws = running.world.slack.workspace
    [again] = slack.bot_posts(ws.im_channel(slack.user("bob").user.id, ws.bot.id).id)
    assert "already is ticket IT-1" in again.text


def test_a_dm_gets_a_button_and_the_click_makes_one_ticket(running: Running) -> None:
    slack = running.world.slack.driver
    alice = slack.user("alice")
    question = alice.dm_bot("my badge stopped working")
    running.settle()
    [offer] = [m for m in slack.thread(question) if m.user == running.world.slack.workspace.bot.id]
    assert running.tickets() == []
    alice.click(offer, "create_ticket_from_dm")
    alice.click(offer, "create_ticket_from_dm")
    running.settle()

    [ticket] = running.tickets()
    assert (ticket.origin_kind, ticket.requester, ticket.private_origin) == (
        "dm",
        alice.user.id,
        True,
    )
    assert (ticket.thread_channel, ticket.thread_ts) == (question.channel, question.ts)
    [triage] = slack.bot_posts("#it-triage")
    assert "badge" not in str(triage.blocks)  # a DM's text stays out of the triage channel


def test_auto_ticket_channels_ticket_each_top_level_message(running: Running) -> None:
    slack = running.world.slack.driver
    first = slack.user("alice").post("#it-requests", "monitor flickers")
    slack.user("bob").reply(first, "which floor?")
    slack.user("dave").post("#it-requests", "need a new mouse")
    slack.user("alice").post("#help", "not an auto channel")
    ws = running.world.slack.workspace
    channel = ws.find_channel("it-requests")
    assert channel is not None
    ws.post(channel, ws.add_bot("other-bot"), "a bot's post")
    running.settle()

    tickets: list[Ticket] = running.tickets()
    assert sorted((t.title, t.origin_kind) for t in tickets) == [
        ("monitor flickers", "auto"),
        ("need a new mouse", "auto"),
    ]
    with Session(running.deskhand.tickets.engine) as session:
        assert session.scalar(select(Ticket.id).where(Ticket.title == "which floor?")) is None
