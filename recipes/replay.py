"""Replay stored tickets against a candidate recipe set: where would they have gone?

Each ticket is rebuilt as it was when it was created (the timeline's first ``team_changed``,
``priority_changed`` and ``level_changed`` entries say what it was before), evaluated as a
``ticket.created`` event, and compared with what happened: the team it was first routed to
(by the recipes running then, if any) and the team it ended up in. Reading only: nothing is
written to the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.config import Config
from deskhand.domain import Priority, TicketStatus
from recipes.engine import Routing, route
from recipes.events import FieldValue, RecipeEvent
from recipes.recipe_set import RecipeSet
from recipes.schema import Trigger
from storage.models import Ticket, TimelineEvent

_SPAN = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_HISTORY_KINDS = ("created", "team_changed", "priority_changed", "level_changed")


def parse_since(value: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``2w`` before ``now``, or an ISO date or time (UTC unless given).
    ValueError, with a message for the user, for anything else, and for a span or date so
    far out that it is not a time (before the year 1, say)."""
    expected = "expected e.g. 30d, 12h, 2w, or a date such as 2026-10-01"
    span = _SPAN.match(value)
    try:
        if span is not None:
            moment = now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
        else:
            moment = datetime.fromisoformat(value.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"--since {value!r}: out of range; {expected}") from None
    except ValueError:
        raise ValueError(f"--since {value!r}: {expected}") from None


@dataclass(frozen=True)
class StoredTicket:
    """A ticket as it was when created, and the teams it went through."""

    key: str
    event: RecipeEvent
    filed_in: str
    """The team it was created in, before any routing."""
    first_team: str
    """Where it was first routed (by the recipes then running): after recipe moves only."""
    ended_in: str
    channel_id: str | None = None
    """The channel it came from, as stored (an id)."""
    channel_named: bool = True
    """False when no name was found for ``channel_id`` (channel conditions see the id)."""


@dataclass(frozen=True)
class Replayed:
    ticket: StoredTicket
    routing: Routing

    @property
    def candidate_team(self) -> str:
        return self.routing.final_team or self.ticket.filed_in

    @property
    def differs(self) -> bool:
        return self.candidate_team != self.ticket.first_team

    @property
    def verdict(self) -> str:
        if not self.differs:
            return "same"
        if self.candidate_team == self.ticket.ended_in:
            return "better: where it ended up"
        return "differs"


def replay(recipes: RecipeSet, tickets: list[StoredTicket]) -> list[Replayed]:
    return [Replayed(ticket, route(recipes, ticket.event)) for ticket in tickets]


def stored_tickets(
    engine: Engine,
    since: datetime,
    channel_names: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> list[StoredTicket]:
    """Tickets created since ``since``, oldest first, rebuilt as they were when created.

    Tickets store the id of the channel they came from; recipes name channels. Names are
    found in the database (see :func:`known_channel_names`); ``channel_names`` (id to name)
    overrides them.
    """
    with Session(engine) as session:
        names = {**known_channel_names(session, config), **(channel_names or {})}
        tickets = list(
            session.scalars(
                select(Ticket).where(Ticket.created_at >= since).order_by(Ticket.created_at)
            )
        )
        history: dict[int, list[TimelineEvent]] = {}
        ids = select(Ticket.id).where(Ticket.created_at >= since)
        for entry in session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.ticket_id.in_(ids), TimelineEvent.kind.in_(_HISTORY_KINDS))
            .order_by(TimelineEvent.ticket_id, TimelineEvent.id)
        ):
            history.setdefault(entry.ticket_id, []).append(entry)
        result = [_rebuilt(ticket, history.get(ticket.id, []), names) for ticket in tickets]
        session.rollback()
    return result


def known_channel_names(session: Session, config: Config | None = None) -> dict[str, str]:
    """Channel ids and names the database knows: the name each ticket's creation recorded
    for its channel (every ticket from that channel then has it, older ones too), and the
    triage channels of tickets, named by their team's ``triage_channel`` in ``config``."""
    names: dict[str, str] = {}
    if config is not None:
        triage = {team.name: team.triage_channel for team in config.teams}
        for channel, team in session.execute(
            select(Ticket.triage_channel, Ticket.team)
            .where(Ticket.triage_channel.is_not(None))
            .distinct()
        ):
            if channel is not None and team in triage:
                names[channel] = triage[team]
    for data in session.scalars(
        select(TimelineEvent.data).where(TimelineEvent.kind == "created").order_by(TimelineEvent.id)
    ):
        channel, name = (data or {}).get("channel"), (data or {}).get("channel_name")
        if isinstance(channel, str) and isinstance(name, str) and name:
            names[channel] = name  # the newest name wins (a channel may be renamed)
    return names


def _first(entries: list[TimelineEvent], kind: str) -> TimelineEvent | None:
    return next((entry for entry in entries if entry.kind == kind), None)


def _rebuilt(
    ticket: Ticket, entries: list[TimelineEvent], channel_names: Mapping[str, str]
) -> StoredTicket:
    moves = [entry for entry in entries if entry.kind == "team_changed"]
    filed_in = str(moves[0].data.get("from", ticket.team)) if moves else ticket.team
    first_team = filed_in
    for move in moves:
        if move.recipe is None and not move.actor.startswith("recipe:"):
            break
        first_team = str(move.data.get("to", first_team))
    priority_change = _first(entries, "priority_changed")
    level_change = _first(entries, "level_changed")
    created = _first(entries, "created")
    created_data: dict[str, Any] = created.data if created is not None else {}
    channel_id = ticket.origin_channel
    name = channel_names.get(channel_id) if channel_id else None
    name = name or created_data.get("channel_name")
    channel = name or channel_id
    priority = priority_change.data.get("from") if priority_change else ticket.priority
    level = level_change.data.get("from") if level_change else ticket.level
    event = RecipeEvent(
        trigger=Trigger.TICKET_CREATED,
        at=ticket.created_at,
        text=f"{ticket.title}\n\n{ticket.description}".strip(),
        channel=channel,
        team=filed_in,
        service=ticket.service,
        priority=_priority(priority),
        level=level if isinstance(level, int) else 1,
        status=TicketStatus.OPEN,
        fields=dict(_fields(ticket.fields or {})),
        requester_id=ticket.requester,
        ticket_key=ticket.key,
    )
    return StoredTicket(
        ticket.key,
        event,
        filed_in,
        first_team,
        ticket.team,
        channel_id=channel_id,
        channel_named=channel_id is None or bool(name),
    )


def _priority(value: object) -> Priority | None:
    try:
        return Priority(str(value))
    except ValueError:
        return None


def _fields(stored: Mapping[str, Any]) -> Iterator[tuple[str, FieldValue]]:
    for name, value in stored.items():
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, list):
            yield name, tuple(str(item) for item in value)
        elif value is not None:
            yield name, str(value)
