"""Read models: lists of tickets for App Home and the like."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, case, select
from sqlalchemy.orm import Session

from deskhand.domain import Priority, TicketStatus
from storage.models import Comment, Ticket

OPEN_STATUSES = [s.value for s in TicketStatus if not s.is_done]
_PRIORITY_ORDER = case(
    {Priority.URGENT.value: 0, Priority.HIGH.value: 1, Priority.NORMAL.value: 2},
    value=Ticket.priority,
    else_=3,
)


@dataclass(frozen=True)
class TicketLine:
    id: int
    key: str
    title: str
    team: str
    status: TicketStatus
    priority: Priority
    assignee: str | None
    private_origin: bool


def _lines(engine: Engine, *conditions: object, limit: int) -> list[TicketLine]:
    with Session(engine) as session:
        rows = session.scalars(
            select(Ticket)
            .where(Ticket.status.in_(OPEN_STATUSES), *conditions)  # type: ignore[arg-type]
            .order_by(_PRIORITY_ORDER, Ticket.created_at)
            .limit(limit)
        )
        return [
            TicketLine(
                t.id,
                t.key,
                t.title,
                t.team,
                TicketStatus(t.status),
                Priority(t.priority),
                t.assignee,
                t.private_origin,
            )
            for t in rows
        ]


def open_requests(engine: Engine, requester: str, *, limit: int = 20) -> list[TicketLine]:
    """A requester's open tickets, most urgent first."""
    return _lines(engine, Ticket.requester == requester, limit=limit)


def team_queue(engine: Engine, teams: list[str], *, limit: int = 30) -> list[TicketLine]:
    """The open tickets of ``teams``, most urgent and oldest first."""
    return _lines(engine, Ticket.team.in_(teams), limit=limit)


def comment_and_ticket(engine: Engine, comment_id: int) -> tuple[Comment, Ticket] | None:
    """A comment and its ticket, detached (for an executor that reads, then calls out)."""
    with Session(engine, expire_on_commit=False) as session:
        comment = session.get(Comment, comment_id)
        if comment is None:
            return None
        ticket = comment.ticket
        session.expunge_all()
    return comment, ticket
