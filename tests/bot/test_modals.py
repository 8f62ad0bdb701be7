"""The /helpdesk modal and the checking of what is submitted."""

from __future__ import annotations

from typing import Any

from bot import modals
from bot.blocks import limit_problems
from bot.listeners.messages_intake import message_intake_event
from bot.modals import Choice, Input, Request, read_submission, request_modal
from deskhand.config import Config, parse_config
from deskhand.domain import Priority
from deskhand.events import ChannelMessage, DirectMessage
from sandbox.slack.blocks import view_problems
from sandbox.slack.driver import _state_values

CONFIG = """\
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
    services: [Laptop, VPN]
    forms:
      - name: everyone
        fields:
          - {id: location, label: Office, type: select, options: [Berlin, Lyon], required: true}
          - {id: details, label: Details, type: multiline}
      - name: laptops
        services: [Laptop]
        fields:
          - {id: model, label: Model, type: text, required: true}
          - {id: owner, label: Owner, type: user}
          - {id: needed_by, label: Needed by, type: date}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage}
"""


def config() -> Config:
    return parse_config(CONFIG)


def action_ids(view: dict[str, Any]) -> list[str]:
    return [block["element"]["action_id"] for block in view["blocks"]]


def submitted(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The view as a view_submission carries it, filled in like Slack would."""
    return {**view, "state": {"values": _state_values(view["blocks"], values)}}


def test_the_modal_prefills_the_text_and_shows_the_first_teams_form() -> None:
    view = request_modal(config(), text="VPN drops <every> hour", channel="C1")
    assert view_problems(view) == []
    assert limit_problems(view["blocks"], surface="view") == []
    assert action_ids(view) == [
        Input.TITLE,
        Input.DESCRIPTION,
        Input.TEAM_SERVICE,
        Input.PRIORITY,
        "request_field_location",
        "request_field_details",
    ]
    description = view["blocks"][1]["element"]
    assert description["initial_value"] == "VPN drops <every> hour"
    assert description["multiline"] is True
    team = view["blocks"][2]
    assert team["dispatch_action"] is True
    assert [o["text"]["text"] for o in team["element"]["options"]] == [
        "IT",
        "IT · Laptop",
        "IT · VPN",
        "HR",
    ]
    assert view["blocks"][3]["element"]["initial_option"]["value"] == "normal"
    assert view["blocks"][4]["optional"] is False  # a required field
    assert view["blocks"][5]["optional"] is True
    assert modals.metadata_channel(view) == "C1"


def test_a_service_adds_its_forms_fields_with_their_element_types() -> None:
    view = request_modal(config(), channel=None, choice=Choice("IT", "Laptop"))
    elements = {block["element"]["action_id"]: block["element"] for block in view["blocks"]}
    assert elements["request_field_model"]["type"] == "plain_text_input"
    assert elements["request_field_owner"]["type"] == "users_select"
    assert elements["request_field_needed_by"]["type"] == "datepicker"
    assert elements["request_field_location"]["type"] == "static_select"
    assert view["blocks"][2]["element"]["initial_option"]["text"]["text"] == "IT · Laptop"


def test_an_update_keeps_what_was_typed() -> None:
    first = request_modal(config(), text="hello", channel="C1")
    state = _state_values(first["blocks"], {Input.TITLE: "Broken", Input.PRIORITY: "high"})
    again = request_modal(config(), channel="C1", choice=Choice("HR"), values=state)
    assert again["blocks"][0]["element"]["initial_value"] == "Broken"
    assert again["blocks"][3]["element"]["initial_option"]["value"] == "high"
    assert action_ids(again)[4:] == []  # HR has no form


def test_a_valid_submission_is_read_with_fields_priority_and_service() -> None:
    view = request_modal(config(), text="x", channel="C9", choice=Choice("IT", "Laptop"))
    request = read_submission(
        config(),
        submitted(
            view,
            {
                Input.TITLE: "  New laptop  ",
                Input.DESCRIPTION: "mine is slow",
                Input.TEAM_SERVICE: Choice("IT", "Laptop").value,
                Input.PRIORITY: "high",
                "request_field_location": "Lyon",
                "request_field_model": "X1",
                "request_field_owner": "U0ALICE",
                "request_field_needed_by": "2031-01-02",
            },
        ),
    )
    assert request == Request(
        team="IT",
        service="Laptop",
        title="New laptop",
        description="mine is slow",
        priority=Priority.HIGH,
        fields={"location": "Lyon", "model": "X1", "owner": "U0ALICE", "needed_by": "2031-01-02"},
        channel="C9",
    )


def test_errors_name_the_right_blocks() -> None:
    view = request_modal(config(), channel=None, choice=Choice("IT", "Laptop"))
    errors = read_submission(
        config(),
        submitted(
            view,
            {
                Input.TITLE: "x" * 256,
                Input.TEAM_SERVICE: Choice("IT", "Laptop").value,
                "request_field_location": None,
                "request_field_owner": "not-a-user",
                "request_field_needed_by": "tomorrow",
            },
        ),
    )
    assert isinstance(errors, dict)
    assert set(errors) == {
        Input.TITLE,
        "request_field_location",
        "request_field_model",
        "request_field_owner",
        "request_field_needed_by",
    }
    assert "255" in errors[Input.TITLE]
    assert errors["request_field_model"] == "This field is required."


def test_blank_titles_unknown_choices_and_unknown_options_are_refused() -> None:
    view = request_modal(config(), channel=None)
    state = _state_values(view["blocks"], {Input.TITLE: "   "})
    # Options Slack would never send (a stale modal after a config change), set by hand.
    state[Input.TEAM_SERVICE][Input.TEAM_SERVICE]["selected_option"] = {"value": '["Ops",null]'}
    state[Input.PRIORITY][Input.PRIORITY]["selected_option"] = {"value": "whenever"}
    errors = read_submission(config(), {**view, "state": {"values": state}})
    assert isinstance(errors, dict)
    assert set(errors) == {Input.TITLE, Input.TEAM_SERVICE, Input.PRIORITY}

    state = _state_values(
        view["blocks"], {Input.TITLE: "ok", Input.TEAM_SERVICE: Choice("IT").value}
    )
    state["request_field_location"]["request_field_location"]["selected_option"] = {"value": "Oz"}
    errors = read_submission(config(), {**view, "state": {"values": state}})
    assert errors == {"request_field_location": "Choose one of the options offered."}


def test_a_required_field_the_modal_did_not_show_asks_to_choose_again() -> None:
    view = request_modal(config(), channel=None, choice=Choice("HR"))  # no IT fields shown
    state = _state_values(view["blocks"], {Input.TITLE: "t"})
    state[Input.TEAM_SERVICE][Input.TEAM_SERVICE]["selected_option"] = {"value": Choice("IT").value}
    errors = read_submission(config(), {**view, "state": {"values": state}})
    assert isinstance(errors, dict)
    assert list(errors) == [Input.TEAM_SERVICE]


def test_long_service_names_and_many_options_stay_within_slacks_limits() -> None:
    many = parse_config(
        "teams:\n  - name: IT\n    key_prefix: IT\n    triage_channel: it\n    services: ["
        + ", ".join(f"s{n}" for n in range(150))
        + ", "
        + "x" * 90
        + "]\n"
    )
    view = request_modal(many, text="t" * 5000, channel=None)
    assert view_problems(view) == []
    assert limit_problems(view["blocks"], surface="view") == []
    assert len(view["blocks"][1]["element"]["initial_value"]) <= modals.TEXT_MAX


def envelope(**event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"event": event, "authorizations": [{"user_id": "UBOT", "is_bot": True}]}
    return body, event


def test_message_events_become_intake_events_only_for_peoples_top_level_messages() -> None:
    dm = envelope(type="message", user="U1", channel="D1", ts="1.0", channel_type="im")
    assert message_intake_event(*dm) == DirectMessage(user="U1", channel="D1", ts="1.0")
    top = envelope(type="message", user="U1", channel="C1", ts="2.0", channel_type="channel")
    assert message_intake_event(*top) == ChannelMessage(user="U1", channel="C1", ts="2.0")
    shared = envelope(type="message", subtype="file_share", user="U1", channel="C1", ts="3.0")
    assert isinstance(message_intake_event(*shared), ChannelMessage)
    parent = envelope(type="message", user="U1", channel="C1", ts="4.0", thread_ts="4.0")
    assert isinstance(message_intake_event(*parent), ChannelMessage)
    ignored = [
        envelope(type="message", user="U1", channel="C1", ts="5.0", thread_ts="4.0"),
        envelope(type="message", user="UB", channel="C1", ts="6.0", bot_id="B1"),
        envelope(type="message", user="UBOT", channel="C1", ts="7.0"),
        envelope(type="message", subtype="message_changed", channel="C1", ts="8.0", hidden=True),
        envelope(type="message", subtype="channel_join", user="U1", channel="C1", ts="9.0"),
    ]
    assert [message_intake_event(*e) for e in ignored] == [None] * len(ignored)
