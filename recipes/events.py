"""What recipes are evaluated against: one event and the facts of its ticket.

The core builds a :class:`RecipeEvent` from its own state (no Slack or Jira objects), so the
engine stays a pure function and tests and ``deskhand recipes test`` can make events by hand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from deskhand.domain import Priority, TicketStatus
from recipes.schema import Trigger

FieldValue = str | tuple[str, ...]
"""A form field's answer: one value, or several (a multi-select)."""


@dataclass(frozen=True)
class RecipeEvent:
    """An event and the facts of its ticket as they are at that moment.

    ``text`` is what text conditions read: the ticket's title and description for
    ``ticket.created``, the message for ``message.posted``, the comment for
    ``ticket.comment_added``. ``channel`` is a channel *name* (without ``#``): the request
    channel the ticket or message came from. Before a ticket exists (``message.posted``) the
    ticket facts are simply None.
    """

    trigger: Trigger
    at: datetime
    """When it happened; time-zone aware (business hours are checked in the team's zone)."""
    text: str = ""
    channel: str | None = None
    team: str | None = None
    service: str | None = None
    priority: Priority | None = None
    level: int | None = None
    status: TicketStatus | None = None
    previous_status: TicketStatus | None = None
    fields: Mapping[str, FieldValue] = field(default_factory=lambda: MappingProxyType({}))
    requester_id: str | None = None
    requester_email: str | None = None
    requester_groups: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()
    emoji: str | None = None
    """The emoji name (without colons) of a ``reaction.added``."""
    ticket_key: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("RecipeEvent.at must be time-zone aware")
        if not isinstance(self.fields, MappingProxyType):
            object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def but(self, **changes: object) -> RecipeEvent:
        """A copy with some facts changed (e.g. the team after a route).

        Faster than ``dataclasses.replace`` (the engine calls it for every action that
        changes a fact): the copy shares everything else, already checked.
        """
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            raise TypeError(f"RecipeEvent has no field {', '.join(sorted(unknown))}")
        copy = object.__new__(RecipeEvent)
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(changes)
        return copy


_FIELD_NAMES = frozenset(field.name for field in dataclasses.fields(RecipeEvent))
