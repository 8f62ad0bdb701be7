"""The /helpdesk request form: the modal, and reading (checking) what was submitted.

The form depends on the chosen team or service, so the team select dispatches an action and
the modal is updated with that choice's form fields (``views.update``), rather than showing
every team's fields at once: then a required field of one team never blocks a request to
another, and the modal stays short. The first team is chosen when the modal opens.

Both functions here are pure: the Bolt listeners (``bot/listeners/requests.py``) call Slack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bot import text as t
from deskhand.config import Config
from deskhand.config.schema import FieldType, FormField, Team
from deskhand.domain import Priority

Block = dict[str, Any]

CALLBACK_ID = "helpdesk_request"
TITLE_MAX = 255
"""A ticket title's limit (and Jira's summary limit)."""
TEXT_MAX = 3_000
"""plain_text_input's own maximum length."""
SERVICE_MAX = 80
"""The longest service name a ticket stores; longer ones are not offered."""
_FIELD = "request_field_"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class Input(StrEnum):
    """Block id and action id (the same) of the modal's fixed inputs."""

    TITLE = "request_title"
    DESCRIPTION = "request_description"
    TEAM_SERVICE = "request_team_service"
    PRIORITY = "request_priority"


@dataclass(frozen=True)
class Choice:
    """A team, or one of its services: an option of the team-or-service select."""

    team: str
    service: str | None = None

    @property
    def value(self) -> str:
        return json.dumps([self.team, self.service], separators=(",", ":"))

    @property
    def label(self) -> str:
        return f"{self.team} · {self.service}" if self.service else self.team

    @classmethod
    def parse(cls, value: Any) -> Choice | None:
        try:
            team, service = json.loads(value)
        except (TypeError, ValueError):
            return None
        if not isinstance(team, str) or not (service is None or isinstance(service, str)):
            return None
        return cls(team, service)


@dataclass(frozen=True)
class Request:
    """A checked submission."""

    team: str
    service: str | None
    title: str
    description: str
    priority: Priority
    fields: dict[str, str]
    """Answers by field id; unanswered optional fields are left out."""
    channel: str | None


def choices(config: Config) -> list[Choice]:
    """Each team, then each of its services, as long as Slack's 100 options allow."""
    found = []
    for team in config.teams:
        found.append(Choice(team.name))
        found += [Choice(team.name, s) for s in team.services if len(s) <= SERVICE_MAX]
    fitting = [c for c in found if len(c.value) <= t.OPTION_VALUE]
    return fitting[: t.SELECT_OPTIONS]


def form_fields(team: Team, service: str | None) -> list[FormField]:
    """The fields of the team's forms for everyone (no services named) and for ``service``;
    a field id asked by two forms is asked once."""
    fields: dict[str, FormField] = {}
    for form in team.forms:
        if not form.services or (service is not None and service in form.services):
            for field in form.fields:
                fields.setdefault(field.id, field)
    return list(fields.values())


def metadata(channel: str | None) -> str:
    """private_metadata: the channel the command came from (a few dozen characters)."""
    return json.dumps({"channel": channel})


def metadata_channel(view: dict[str, Any]) -> str | None:
    try:
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")
    except (ValueError, AttributeError):
        return None
    return channel if isinstance(channel, str) else None


def request_modal(
    config: Config,
    *,
    text: str = "",
    channel: str | None,
    choice: Choice | None = None,
    values: dict[str, Any] | None = None,
) -> Block:
    """The modal for ``choice`` (the first team when None), the description prefilled with
    ``text``. ``values`` (a view's state values) carries what was typed into a new version."""
    offered = choices(config)
    choice = choice if choice in offered else offered[0]
    answers = _answers(values or {})
    title = str(answers.get(Input.TITLE) or "")
    description = str(answers.get(Input.DESCRIPTION) or text)
    priority = str(answers.get(Input.PRIORITY) or Priority.NORMAL.value)
    blocks: list[Block] = [
        _input(Input.TITLE, "Title", _text_input(Input.TITLE, title, TITLE_MAX)),
        _input(
            Input.DESCRIPTION,
            "Description",
            _text_input(Input.DESCRIPTION, description, TEXT_MAX, multiline=True),
            optional=True,
        ),
        {
            **_input(
                Input.TEAM_SERVICE,
                "Team or service",
                _select(Input.TEAM_SERVICE, [(c.label, c.value) for c in offered], choice.value),
            ),
            "dispatch_action": True,
        },
        _input(
            Input.PRIORITY,
            "Priority",
            _select(Input.PRIORITY, [(p.label, p.value) for p in Priority], priority),
        ),
    ]
    for field in form_fields(config.team(choice.team), choice.service):
        if len(blocks) >= t.BLOCKS_PER_VIEW:
            break
        action_id = _FIELD + field.id
        element = _field_element(field, action_id, answers.get(action_id))
        blocks.append(_input(action_id, field.label, element, optional=not field.required))
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain("Ask for help", t.MODAL_TITLE),
        "submit": _plain("Send", t.MODAL_TITLE),
        "close": _plain("Cancel", t.MODAL_TITLE),
        "private_metadata": metadata(channel),
        "blocks": blocks,
    }


