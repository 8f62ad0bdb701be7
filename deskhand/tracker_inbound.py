"""Jira → Deskhand: apply what webhooks and the poller saw of a ticket's issue.

Echoes, duplicates and reordering are settled here, whatever delivered the news:

* what Deskhand's own Jira account did is dropped (it came from Deskhand in the first place);
* an issue state or comment version no newer (Jira's ``updated``) than the last one applied is
  dropped, so a late webhook never undoes a newer state and the poller's overlapping windows
  change nothing twice;
* only real differences become changes, and changes from Jira create no Jira rows.

Conflict rule for comments: a comment belongs to the side it was written on. Its edits and
deletion there are carried to the other side; an edit of the copy (Deskhand's comment in
Jira, or the bot's message in Slack) is not carried back, so each edit makes at most one
update each way. For the ticket's fields the newest state by Jira's clock wins in Jira's
direction; Slack's changes are pushed as the ticket's current value when their row runs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.config import Config
from deskhand.config.schema import JiraConfig
from deskhand.domain import Origin, Priority, TicketStatus
from deskhand.events import JiraCommentSeen, JiraIssueSeen
from deskhand.outbox import enqueue
from deskhand.ports import ChatPort
from deskhand.sync_breaker import allow_comment_sync
from deskhand.tickets.changes import Assign, Change, SetPriority, SetStatus
from deskhand.tickets.service import TicketService
from deskhand.tickets.timeline import record
from deskhand.tracker import TrackerPort
from storage.engine import writing
from storage.models import Comment, Ticket
from storage.types import utcnow

log = logging.getLogger(__name__)


def jira_time(value: str) -> datetime:
    """Jira's timestamps (``2026-11-23T10:00:00.123+0000``) as aware datetimes."""
    return datetime.fromisoformat(value)


