"""What a click on a card does: agents work tickets from the triage card; requesters close
and reopen their own from the ticket card. Anyone else is told why not, and nothing changes."""

from __future__ import annotations

import logging
from datetime import timedelta

from deskhand.agents import AgentDirectory
from deskhand.config import Config
from deskhand.domain import LEVELS, Origin, Priority, TicketStatus
from deskhand.events import CardAction
from deskhand.notices import Notices
from deskhand.tickets.changes import (
    Assign,
    Change,
    ChangeError,
    MoveTeam,
    SetLevel,
    SetPriority,
    SetStatus,
)
from deskhand.tickets.service import TicketService
from storage.models import Ticket
from storage.types import utcnow

log = logging.getLogger(__name__)

REQUESTER_ACTIONS = {"close_ticket", "reopen_ticket"}


class CardActions:
    def __init__(
        self, config: Config, agents: AgentDirectory, tickets: TicketService, notices: Notices
    ) -> None:
        self.config = config
        self.agents = agents
        self.tickets = tickets
        self.notices = notices

    def handle(self, payload: dict[str, object]) -> None:
        event = CardAction.from_payload(dict(payload))
        try:
            ticket = self.tickets.get(event.ticket_id)
        except KeyError:
            self._refuse(event, "That ticket no longer exists.")
            return
        agent = self.agents.is_agent(event.user, ticket.team)
        requester = event.user == ticket.requester
        if not agent and not (requester and event.action in REQUESTER_ACTIONS):
            self._refuse(
                event,
                f"Only agents of {ticket.team} (members of #{self._triage(ticket)}) can do "
                "that. Nothing was changed.",
            )
            return
        try:
            change = self._change(event, ticket)
            if change is None:
                return
            self.tickets.change(
                ticket.id,
                change,
                actor=event.user,
                origin=Origin.SLACK,
                teams=[team.name for team in self.config.teams],
            )
        except ChangeError as exc:
            self._refuse(event, f"{exc}. Nothing was changed.")

    def _change(self, event: CardAction, ticket: Ticket) -> Change | None:
        action, value = event.action, event.value
        if action == "claim":
            return Assign(event.user)
        if action == "assign":
            return Assign(value or None)
        if action == "set_status" and value:
            return SetStatus(TicketStatus(value))
        if action == "set_priority" and value:
            return SetPriority(Priority(value))
        if action == "move_team" and value:
            return MoveTeam(value)
        if action == "escalate":
            return SetLevel(min(ticket.level + 1, LEVELS[-1]))
        if action == "deescalate":
            return SetLevel(max(ticket.level - 1, LEVELS[0]))
        if action == "close_ticket":
            return SetStatus(TicketStatus.CLOSED)
        if action == "reopen_ticket":
            return self._reopen(event, ticket)
        log.info("card action %s needs no change", action)
        return None

    def _reopen(self, event: CardAction, ticket: Ticket) -> Change | None:
        days = self.config.slack.reopen_days
        closed = ticket.closed_at or ticket.resolved_at
        agent = self.agents.is_agent(event.user, ticket.team)
        if closed is not None and not agent and utcnow() - closed > timedelta(days=days):
            raise ChangeError(
                f"{ticket.key} was closed more than {days} days ago; please ask again in a new "
                "message"
            )
        return SetStatus(TicketStatus.IN_PROGRESS if ticket.assignee else TicketStatus.OPEN)

    def _triage(self, ticket: Ticket) -> str:
        return self.config.team(ticket.team).triage_channel

    def _refuse(self, event: CardAction, text: str) -> None:
        if event.channel is None:
            log.info("refused %s to %s: %s", event.action, event.user, text)
            return
        self.notices.ephemeral(
            channel=event.channel,
            user=event.user,
            text=text,
            key=f"refusal:{event.ref}",
        )
