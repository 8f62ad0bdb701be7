"""Recipes applied to tickets: what the pure engine decides, carried out by the ticket service.

For a new ticket the fields recipes set (team, service, priority, level, labels) are decided
before the ticket is written, so its triage card goes to the right team at once; everything
else (assignments, status, replies, notes, posts) is applied right after, in the same
transaction, through the timeline and the outbox like any change; by then the ticket has its
key, and the messages are rendered with it. Every decision is on the timeline with its recipe
and its reason, which the triage card shows.

``jira_project`` chooses the project a new ticket's issue is created in. Later, once the
ticket has (or is getting) an issue, a recipe's ``jira_project`` changes nothing: Jira's REST
API cannot move an issue between projects, so the timeline records it as skipped and says so.
A ticket without an issue gets one in the chosen project.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.domain import Origin, Priority, TicketStatus
from deskhand.outbox import enqueue
from deskhand.tickets import tracker_rows
from deskhand.tickets.timeline import record
from recipes.actions import (
    AddInternalNote,
    AddLabels,
    AssignRoundRobin,
    AssignUser,
    Decision,
    PostToChannel,
    RemoveLabels,
    ReplyToRequester,
    RouteTo,
    SetJiraProject,
    SetLevel,
    SetPriority,
    SetService,
    SetStatus,
)
from recipes.engine import Routing, route
from recipes.events import RecipeEvent
from recipes.recipe_set import RecipeSet
from recipes.schema import Trigger
from storage.models import Ticket, TimelineEvent
from storage.types import utcnow

ChangeIn = Callable[[Any, str, str | None, str | None], object]
"""Applies one ticket change: (change, actor, recipe, reason)."""

FIELD_ACTIONS = (RouteTo, SetService, SetPriority, SetLevel, AddLabels, RemoveLabels)
"""Actions that only set the ticket's own fields: decided before a new ticket is written."""


@dataclass
class Fields:
    """A new ticket's fields, as the recipes leave them."""

    team: str
    service: str | None
    priority: Priority
    level: int
    labels: list[str] = field(default_factory=list)

    def take(self, decision: Decision) -> None:
        action = decision.action
        if isinstance(action, RouteTo):
            self.team = action.team
        elif isinstance(action, SetService):
            self.service = action.service
        elif isinstance(action, SetPriority):
            self.priority = action.priority
        elif isinstance(action, SetLevel):
            self.level = action.level
        elif isinstance(action, AddLabels):
            self.labels += [label for label in action.labels if label not in self.labels]
        elif isinstance(action, RemoveLabels):
            self.labels = [label for label in self.labels if label not in action.labels]