class TrackerInbound:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        tickets: TicketService,
        tracker: TrackerPort,
        chat: ChatPort,
    ) -> None:
        if config.jira is None:
            raise ValueError("the Jira sync needs a jira section in the configuration")
        self.engine = engine
        self.config = config
        self.jira: JiraConfig = config.jira
        self.tickets = tickets
        self.tracker = tracker
        self.chat = chat
        self._placeholders: set[str] | None = None

    # issues ----------------------------------------------------------------------------------

    def issue_seen(self, payload: dict[str, Any]) -> None:
        event = JiraIssueSeen.from_payload(payload)
        if event.actor is not None and event.actor == self.tracker.me():
            return
        seen = jira_time(event.updated)
        current = self._ticket_by_key(event.issue_key)
        if current is None or _not_newer(seen, current.jira_updated):
            return
        assignee = None if event.deleted else self._slack_assignee(event, current)
        actor = f"jira:{event.actor}" if event.actor else "jira"
        teams = [team.name for team in self.config.teams]
        with writing(self.engine) as session:
            ticket = session.get(Ticket, current.id)
            if ticket is None or _not_newer(seen, ticket.jira_updated):
                return  # a newer state was applied meanwhile
            ticket.jira_updated = seen
            if event.deleted:
                self._issue_deleted(session, ticket, actor)
                return
            for change in self._changes(ticket, event, assignee):
                self.tickets.change_in(
                    session, ticket, change, actor=actor, origin=Origin.JIRA, teams=teams
                )

    def _changes(
        self, ticket: Ticket, event: JiraIssueSeen, assignee: tuple[str | None] | None
    ) -> list[Change]:
        changes: list[Change] = []
        if assignee is not None and assignee[0] != ticket.assignee:
            changes.append(Assign(assignee[0]))
        status = _reverse(self.jira.status_map, TicketStatus(ticket.status), event.status)
        if status is not None and status.value != ticket.status:
            changes.append(SetStatus(status))
        priority = _reverse(self.jira.priority_map, Priority(ticket.priority), event.priority)
        if priority is not None and priority.value != ticket.priority:
            changes.append(SetPriority(priority))
        return changes

    def _slack_assignee(self, event: JiraIssueSeen, ticket: Ticket) -> tuple[str | None] | None:
        """The Slack user the Jira assignee is, as a 1-tuple (``(None,)``: unassigned), or None
        when the ticket's assignee should stay as it is."""
        if event.assignee is None:
            return (None,)
        if event.assignee in self._placeholder_accounts():
            return None  # Deskhand's stand-in for a Slack user without a Jira account
        if ticket.assignee is not None:
            person = self.chat.person(ticket.assignee)
            email = person.email if person is not None else None
            if (
                email
                and event.assignee_email
                and email.casefold() == event.assignee_email.casefold()
            ):
                return None  # the same person on both sides
        user = self.chat.user_by_email(event.assignee_email) if event.assignee_email else None
        if user is None:
            log.info("%s: Jira assignee %s has no Slack user", event.issue_key, event.assignee)
            return None
        return (user,)

    def _placeholder_accounts(self) -> set[str]:
        if self._placeholders is None:
            accounts = {self.tracker.me()}
            fallback = self.jira.fallback_account
            if fallback is not None:
                resolved = self.tracker.account_for_email(fallback) if "@" in fallback else None
                accounts.add(resolved or fallback)
            self._placeholders = accounts
        return self._placeholders

    def _issue_deleted(self, session: Session, ticket: Ticket, actor: str) -> None:
        record(
            session,
            ticket.id,
            actor=actor,
            kind="jira_issue_deleted",
            origin=Origin.JIRA,
            data={"issue": ticket.jira_key},
        )
        note = Comment(
            ticket_id=ticket.id,
            author="deskhand",
            author_name="Deskhand",
            body=f"The Jira issue {ticket.jira_key} was deleted; the ticket goes on in Slack.",
            visibility="internal",
            origin=Origin.DESKHAND.value,
        )
        session.add(note)
        session.flush()
        _post_to_slack(session, ticket.id, note.id)

    # comments --------------------------------------------------------------------------------

    def comment_seen(self, payload: dict[str, Any]) -> None:
        event = JiraCommentSeen.from_payload(payload)
        if event.author is not None and event.author == self.tracker.me():
            return
        seen = jira_time(event.updated)
        with writing(self.engine) as session:
            ticket = session.scalar(select(Ticket).where(Ticket.jira_key == event.issue_key))
            if ticket is None:
                return
            comment = session.scalar(
                select(Comment).where(Comment.jira_comment_id == event.comment_id)
            )
            if comment is None:
                self._new_comment(session, ticket, event, seen)
            elif comment.origin == Origin.JIRA.value:
                self._changed_comment(session, comment, event, seen)

    def _new_comment(
        self, session: Session, ticket: Ticket, event: JiraCommentSeen, seen: datetime
    ) -> None:
        if event.deleted:
            return  # created and deleted before we heard of it
        internal = event.internal
        comment = Comment(
            ticket_id=ticket.id,
            author=f"jira:{event.author}",
            author_name=event.author_name,
            body=event.body,
            visibility="internal" if internal else "public",
            origin=Origin.JIRA.value,
            jira_comment_id=event.comment_id,
            jira_updated=seen,
        )
        session.add(comment)
        session.flush()
        record(
            session,
            ticket.id,
            actor=f"jira:{event.author}",
            kind="note_added" if internal else "commented",
            origin=Origin.JIRA,
            data={"comment": comment.id, "jira_comment": event.comment_id},
        )
        if not internal and ticket.first_response_at is None:
            # Whoever writes to the requester from Jira works on the ticket.
            ticket.first_response_at = utcnow()
            record(
                session,
                ticket.id,
                actor=f"jira:{event.author}",
                kind="first_response",
                origin=Origin.JIRA,
                data={"comment": comment.id},
            )
        if allow_comment_sync(session, ticket.id):
            _post_to_slack(session, ticket.id, comment.id)

    def _changed_comment(
        self, session: Session, comment: Comment, event: JiraCommentSeen, seen: datetime
    ) -> None:
        if _not_newer(seen, comment.jira_updated) or comment.deleted_at is not None:
            return
        comment.jira_updated = seen
        if event.deleted:
            comment.deleted_at = utcnow()
            kind = "comment_deleted"
        elif event.body != comment.body:
            comment.body = event.body
            kind = "comment_edited"
        else:
            return
        record(
            session,
            comment.ticket_id,
            actor=f"jira:{event.author}",
            kind=kind,
            origin=Origin.JIRA,
            data={"comment": comment.id, "jira_comment": event.comment_id},
        )
        enqueue(
            session,
            ticket_id=comment.ticket_id,
            target="slack",
            action="update_tracker_comment",
            payload={"ticket_id": comment.ticket_id, "comment_id": comment.id},
            key=f"comment:{comment.id}:slack:update:{seen.isoformat()}",
        )

    # helpers ---------------------------------------------------------------------------------

    def _ticket_by_key(self, key: str) -> Ticket | None:
        with Session(self.engine, expire_on_commit=False) as session:
            ticket = session.scalar(select(Ticket).where(Ticket.jira_key == key))
            if ticket is not None:
                session.expunge(ticket)
            return ticket


def _post_to_slack(session: Session, ticket_id: int, comment_id: int) -> None:
    enqueue(
        session,
        ticket_id=ticket_id,
        target="slack",
        action="post_tracker_comment",
        payload={"ticket_id": ticket_id, "comment_id": comment_id},
        key=f"comment:{comment_id}:slack:post",
    )


def _not_newer(seen: datetime, applied: datetime | None) -> bool:
    return applied is not None and seen <= applied


E = TypeVar("E", TicketStatus, Priority)


def _reverse(mapping: dict[E, str], current: E, name: str | None) -> E | None:
    """The Deskhand value whose Jira name is ``name``: the current one if it maps there
    (several may share a Jira name), else the first that does; None if none does."""
    if name is None:
        return None
    wanted = name.casefold()
    if mapping.get(current, "").casefold() == wanted:
        return current
    return next((value for value, jira in mapping.items() if jira.casefold() == wanted), None)
