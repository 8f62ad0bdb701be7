"""``reaction.added`` recipes: an emoji on a ticket's request or on one of its cards (e.g.
:hr: moves the ticket to HR). Only someone who may route the ticket sets them off."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine, or_, select

from deskhand.domain import Origin
from deskhand.events import ReactionAdded
from deskhand.recipe_runner import FIELD_ACTIONS, RecipeRunner, ticket_event, timeline_kind
from deskhand.tickets.changes import Change, MoveTeam, SetLevel, SetPriority
from deskhand.tickets.service import TicketService
from deskhand.tickets.timeline import record
from recipes.actions import AddLabels, Decision, RemoveLabels, RouteTo, SetService
from recipes.actions import SetLevel as RecipeSetLevel
from recipes.actions import SetPriority as RecipeSetPriority
from recipes.schema import Trigger
from storage.engine import writing
from storage.models import Link, Team, Ticket

log = logging.getLogger(__name__)


class EmojiRecipes:
    def __init__(self, engine: Engine, tickets: TicketService, runner: RecipeRunner) -> None:
        self.engine = engine
        self.tickets = tickets
        self.runner = runner

    def handle(self, event: ReactionAdded, *, may: Callable[[str, str], bool]) -> None:
        """``may(user, team)``: whether ``user`` may route a ticket of ``team``."""
        ticket = self._ticket_at(event.channel, event.ts)
        if ticket is None:
            return
        if not may(event.user, ticket.team):
            log.info("%s may not route %s; :%s: ignored", event.user, ticket.key, event.emoji)
            return
        text = f"{ticket.title}\n{ticket.description}"
        routing = self.runner.route(
            ticket_event(Trigger.REACTION_ADDED, ticket, text=text, channel=None, emoji=event.emoji)
        )
        if not routing.actions and routing.notice is None:
            return
        with writing(self.engine) as session:
            row = session.get(Ticket, ticket.id)
            if row is None:
                return
            teams = list(session.scalars(select(Team.name)))
            for decision in routing.actions:
                if not isinstance(decision.action, FIELD_ACTIONS):
                    continue
                change = _as_change(decision)
                if change is not None:
                    self.tickets.change_in(
                        session,
                        row,
                        change,
                        actor=f"recipe:{decision.recipe}",
                        origin=Origin.DESKHAND,
                        teams=teams,
                        recipe=decision.recipe,
                        reason=decision.reason,
                    )
                else:
                    _set_field(row, decision)
                    record(
                        session,
                        row.id,
                        actor=f"recipe:{decision.recipe}",
                        kind=timeline_kind(decision),
                        origin=Origin.DESKHAND,
                        data={"by_emoji": event.emoji, "user": event.user},
                        recipe=decision.recipe,
                        reason=decision.reason,
                    )
            if routing.notice:
                record(
                    session,
                    row.id,
                    actor="deskhand",
                    kind="routing_stopped",
                    origin=Origin.DESKHAND,
                    data={"outcome": routing.outcome},
                    reason=routing.notice,
                )
            self.runner.apply_effects(
                session,
                row,
                [d for d in routing.actions if not isinstance(d.action, FIELD_ACTIONS)],
                lambda change, actor: self.tickets.change_in(
                    session, row, change, actor=actor, origin=Origin.DESKHAND, teams=teams
                ),
            )

    def _ticket_at(self, channel: str, ts: str) -> Ticket | None:
        """The ticket whose request, ticket card or triage card is the message (channel, ts)."""
        with writing(self.engine) as session:
            found = session.scalar(
                select(Ticket)
                .outerjoin(Link, Link.ticket_id == Ticket.id)
                .where(
                    or_(
                        (Ticket.origin_channel == channel) & (Ticket.origin_ts == ts),
                        (Link.system == "slack") & (Link.external_id == f"{channel}:{ts}"),
                    )
                )
                .limit(1)
            )
            if found is not None:
                session.expunge(found)
            return found


def _as_change(decision: Decision) -> Change | None:
    action = decision.action
    if isinstance(action, RouteTo):
        return MoveTeam(action.team)
    if isinstance(action, RecipeSetPriority):
        return SetPriority(action.priority)
    if isinstance(action, RecipeSetLevel):
        return SetLevel(action.level)
    return None


def _set_field(ticket: Ticket, decision: Decision) -> None:
    action = decision.action
    if isinstance(action, SetService):
        ticket.service = action.service
    elif isinstance(action, AddLabels):
        ticket.labels = [*ticket.labels, *(x for x in action.labels if x not in ticket.labels)]
    elif isinstance(action, RemoveLabels):
        ticket.labels = [x for x in ticket.labels if x not in action.labels]