def read_submission(config: Config, view: dict[str, Any]) -> Request | dict[str, str]:
    """The checked request, or the errors to show, by block id (``response_action: errors``)."""
    answers = _answers((view.get("state") or {}).get("values") or {})
    errors: dict[str, str] = {}
    title = str(answers.get(Input.TITLE) or "").strip()
    if not title:
        errors[Input.TITLE] = "Please give your request a title."
    elif len(title) > TITLE_MAX:
        errors[Input.TITLE] = f"At most {TITLE_MAX} characters, please (this has {len(title)})."
    description = str(answers.get(Input.DESCRIPTION) or "")
    if len(description) > TEXT_MAX:
        errors[Input.DESCRIPTION] = f"At most {TEXT_MAX} characters, please."
    priority = _priority(answers.get(Input.PRIORITY))
    if priority is None:
        errors[Input.PRIORITY] = "Choose one of the priorities offered."
    choice = Choice.parse(answers.get(Input.TEAM_SERVICE))
    team = _team(config, choice)
    fields: dict[str, str] = {}
    if choice is None or team is None:
        errors[Input.TEAM_SERVICE] = "Choose a team or service from the list."
    else:
        shown = {block.get("block_id") for block in view.get("blocks", [])}
        for field in form_fields(team, choice.service):
            action_id = _FIELD + field.id
            if action_id not in shown:
                if field.required:
                    errors[Input.TEAM_SERVICE] = "The form changed: choose again to see it."
                continue
            answer, problem = _check_field(field, answers.get(action_id))
            if problem:
                errors[action_id] = problem
            elif answer:
                fields[field.id] = answer
    if errors or choice is None or priority is None:
        return errors
    return Request(
        team=choice.team,
        service=choice.service,
        title=title,
        description=description,
        priority=priority,
        fields=fields,
        channel=metadata_channel(view),
    )


def _team(config: Config, choice: Choice | None) -> Team | None:
    if choice is None:
        return None
    team = next((team for team in config.teams if team.name == choice.team), None)
    if team is None or (choice.service is not None and choice.service not in team.services):
        return None
    return team


def _priority(value: Any) -> Priority | None:
    if value in (None, ""):
        return Priority.NORMAL
    try:
        return Priority(value)
    except ValueError:
        return None


def _check_field(field: FormField, answer: Any) -> tuple[str | None, str | None]:
    """(the answer as stored, None) or (None, what is wrong with it)."""
    value = "" if answer is None else str(answer).strip()
    if not value:
        return None, "This field is required." if field.required else None
    if field.type is FieldType.SELECT and value not in field.options:
        return None, "Choose one of the options offered."
    if field.type is FieldType.USER and not _USER_ID.fullmatch(value):
        return None, "Choose a person."
    if field.type is FieldType.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, "Choose a date."
    if len(value) > TEXT_MAX:
        return None, f"At most {TEXT_MAX} characters, please."
    return value, None


def _answers(values: dict[str, Any]) -> dict[str, Any]:
    """view.state.values flattened to action id -> the chosen or typed value."""
    answers: dict[str, Any] = {}
    for actions in values.values():
        for action_id, state in (actions or {}).items():
            if not isinstance(state, dict):
                continue
            option = state.get("selected_option")
            if isinstance(option, dict):
                answers[action_id] = option.get("value")
            else:
                answers[action_id] = next(
                    (state[k] for k in ("value", "selected_user", "selected_date") if k in state),
                    None,
                )
    return answers


def _field_element(field: FormField, action_id: str, initial: Any) -> Block:
    if field.type in (FieldType.TEXT, FieldType.MULTILINE):
        multiline = field.type is FieldType.MULTILINE
        element = _text_input(action_id, str(initial or ""), TEXT_MAX, multiline=multiline)
    elif field.type is FieldType.SELECT:
        options = [(option, option) for option in field.options[: t.SELECT_OPTIONS]]
        element = _select(action_id, options, initial)
    elif field.type is FieldType.USER:
        element = {"type": "users_select", "action_id": action_id}
        if isinstance(initial, str) and _USER_ID.fullmatch(initial):
            element["initial_user"] = initial
    else:
        element = {"type": "datepicker", "action_id": action_id}
        if isinstance(initial, str) and initial:
            element["initial_date"] = initial
    if field.placeholder:
        element["placeholder"] = _plain(field.placeholder, t.PLACEHOLDER)
    return element


def _input(block_id: str, label: str, element: Block, *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label, 2_000),
        "element": element,
        "optional": optional,
    }


def _text_input(action_id: str, initial: str, limit: int, *, multiline: bool = False) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": action_id,
        "max_length": limit,
        "multiline": multiline,
    }
    if initial:
        element["initial_value"] = t.truncate(initial, limit)
    return element


def _select(action_id: str, choices: list[tuple[str, str]], initial: Any) -> Block:
    options = [{"text": _plain(label, t.OPTION_TEXT), "value": value} for label, value in choices]
    select: Block = {"type": "static_select", "action_id": action_id, "options": options}
    chosen = [option for option in options if option["value"] == initial]
    if chosen:
        select["initial_option"] = chosen[0]
    return select


def _plain(text: str, limit: int) -> Block:
    """plain_text is shown as written: no escaping, only Slack's length limit."""
    return {"type": "plain_text", "text": t.truncate(text, limit) or " ", "emoji": True}
