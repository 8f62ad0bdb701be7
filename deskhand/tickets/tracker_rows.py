"""The outbox rows that carry a ticket's changes to its Jira issue.

Rows are written with the change, in its transaction, only for tickets of a team that works
in Jira, and never for a change that came from Jira (no echoes). A state row names the field,
not the value: it pushes the ticket's state as it is when it runs, so several changes in a
row end in Jira's being current, and a retried row cannot push a stale value.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.outbox import enqueue
from deskhand.sync_breaker import allow_comment_sync
from deskhand.tickets.changes import Assign, Change, MoveTeam, SetPriority, SetStatus
from storage.models import Team, Ticket

TARGET = "jira"


def works_in_jira(session: Session, team: str) -> bool:
    return session.scalar(select(Team.jira_project).where(Team.name == team)) is not None


def create_issue(session: Session, ticket_id: int) -> None:
    enqueue(
        session,
        ticket_id=ticket_id,
        target=TARGET,
        action="create_jira_issue",
        payload={"ticket_id": ticket_id},
        key=f"ticket:{ticket_id}:jira:create",
    )


def add_remote_link(session: Session, ticket_id: int) -> None:
    enqueue(
        session,
        ticket_id=ticket_id,
        target=TARGET,
        action="jira_remote_link",
        payload={"ticket_id": ticket_id},
        key=f"ticket:{ticket_id}:jira:remote_link",
    )


def add_comment(
    session: Session, ticket_id: int, comment_id: int, *, backlog: bool = False
) -> None:
    """``backlog``: the thread's replies from before the ticket existed, copied in one go at
    creation; they do not count as a runaway sync."""
    if not backlog and not allow_comment_sync(session, ticket_id):
        return
    enqueue(
        session,
        ticket_id=ticket_id,
        target=TARGET,
        action="jira_add_comment",
        payload={"ticket_id": ticket_id, "comment_id": comment_id},
        key=f"comment:{comment_id}:jira:add",
    )


def update_comment(session: Session, ticket_id: int, comment_id: int, *, reason: str) -> None:
    enqueue(
        session,
        ticket_id=ticket_id,
        target=TARGET,
        action="jira_update_comment",
        payload={"ticket_id": ticket_id, "comment_id": comment_id},
        key=f"comment:{comment_id}:jira:update:{reason}",
    )


def push_field(session: Session, ticket_id: int, field: str, *, reason: str) -> None:
    enqueue(
        session,
        ticket_id=ticket_id,
        target=TARGET,
        action="jira_push_field",
        payload={"ticket_id": ticket_id, "field": field},
        key=f"ticket:{ticket_id}:jira:{field}:{reason}",
    )


_FIELDS: dict[type, str] = {Assign: "assignee", SetStatus: "status", SetPriority: "priority"}


def after_change(session: Session, ticket: Ticket, change: Change, *, reason: str) -> None:
    """The Jira rows for ``change``, just applied to ``ticket`` (not from Jira)."""
    if not works_in_jira(session, ticket.team):
        return
    if isinstance(change, MoveTeam):
        if ticket.jira_key is None:  # moved into a team that works in Jira
            create_issue(session, ticket.id)
        return
    field = _FIELDS.get(type(change))
    if field is not None:
        push_field(session, ticket.id, field, reason=reason)
    if isinstance(change, Assign) and ticket.status != "open":
        # Assigning starts the work (open -> in progress): Jira's status follows.
        push_field(session, ticket.id, "status", reason=reason)
