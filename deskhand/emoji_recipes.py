"""``reaction.added`` recipes: an emoji on a ticket's request or on one of its cards (e.g.
:hr: moves the ticket to HR). Only someone who may route the ticket sets them off."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine, or_, select

from deskhand.domain import Origin
from deskhand.events import ReactionAdded
from deskhand.recipe_runner import RecipeRunner, ticket_event
from deskhand.tickets.service import TicketService
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
            ticket_event(
                Trigger.REACTION_ADDED,
                ticket,
                text=text,
                channel=None,
                at=self.runner.now(),
                emoji=event.emoji,
            )
        )
        if not routing.actions and routing.notice is None:
            return
        with writing(self.engine) as session:
            row = session.get(Ticket, ticket.id)
            if row is None:
                return
            teams = list(session.scalars(select(Team.name)))
            self.runner.apply(
                session,
                row,
                routing,
                lambda change, actor, recipe, reason: self.tickets.change_in(
                    session,
                    row,
                    change,
                    actor=actor,
                    origin=Origin.DESKHAND,
                    teams=teams,
                    recipe=recipe,
                    reason=reason,
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
