"""Replies in a ticket's threads: public comments in the requester's thread, internal notes
in the triage card's thread. An agent's first public reply is the ticket's first response;
the requester's reply brings a waiting ticket back to work, or reopens a recently closed one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from deskhand.agents import AgentDirectory
from deskhand.config import Config
from deskhand.domain import Origin, TicketStatus
from deskhand.events import ReplyToRequester, ThreadReply, ThreadReplyChanged
from deskhand.notices import Notices
from deskhand.outbox import enqueue
from deskhand.tickets import tracker_rows
from deskhand.tickets.changes import SetStatus, apply
from deskhand.tickets.service import TicketService, sync_cards
from deskhand.tickets.timeline import record
from recipes.schema import Trigger
from storage.engine import writing
from storage.models import Comment, Ticket
from storage.types import utcnow


class Conversation:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        agents: AgentDirectory,
        notices: Notices,
        *,
        tickets: TicketService | None = None,
    ) -> None:
        """``tickets``: the ticket service, for the ``ticket.comment_added`` recipes."""
        self.engine = engine
        self.config = config
        self.agents = agents
        self.notices = notices
        self.tickets = tickets

    def reply_to_requester(self, payload: dict[str, object]) -> None:
        """An agent publishes a message from the triage thread to the requester's thread."""
        event = ReplyToRequester.from_payload(dict(payload))
        probe = ThreadReply(event.user, event.channel, event.ts, event.thread_ts or event.ts, "")
        ticket_id, internal = self._ticket_for(probe)
        if ticket_id is None or not internal:
            self.notices.ephemeral(
                channel=event.channel,
                user=event.user,
                text="Use “Reply to requester” on a message in a ticket's triage thread.",
                key=f"reply:{event.ref}:where",
            )
            return
        if not self.agents.is_agent(event.user, self._team(ticket_id)):
            self.notices.ephemeral(
                channel=event.channel,
                user=event.user,
                text="Only the ticket's team can reply to its requester. Nothing was sent.",
                key=f"reply:{event.ref}:refused",
            )
            return
        with writing(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                return
            comment = Comment(
                ticket_id=ticket.id,
                author=event.user,
                body=event.text,
                visibility="public",
                origin=Origin.SLACK.value,
            )
            session.add(comment)
            session.flush()
            record(
                session,
                ticket.id,
                actor=event.user,
                kind="commented",
                origin=Origin.SLACK,
                data={"from_triage": event.ts, "comment": comment.id},
            )
            if ticket.first_response_at is None:
                _first_response(session, ticket, event.user, {"comment": comment.id})
            enqueue(
                session,
                ticket_id=ticket.id,
                target="slack",
                action="post_public_reply",
                payload={"ticket_id": ticket.id, "comment_id": comment.id},
                key=f"reply:{event.ref}",
            )
            if tracker_rows.in_jira(session, ticket):
                tracker_rows.add_comment(session, ticket.id, comment.id)

    def handle(self, payload: dict[str, object]) -> None:
        reply = ThreadReply.from_payload(dict(payload))
        ticket_id, internal = self._ticket_for(reply)
        if ticket_id is None:
            return
        team = self._team(ticket_id)
        agent = self.agents.is_agent(reply.user, team)
        body = reply.text
        if reply.files:
            body += "\n" + "\n".join(f"[file] {link}" for link in reply.files)
        with writing(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                return
            known = session.scalar(
                select(Comment.id).where(
                    Comment.slack_channel == reply.channel, Comment.slack_ts == reply.ts
                )
            )
            if known is not None or reply.ts == ticket.origin_ts:
                return  # delivered again, or the very message that became the ticket
            comment = Comment(
                ticket_id=ticket.id,
                author=reply.user,
                body=body,
                visibility="internal" if internal else "public",
                origin=Origin.SLACK.value,
                slack_channel=reply.channel,
                slack_ts=reply.ts,
            )
            session.add(comment)
            session.flush()
            if tracker_rows.in_jira(session, ticket):
                tracker_rows.add_comment(session, ticket.id, comment.id)
            kind = "note_added" if internal else "commented"
            record(
                session,
                ticket.id,
                actor=reply.user,
                kind=kind,
                origin=Origin.SLACK,
                data={"ts": reply.ts, "agent": agent},
            )
            if not internal:
                self._public_reply_effects(session, ticket, reply, agent=agent)
            if self.tickets is not None:
                self.tickets.run_recipes(
                    session, ticket, Trigger.TICKET_COMMENT_ADDED, text=reply.text
                )

    def changed(self, payload: dict[str, object]) -> None:
        """A reply that became a comment was edited or deleted in Slack: the comment follows,
        and so does its copy in Jira (updated or marked deleted, never posted again)."""
        change = ThreadReplyChanged.from_payload(dict(payload))
        with writing(self.engine) as session:
            comment = session.scalar(
                select(Comment).where(
                    Comment.slack_channel == change.channel, Comment.slack_ts == change.ts
                )
            )
            if comment is None or comment.origin != Origin.SLACK.value:
                return  # not a comment, or the bot's copy of one written elsewhere
            if comment.deleted_at is not None:
                return  # deleted already; an edit arriving late changes nothing
            if change.text is None:
                comment.deleted_at = utcnow()
                kind = "comment_deleted"
            elif change.text != comment.body:
                comment.body = change.text
                kind = "comment_edited"
            else:
                return
            event = record(
                session,
                comment.ticket_id,
                actor=comment.author,
                kind=kind,
                origin=Origin.SLACK,
                data={"comment": comment.id, "ts": change.ts},
            )
            session.flush()
            ticket = session.get(Ticket, comment.ticket_id)
            if ticket is not None and tracker_rows.in_jira(session, ticket):
                tracker_rows.update_comment(
                    session, ticket.id, comment.id, reason=f"event:{event.id}"
                )

    def _public_reply_effects(
        self, session: Session, ticket: Ticket, reply: ThreadReply, *, agent: bool
    ) -> None:
        if agent and ticket.first_response_at is None and reply.user != ticket.requester:
            _first_response(session, ticket, reply.user, {"ts": reply.ts})
        if reply.user != ticket.requester:
            return
        status = TicketStatus(ticket.status)
        target: TicketStatus | None = None
        if status is TicketStatus.WAITING_ON_REQUESTER:
            target = TicketStatus.IN_PROGRESS
        elif status.is_done and self._may_reopen(ticket):
            target = TicketStatus.IN_PROGRESS if ticket.assignee else TicketStatus.OPEN
        if target is None:
            return
        applied = apply(ticket, SetStatus(target), teams=[t.name for t in self.config.teams])
        event = record(
            session,
            ticket.id,
            actor=reply.user,
            kind=applied.kind,
            origin=Origin.SLACK,
            data={"from": applied.before, "to": applied.after, "because": "reply"},
        )
        session.flush()
        sync_cards(session, ticket.id, reason=f"event:{event.id}")
        if tracker_rows.in_jira(session, ticket):
            tracker_rows.push_field(session, ticket.id, "status", reason=f"event:{event.id}")

    def _may_reopen(self, ticket: Ticket) -> bool:
        closed = ticket.closed_at or ticket.resolved_at
        window = timedelta(days=self.config.slack.reopen_days)
        return closed is not None and utcnow() - closed <= window

    def _ticket_for(self, reply: ThreadReply) -> tuple[int | None, bool]:
        """(ticket id, internal?) of the thread the reply is in."""
        with Session(self.engine) as session:
            row = session.execute(
                select(Ticket.id, Ticket.triage_channel, Ticket.triage_ts).where(
                    or_(
                        (Ticket.thread_channel == reply.channel)
                        & (Ticket.thread_ts == reply.thread_ts),
                        (Ticket.triage_channel == reply.channel)
                        & (Ticket.triage_ts == reply.thread_ts),
                    )
                )
            ).first()
        if row is None:
            return None, False
        internal = row.triage_channel == reply.channel and row.triage_ts == reply.thread_ts
        return row.id, internal

    def _team(self, ticket_id: int) -> str:
        with Session(self.engine) as session:
            team = session.scalar(select(Ticket.team).where(Ticket.id == ticket_id))
        return team or self.config.teams[0].name


def _first_response(session: Session, ticket: Ticket, actor: str, data: dict[str, object]) -> None:
    """The ticket's first response from its team: the clock the reports measure."""
    ticket.first_response_at = utcnow()
    record(session, ticket.id, actor=actor, kind="first_response", origin=Origin.SLACK, data=data)