class RecipeRunner:
    def __init__(
        self,
        recipes: Callable[[], RecipeSet],
        *,
        agents_of: Callable[[str], Sequence[str]] = lambda _team: (),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """``recipes`` gives the set in force (a reload swaps it); ``agents_of(team)`` the
        team's agents, for round-robin assignment; ``now`` the time of the events the ticket
        service hands the recipes (what ``business_hours`` conditions read): the real clock,
        or a fixed one where the outcome must not depend on the day (``deskhand demo``)."""
        self.recipes = recipes
        self.agents_of = agents_of
        self.now = now

    def route(self, event: RecipeEvent) -> Routing:
        return route(self.recipes(), event)

    # applying --------------------------------------------------------------------------------

    def apply(
        self, session: Session, ticket: Ticket, routing: Routing, change_in: ChangeIn
    ) -> None:
        """Carry out ``routing`` on an existing ticket, in the caller's transaction: field
        decisions as changes (or plain field updates where no change type exists), then the
        rest. ``change_in(change, actor, recipe, reason)`` applies one ticket change."""
        from deskhand.tickets.changes import MoveTeam
        from deskhand.tickets.changes import SetLevel as ChangeLevel
        from deskhand.tickets.changes import SetPriority as ChangePriority

        for decision in routing.actions:
            action, actor = decision.action, f"recipe:{decision.recipe}"
            if not isinstance(action, FIELD_ACTIONS):
                continue
            if isinstance(action, RouteTo):
                change_in(MoveTeam(action.team), actor, decision.recipe, decision.reason)
            elif isinstance(action, SetPriority):
                change_in(ChangePriority(action.priority), actor, decision.recipe, decision.reason)
            elif isinstance(action, SetLevel):
                change_in(ChangeLevel(action.level), actor, decision.recipe, decision.reason)
            else:
                fields = Fields(
                    ticket.team, ticket.service, Priority(ticket.priority), ticket.level
                )
                fields.labels = list(ticket.labels or [])
                fields.take(decision)
                ticket.service, ticket.labels = fields.service, fields.labels
                _record(session, ticket.id, decision, kind=timeline_kind(decision), data={})
        if routing.notice:
            record(
                session,
                ticket.id,
                actor="deskhand",
                kind="routing_stopped",
                origin=Origin.DESKHAND,
                data={"outcome": routing.outcome},
                reason=routing.notice,
            )
        self.apply_effects(
            session,
            ticket,
            [d for d in routing.actions if not isinstance(d.action, FIELD_ACTIONS)],
            change_in,
        )

    def record_routing(self, session: Session, ticket: Ticket, routing: Routing) -> None:
        """The timeline of a routing whose field decisions are already in ``ticket``."""
        for decision in routing.actions:
            if isinstance(decision.action, FIELD_ACTIONS):
                kind = timeline_kind(decision)
                _record(session, ticket.id, decision, kind=kind, data=_data(decision))
            elif isinstance(decision.action, SetJiraProject):
                data = {"to": decision.action.project, "at_creation": True}
                _record(session, ticket.id, decision, kind="jira_project_set", data=data)
        if routing.notice:
            record(
                session,
                ticket.id,
                actor="deskhand",
                kind="routing_stopped",
                origin=Origin.DESKHAND,
                data={"outcome": routing.outcome, "teams": list(filter(None, routing.teams))},
                reason=routing.notice,
            )

    def apply_effects(
        self,
        session: Session,
        ticket: Ticket,
        decisions: Sequence[Decision],
        change: ChangeIn,
    ) -> None:
        """Carry out the decisions that are not plain fields. ``change(change, actor, recipe,
        reason)`` applies a ticket change (assign, status) through the ticket service."""
        from deskhand.tickets.changes import Assign
        from deskhand.tickets.changes import SetStatus as ChangeStatus

        for decision in decisions:
            action, actor = decision.action, f"recipe:{decision.recipe}"
            if isinstance(action, AssignUser):
                change(Assign(action.user), actor, decision.recipe, decision.reason)
            elif isinstance(action, AssignRoundRobin):
                agent = self._next_agent(session, action.team)
                if agent is not None:
                    change(Assign(agent), actor, decision.recipe, decision.reason)
            elif isinstance(action, SetStatus):
                status = ChangeStatus(TicketStatus(action.status))
                change(status, actor, decision.recipe, decision.reason)
            elif isinstance(action, ReplyToRequester):
                self._say(session, ticket, decision, "thread", action.text)
            elif isinstance(action, AddInternalNote):
                self._say(session, ticket, decision, "triage", action.text)
            elif isinstance(action, PostToChannel):
                self._say(session, ticket, decision, "channel", action.text, action.channel)
            elif isinstance(action, SetJiraProject):
                self._jira_project(session, ticket, decision, action.project)

    def _jira_project(
        self, session: Session, ticket: Ticket, decision: Decision, project: str
    ) -> None:
        """A project chosen after creation: only a ticket without an issue can take it."""
        if tracker_rows.in_jira(session, ticket):
            where = ticket.jira_key or f"project {ticket.jira_project or ticket.team}"
            why = (
                f"the issue already exists ({where}) and Jira cannot move an issue between projects"
                if ticket.jira_key is not None
                else f"the issue is already being created in {where}"
            )
            record(
                session,
                ticket.id,
                actor=f"recipe:{decision.recipe}",
                kind="jira_project_skipped",
                origin=Origin.DESKHAND,
                data={"to": project, "issue": ticket.jira_key, "project": ticket.jira_project},
                recipe=decision.recipe,
                reason=f"{decision.reason} — skipped: {why}",
            )
            return
        ticket.jira_project = project
        _record(session, ticket.id, decision, kind="jira_project_set", data={"to": project})
        tracker_rows.create_issue(session, ticket.id)

    def _say(
        self,
        session: Session,
        ticket: Ticket,
        decision: Decision,
        where: str,
        text: str,
        channel: str | None = None,
    ) -> None:
        event = _record(session, ticket.id, decision, kind="recipe_message", data={"where": where})
        session.flush()
        enqueue(
            session,
            ticket_id=ticket.id,
            target="slack",
            action="recipe_message",
            payload={
                "ticket_id": ticket.id,
                "where": where,
                "channel": channel,
                "text": text,
                "recipe": decision.recipe,
            },
            key=f"ticket:{ticket.id}:recipe_message:{event.id}",
        )

    def _next_agent(self, session: Session, team: str) -> str | None:
        """The team's agent after the one its round-robin picked last (by the timeline)."""
        agents = sorted(self.agents_of(team))
        if not agents:
            return None
        last = session.scalar(
            select(TimelineEvent.data)
            .join(Ticket, Ticket.id == TimelineEvent.ticket_id)
            .where(
                TimelineEvent.kind == "assigned",
                TimelineEvent.actor.like("recipe:%"),
                Ticket.team == team,
            )
            .order_by(TimelineEvent.id.desc())
            .limit(1)
        )
        previous = (last or {}).get("to")
        later = [agent for agent in agents if previous is None or agent > previous]
        return (later or agents)[0]


def ticket_event(
    trigger: Trigger,
    ticket: Ticket,
    *,
    text: str,
    channel: str | None,
    at: datetime | None = None,
    emoji: str | None = None,
    previous_status: TicketStatus | None = None,
) -> RecipeEvent:
    """The facts of ``ticket`` as recipes see them."""
    return RecipeEvent(
        trigger=trigger,
        at=at or utcnow(),
        text=text,
        channel=channel,
        team=ticket.team,
        service=ticket.service,
        priority=Priority(ticket.priority),
        level=ticket.level,
        status=TicketStatus(ticket.status),
        previous_status=previous_status,
        fields={str(k): str(v) for k, v in (ticket.fields or {}).items()},
        requester_id=ticket.requester,
        labels=frozenset(ticket.labels or []),
        emoji=emoji,
        ticket_key=ticket.key,
    )


def timeline_kind(decision: Decision) -> str:
    return {
        RouteTo: "team_changed",
        SetService: "service_changed",
        SetPriority: "priority_changed",
        SetLevel: "level_changed",
        AddLabels: "labels_changed",
        RemoveLabels: "labels_changed",
    }[type(decision.action)]


def _data(decision: Decision) -> dict[str, Any]:
    action = decision.action
    value = getattr(action, "team", None) or getattr(action, "service", None)
    if isinstance(action, SetPriority):
        value = action.priority.value
    elif isinstance(action, SetLevel):
        value = action.level
    elif isinstance(action, AddLabels | RemoveLabels):
        value = list(action.labels)
    return {"to": value, "at_creation": True}


def _record(
    session: Session, ticket_id: int, decision: Decision, *, kind: str, data: dict[str, Any]
) -> TimelineEvent:
    return record(
        session,
        ticket_id,
        actor=f"recipe:{decision.recipe}",
        kind=kind,
        origin=Origin.DESKHAND,
        data=data,
        recipe=decision.recipe,
        reason=decision.reason,
    )
