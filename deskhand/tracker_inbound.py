"""Jira → Deskhand: apply what webhooks and the poller saw of a ticket's issue.

Echoes, duplicates and reordering are settled here, whatever delivered the news:

* what Deskhand's own Jira account did is dropped (it came from Deskhand in the first place);
* news of an issue makes Deskhand read the issue's current state from Jira, so webhooks in any
  order end in Jira's latest state; news older (Jira's ``updated``) than the state applied last
  is dropped unread; comments are read again too (their text, and whether they are internal,
  which Server's webhooks do not say), and a deleted one is not found;
* a field with a change from Slack still on its way to Jira keeps Deskhand's value;
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
from deskhand.tracker import CommentState, IssueState, TrackerPort
from recipes.schema import Trigger
from storage.engine import writing
from storage.models import Comment, OutboxRow, Ticket
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
        """News of an issue: read its current state from Jira and apply what differs.

        The news only says *that* the issue changed; its state is read again, so webhooks in
        any order, duplicated or late, end in Jira's latest state. News older than the state
        applied last is dropped without asking Jira.
        """
        event = JiraIssueSeen.from_payload(payload)
        if event.actor is not None and event.actor == self.tracker.me():
            return
        current = self._ticket_by_key(event.issue_key)
        if current is None or _older(jira_time(event.updated), current.jira_updated):
            return
        with Session(self.engine) as session:
            # Pushes in flight before the read as well as after it: one that lands in
            # Jira while the read is on its way is not in what the read returns.
            pushing = _pushes_in_flight(session, current.id)
        state = None if event.deleted else self.tracker.issue_state(event.issue_key)
        if state is None:
            self._issue_gone(current.id, event)
            return
        assignee = self._slack_assignee(state, current)
        seen = jira_time(state.updated)
        actor = f"jira:{event.actor}" if event.actor else "jira"
        teams = [team.name for team in self.config.teams]
        with writing(self.engine) as session:
            ticket = session.get(Ticket, current.id)
            if ticket is None or _older(seen, ticket.jira_updated):
                return  # a newer state was applied meanwhile
            ticket.jira_updated = seen
            in_flight = pushing | _pushes_in_flight(session, ticket.id)
            for change in self._changes(ticket, state, assignee, skip=in_flight):
                self.tickets.change_in(
                    session, ticket, change, actor=actor, origin=Origin.JIRA, teams=teams
                )

    def _issue_gone(self, ticket_id: int, event: JiraIssueSeen) -> None:
        actor = f"jira:{event.actor}" if event.actor else "jira"
        with writing(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or any(
                link.kind == "deleted_issue" for link in ticket.links if link.system == "jira"
            ):
                return  # told already
            for link in ticket.links:
                if link.system == "jira" and link.kind == "issue":
                    link.kind = "deleted_issue"
            self._issue_deleted(session, ticket, actor)

    def _changes(
        self,
        ticket: Ticket,
        state: IssueState,
        assignee: tuple[str | None] | None,
        *,
        skip: set[str],
    ) -> list[Change]:
        """What to change so the ticket matches ``state``, leaving out the fields in ``skip``
        (a change from Slack is on its way to Jira for them, and will overwrite Jira's)."""
        changes: list[Change] = []
        if "assignee" not in skip and assignee is not None and assignee[0] != ticket.assignee:
            changes.append(Assign(assignee[0], start_work=False))
        status = _reverse(self.jira.status_map, TicketStatus(ticket.status), state.status)
        if "status" not in skip and status is not None and status.value != ticket.status:
            changes.append(SetStatus(status))
        priority = _reverse(self.jira.priority_map, Priority(ticket.priority), state.priority)
        if "priority" not in skip and priority is not None and priority.value != ticket.priority:
            changes.append(SetPriority(priority))
        return changes

    def _slack_assignee(self, state: IssueState, ticket: Ticket) -> tuple[str | None] | None:
        """The Slack user the Jira assignee is, as a 1-tuple (``(None,)``: unassigned), or None
        when the ticket's assignee should stay as it is."""
        if state.assignee is None:
            return (None,)
        if state.assignee in self._placeholder_accounts():
            return None  # Deskhand's stand-in for a Slack user without a Jira account
        email = state.assignee_email
        if ticket.assignee is not None:
            person = self.chat.person(ticket.assignee)
            mine = person.email if person is not None else None
            if mine and email and mine.casefold() == email.casefold():
                return None  # the same person on both sides
        user = self.chat.user_by_email(email) if email else None
        if user is None:
            log.info("Jira assignee %s has no Slack user", state.assignee)
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
        """News of a comment: read it again from Jira (its text, and whether it is internal,
        which Server's webhooks do not say) and apply what differs."""
        event = JiraCommentSeen.from_payload(payload)
        if event.author is not None and event.author == self.tracker.me():
            return
        with Session(self.engine) as session:
            known = session.scalar(
                select(Comment).where(Comment.jira_comment_id == event.comment_id)
            )
            key = event.issue_key
            if known is not None:
                if known.origin != Origin.JIRA.value or known.deleted_at is not None:
                    return  # Deskhand's own copy in Jira, or gone already
                if not event.deleted and _older(jira_time(event.updated), known.jira_updated):
                    return  # older news than what was applied
                key = key or (known.ticket.jira_key or "")
            if not key:
                return  # Server's comment webhooks name no issue; its issue webhook does
            ticket_id = session.scalar(select(Ticket.id).where(Ticket.jira_key == key))
        if ticket_id is None:
            return
        state = None if event.deleted else self.tracker.comment_state(key, event.comment_id)
        with writing(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            comment = session.scalar(
                select(Comment).where(Comment.jira_comment_id == event.comment_id)
            )
            if ticket is None:
                return
            if comment is None:
                if state is not None:
                    self._new_comment(session, ticket, event.comment_id, state)
            elif comment.origin == Origin.JIRA.value:
                self._changed_comment(session, comment, state)

    def _new_comment(
        self, session: Session, ticket: Ticket, comment_id: str, state: CommentState
    ) -> None:
        internal = state.internal
        actor = f"jira:{state.author}"
        comment = Comment(
            ticket_id=ticket.id,
            author=actor,
            author_name=state.author_name,
            body=state.body,
            visibility="internal" if internal else "public",
            origin=Origin.JIRA.value,
            jira_comment_id=comment_id,
            jira_updated=jira_time(state.updated),
        )
        session.add(comment)
        session.flush()
        record(
            session,
            ticket.id,
            actor=actor,
            kind="note_added" if internal else "commented",
            origin=Origin.JIRA,
            data={"comment": comment.id, "jira_comment": comment_id},
        )
        if not internal and ticket.first_response_at is None:
            # Whoever writes to the requester from Jira works on the ticket.
            ticket.first_response_at = utcnow()
            record(
                session,
                ticket.id,
                actor=actor,
                kind="first_response",
                origin=Origin.JIRA,
                data={"comment": comment.id},
            )
        if allow_comment_sync(session, ticket.id):
            _post_to_slack(session, ticket.id, comment.id)
        self.tickets.run_recipes(session, ticket, Trigger.TICKET_COMMENT_ADDED, text=state.body)

    def _changed_comment(
        self, session: Session, comment: Comment, state: CommentState | None
    ) -> None:
        if comment.deleted_at is not None:
            return
        if state is None:
            comment.deleted_at = utcnow()
            kind, actor = "comment_deleted", "jira"
        elif state.body != comment.body:
            comment.body = state.body
            comment.jira_updated = jira_time(state.updated)
            kind, actor = "comment_edited", f"jira:{state.author}"
        else:
            return
        changed = record(
            session,
            comment.ticket_id,
            actor=actor,
            kind=kind,
            origin=Origin.JIRA,
            data={"comment": comment.id, "jira_comment": comment.jira_comment_id},
        )
        session.flush()
        enqueue(
            session,
            ticket_id=comment.ticket_id,
            target="slack",
            action="update_tracker_comment",
            payload={"ticket_id": comment.ticket_id, "comment_id": comment.id},
            key=f"comment:{comment.id}:slack:update:event:{changed.id}",
        )

    # helpers ---------------------------------------------------------------------------------

    def _ticket_by_key(self, key: str) -> Ticket | None:
        with Session(self.engine, expire_on_commit=False) as session:
            ticket = session.scalar(select(Ticket).where(Ticket.jira_key == key))
            if ticket is not None:
                session.expunge(ticket)
            return ticket


def _pushes_in_flight(session: Session, ticket_id: int) -> set[str]:
    """The fields with a change from Slack still on its way to Jira."""
    payloads = session.scalars(
        select(OutboxRow.payload).where(
            OutboxRow.ticket_id == ticket_id,
            OutboxRow.action == "jira_push_field",
            OutboxRow.status.in_(("pending", "claimed")),
        )
    )
    return {str(payload.get("field")) for payload in payloads}


def _post_to_slack(session: Session, ticket_id: int, comment_id: int) -> None:
    enqueue(
        session,
        ticket_id=ticket_id,
        target="slack",
        action="post_tracker_comment",
        payload={"ticket_id": ticket_id, "comment_id": comment_id},
        key=f"comment:{comment_id}:slack:post",
    )


def _older(seen: datetime, applied: datetime | None) -> bool:
    """Older than what was applied. Equal times are applied again: Jira stamps in
    milliseconds, so two changes can share one; re-applying a state changes nothing."""
    return applied is not None and seen < applied


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
