"""The outbox rows that carry a ticket's changes to its Jira issue.

Rows are written with the change, in its transaction, only for tickets of a team that works
in Jira, and never for a change that came from Jira (no echoes). A state row names the field,
not the value: it pushes the ticket's state as it is when it runs, so several changes in a
row end in Jira's being current, and a retried row cannot push a stale value.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.config import Config
from deskhand.config.schema import TeamJira
from deskhand.outbox import enqueue
from deskhand.sync_breaker import allow_comment_sync
from deskhand.tickets.changes import Assign, Change, MoveTeam, SetPriority, SetStatus
from storage.models import Team, Ticket

TARGET = "jira"


def works_in_jira(session: Session, team: str) -> bool:
    return session.scalar(select(Team.jira_project).where(Team.name == team)) is not None


def in_jira(session: Session, ticket: Ticket) -> bool:
    """Whether ``ticket`` has (or is getting) a Jira issue: its team works in Jira, or a
    recipe chose a project for it, or it kept its issue when it moved to another team."""
    if ticket.jira_project is not None or ticket.jira_key is not None:
        return True
    return works_in_jira(session, ticket.team)


def issue_settings(config: Config, ticket: Ticket) -> TeamJira | None:
    """The Jira settings (project, issue type, service desk) the ticket's issue goes by: those
    of the team whose project the ticket remembers (its own team's first), else its team's."""
    own = config.team(ticket.team).jira
    if ticket.jira_project is None or (own is not None and own.project == ticket.jira_project):
        return own
    for team in config.teams:
        if team.jira is not None and team.jira.project == ticket.jira_project:
            return team.jira
    # A project dropped from config.yaml since: its key, the first configured team's ways.
    first = next((team.jira for team in config.teams if team.jira is not None), None)
    if first is None:
        return None
    return first.model_copy(update={"project": ticket.jira_project})


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
    if isinstance(change, MoveTeam):
        if ticket.jira_project is None and ticket.jira_key is None:
            project = session.scalar(select(Team.jira_project).where(Team.name == ticket.team))
            if project is not None:  # moved into a team that works in Jira
                ticket.jira_project = project
                create_issue(session, ticket.id)
        return
    if not in_jira(session, ticket):
        return
    field = _FIELDS.get(type(change))
    if field is not None:
        push_field(session, ticket.id, field, reason=reason)
    if isinstance(change, Assign) and ticket.status != "open":
        # Assigning starts the work (open -> in progress): Jira's status follows.
        push_field(session, ticket.id, "status", reason=reason)
