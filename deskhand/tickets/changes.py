"""Changes agents (and later Jira and recipes) make to a ticket, as values.

``apply`` turns one change into new field values and a timeline entry; the service writes
them in one transaction with the outbox rows. A change that changes nothing is reported as
such, so nothing is synced and nobody is notified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskhand.domain import LEVELS, Priority, TicketStatus
from storage.models import Ticket
from storage.types import utcnow


class ChangeError(ValueError):
    """A change that cannot apply to this ticket; the message is for the person who tried."""


@dataclass(frozen=True)
class Assign:
    assignee: str | None
    start_work: bool = True
    """Assigning an open ticket puts it in progress; not so for news from Jira, whose own
    status comes with it."""


@dataclass(frozen=True)
class SetStatus:
    status: TicketStatus


@dataclass(frozen=True)
class SetPriority:
    priority: Priority


@dataclass(frozen=True)
class MoveTeam:
    team: str


@dataclass(frozen=True)
class SetLevel:
    level: int


Change = Assign | SetStatus | SetPriority | MoveTeam | SetLevel


@dataclass(frozen=True)
class Applied:
    kind: str
    """Timeline kind: 'assigned', 'status_changed', 'priority_changed', 'team_changed',
    'level_changed'."""
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        return bool(self.before != self.after)


def apply(ticket: Ticket, change: Change, *, teams: list[str]) -> Applied:
    """Change ``ticket`` in place; what changed. Raises ChangeError for an impossible change."""
    if isinstance(change, Assign):
        applied = Applied("assigned", ticket.assignee, change.assignee)
        ticket.assignee = change.assignee
        if change.start_work and change.assignee and ticket.status == TicketStatus.OPEN.value:
            ticket.status = TicketStatus.IN_PROGRESS.value
        return applied
    if isinstance(change, SetStatus):
        applied = Applied("status_changed", ticket.status, change.status.value)
        ticket.status = change.status.value
        now = utcnow()
        if change.status is TicketStatus.RESOLVED and ticket.resolved_at is None:
            ticket.resolved_at = now
        if change.status is TicketStatus.CLOSED:
            ticket.closed_at = now
            ticket.resolved_at = ticket.resolved_at or now
        if not change.status.is_done:
            ticket.resolved_at = None
            ticket.closed_at = None
        return applied
    if isinstance(change, SetPriority):
        applied = Applied("priority_changed", ticket.priority, change.priority.value)
        ticket.priority = change.priority.value
        return applied
    if isinstance(change, MoveTeam):
        if change.team not in teams:
            raise ChangeError(f"there is no team called {change.team!r}")
        applied = Applied("team_changed", ticket.team, change.team)
        ticket.team = change.team
        return applied
    if change.level not in LEVELS:
        raise ChangeError(f"support levels run from L{LEVELS[0]} to L{LEVELS[-1]}")
    applied = Applied("level_changed", ticket.level, change.level)
    ticket.level = change.level
    return applied
