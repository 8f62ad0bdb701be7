"""Actions as compiled from a recipe file, turned into :mod:`recipes.actions` values per event.

Most actions are fixed values; templates are rendered and a round-robin without a team takes
the ticket's team, both from the ticket as it stands after the recipe's earlier actions (so
"route: HR" then "reply: moved to {{ team }}" says HR).
"""

from __future__ import annotations

from typing import Any

from recipes.actions import (
    Action,
    AddInternalNote,
    AddLabels,
    AssignRoundRobin,
    PostToChannel,
    RemoveLabels,
    ReplyToRequester,
    RouteTo,
    SetLevel,
    SetPriority,
    SetService,
    SetStatus,
)
from recipes.events import RecipeEvent
from recipes.templates import RecipeTemplate, RenderError, SlackText


class ActionPlan:
    """One action of a recipe, ready to become an :data:`~recipes.actions.Action`."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind
        """The action's key in the file (route, reply, …), for error messages."""

    def build(self, ticket: RecipeEvent, recipe: str) -> Action:
        """The action for this event; RenderError when a template fails for it."""
        raise NotImplementedError


class Fixed(ActionPlan):
    __slots__ = ("_action",)

    def __init__(self, kind: str, action: Action) -> None:
        super().__init__(kind)
        self._action = action

    @property
    def action(self) -> Action:
        return self._action

    def build(self, ticket: RecipeEvent, recipe: str) -> Action:
        return self._action


class RoundRobin(ActionPlan):
    __slots__ = ("_team",)

    def __init__(self, team: str | None) -> None:
        super().__init__("assign")
        self._team = team

    def build(self, ticket: RecipeEvent, recipe: str) -> Action:
        team = self._team or ticket.team
        if team is None:
            raise RenderError("round-robin needs a team, and there is no ticket team yet")
        return AssignRoundRobin(team)


class Reply(ActionPlan):
    __slots__ = ("_template",)

    def __init__(self, template: RecipeTemplate) -> None:
        super().__init__("reply")
        self._template = template

    def build(self, ticket: RecipeEvent, recipe: str) -> Action:
        return ReplyToRequester(self._template.render(template_variables(ticket, recipe)))


class Note(ActionPlan):
    __slots__ = ("_template",)

    def __init__(self, template: RecipeTemplate) -> None:
        super().__init__("note")
        self._template = template

    def build(self, ticket: RecipeEvent, recipe: str) -> Action:
        return AddInternalNote(self._template.render(template_variables(ticket, recipe)))


class Post(ActionPlan):
    __slots__ = ("_channel", "_template")

    def __init__(self, channel: str, template: RecipeTemplate) -> None:
        super().__init__("post")
        self._channel = channel
        self._template = template

    def build(self, ticket: RecipeEvent, recipe: str) -> Action:
        text = self._template.render(template_variables(ticket, recipe))
        return PostToChannel(self._channel, text)


def template_variables(ticket: RecipeEvent, recipe: str) -> dict[str, Any]:
    """The documented variables of templates (:data:`recipes.schema.TEMPLATE_VARIABLES`)."""
    requester = ticket.requester_id
    return {
        "text": ticket.text,
        "channel": ticket.channel,
        "team": ticket.team,
        "service": ticket.service,
        "priority": ticket.priority.value if ticket.priority is not None else None,
        "level": ticket.level,
        "status": ticket.status.value if ticket.status is not None else None,
        "previous_status": (
            ticket.previous_status.value if ticket.previous_status is not None else None
        ),
        "fields": {
            name: value if isinstance(value, str) else list(value)
            for name, value in ticket.fields.items()
        },
        "labels": sorted(ticket.labels),
        "emoji": ticket.emoji,
        "trigger": ticket.trigger.value,
        "ticket_key": ticket.ticket_key,
        "requester": {
            "id": requester,
            "email": ticket.requester_email,
            "groups": sorted(ticket.requester_groups),
        },
        "requester_mention": SlackText(f"<@{requester}>") if requester else "",
        "recipe": recipe,
    }


def ticket_after(ticket: RecipeEvent, action: Action) -> RecipeEvent:
    """The ticket's facts once ``action`` is applied (actions that change no fact: as is)."""
    match action:
        case RouteTo(team):
            return ticket.but(team=team)
        case SetService(service):
            return ticket.but(service=service)
        case SetPriority(priority):
            return ticket.but(priority=priority)
        case SetLevel(level):
            return ticket.but(level=level)
        case SetStatus(status):
            return ticket.but(status=status, previous_status=ticket.status)
        case AddLabels(labels):
            return ticket.but(labels=ticket.labels | frozenset(labels))
        case RemoveLabels(labels):
            return ticket.but(labels=ticket.labels - frozenset(labels))
        case _:
            return ticket
