"""Where the ticket service consults the routing recipes: a new ticket's fields and Jira
project before it is written, its other recipe actions right after, and the triggers of
later changes (a status change, a comment), each in the caller's transaction.

A new ticket's key depends on the team the recipes route it to (IT-1 or HR-1), so it is
given out after routing; the messages of ``ticket.created`` recipes (reply, note, post) are
then rendered again with it, so ``{{ ticket_key }}`` says the key the requester will see.

The depth guard keeps recipes from setting each other off without end: a person's change,
then one recipe's change, and no further.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.domain import Origin, TicketStatus
from deskhand.recipe_runner import FIELD_ACTIONS, Fields, RecipeRunner, ticket_event
from deskhand.tickets.changes import Applied, Change
from recipes.actions import (
    AddInternalNote,
    Decision,
    PostToChannel,
    ReplyToRequester,
    SetJiraProject,
)
from recipes.engine import Routing, route
from recipes.events import RecipeEvent
from recipes.recipe_set import RecipeSet
from recipes.schema import Trigger
from storage.models import Team, Ticket

if TYPE_CHECKING:
    from deskhand.tickets.service import NewTicket

log = logging.getLogger(__name__)

RECIPE_DEPTH = 2
"""How deep recipes may set each other off: a person's change, then one recipe's change."""

MESSAGE_ACTIONS = (ReplyToRequester, AddInternalNote, PostToChannel)
"""Actions whose text is a template: the only ones the ticket's key can change."""


@dataclass(frozen=True)
class NewRouting:
    """``ticket.created`` for a ticket not written yet: the routing, with the event and the
    recipe set it was evaluated against (the same set is used again once the key is known,
    even if a reload has replaced it in the meantime)."""

    routing: Routing
    event: RecipeEvent
    recipes: RecipeSet

    def with_key(self, key: str) -> Routing:
        """The routing with its messages rendered for the ticket ``key``.

        The recipes are evaluated again with the key among the facts. No condition reads the
        key, so the same recipes fire with the same decisions; only template texts change (a
        template may also fail, or stop failing, now that the key is there). Evaluated only
        when there is a message or a template error for the key to change.
        """
        first = self.routing
        if not first.errors and not any(_is_message(d) for d in first.actions):
            return first
        keyed = route(self.recipes, self.event.but(ticket_key=key))
        if _settled(keyed) != _settled(first):  # a safeguard: evaluation is a pure function
            log.warning("recipes decided differently with the key %s; kept the first", key)
            return first
        return keyed


def _is_message(decision: Decision) -> bool:
    return isinstance(decision.action, MESSAGE_ACTIONS)


def _settled(routing: Routing) -> tuple[object, ...]:
    """What a routing decides apart from its messages: that must not depend on the key."""
    return (
        tuple(d for d in routing.actions if not _is_message(d)),
        routing.teams,
        routing.outcome,
    )


class ChangeIn:
    """The ticket service's ``change_in``, as the hooks call it."""

    def __init__(self, apply: Callable[..., Applied]) -> None:
        self._apply = apply

    def bound(
        self, session: Session, ticket: Ticket, teams: list[str]
    ) -> Callable[[Change, str, str | None, str | None], Applied]:
        """``change_in(change, actor, recipe, reason)`` for ``ticket`` in ``session``."""

        def change_in(
            change: Change, actor: str, recipe: str | None, reason: str | None
        ) -> Applied:
            return self._apply(
                session,
                ticket,
                change,
                actor=actor,
                origin=Origin.DESKHAND,
                teams=teams,
                recipe=recipe,
                reason=reason,
            )

        return change_in


class _Depth(threading.local):
    value = 0


class RecipeHooks:
    def __init__(self, runner: RecipeRunner, change_in: Callable[..., Applied]) -> None:
        """``change_in``: the ticket service's :meth:`~TicketService.change_in`."""
        self.runner = runner
        self._change_in = ChangeIn(change_in)
        self._depth = _Depth()

    # a new ticket ----------------------------------------------------------------------------

    def route_new(self, new: NewTicket) -> NewRouting:
        """``ticket.created`` for the ticket ``new`` is about to become, before it has a key
        (:meth:`NewRouting.with_key` renders its messages once it has one)."""
        event = RecipeEvent(
            trigger=Trigger.TICKET_CREATED,
            at=self.runner.now(),
            text=f"{new.title}\n{new.text}" if new.title else new.text,
            channel=new.channel_name,
            team=new.team,
            service=new.service,
            priority=new.priority,
            level=1,
            status=TicketStatus.OPEN,
            fields={str(k): str(v) for k, v in new.fields.items()},
            requester_id=new.requester,
        )
        recipes = self.runner.recipes()
        return NewRouting(route(recipes, event), event, recipes)

    @staticmethod
    def fields(new: NewTicket, routing: Routing | None) -> Fields:
        """The new ticket's team, service, priority, level and labels, as recipes leave them."""
        decided = Fields(new.team, new.service, new.priority, 1)
        for decision in routing.actions if routing is not None else ():
            if isinstance(decision.action, FIELD_ACTIONS):
                decided.take(decision)
        return decided

    @staticmethod
    def jira_project(routing: Routing | None) -> SetJiraProject | None:
        """The Jira project recipes chose for a new ticket (the last one that chose)."""
        chosen = [
            d.action
            for d in (routing.actions if routing is not None else ())
            if isinstance(d.action, SetJiraProject)
        ]
        return chosen[-1] if chosen else None

    def record_new(self, session: Session, ticket: Ticket, routing: Routing) -> None:
        """The timeline of the decisions already in the new ``ticket`` (its fields, its
        Jira project)."""
        self.runner.record_routing(session, ticket, routing)

    def after_insert(self, session: Session, ticket: Ticket, routing: Routing) -> None:
        """The new ticket's other recipe actions (assign, status, messages), once it exists."""
        teams = list(session.scalars(select(Team.name)))
        self.runner.apply_effects(
            session,
            ticket,
            [
                d
                for d in routing.actions
                if not isinstance(d.action, (*FIELD_ACTIONS, SetJiraProject))
            ],
            self._change_in.bound(session, ticket, teams),
        )

    # later triggers --------------------------------------------------------------------------

    def run(
        self,
        session: Session,
        ticket: Ticket,
        trigger: Trigger,
        *,
        text: str | None = None,
        previous_status: TicketStatus | None = None,
    ) -> None:
        """Consult the recipes about ``trigger`` on ``ticket`` and carry out what they ask,
        in the caller's transaction. ``text`` is what text conditions read (a comment's); by
        default the ticket's title and description."""
        if self._depth.value >= RECIPE_DEPTH:
            return  # a recipe's change sets recipes off once more at most: no loops
        event = ticket_event(
            trigger,
            ticket,
            text=text if text is not None else f"{ticket.title}\n{ticket.description}",
            channel=None,
            at=self.runner.now(),
            previous_status=previous_status,
        )
        routing = self.runner.route(event)
        if not routing.actions and routing.notice is None:
            return
        teams = list(session.scalars(select(Team.name)))
        self._depth.value += 1
        try:
            self.runner.apply(
                session, ticket, routing, self._change_in.bound(session, ticket, teams)
            )
        finally:
            self._depth.value -= 1
