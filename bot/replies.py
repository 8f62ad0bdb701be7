"""Outbox executor: post an agent's public reply in the requester's thread."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from bot import text as t
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort
from deskhand.tickets.service import TicketService
from storage.engine import writing
from storage.models import Comment


class PublicReplies:
    def __init__(self, chat: ChatPort, tickets: TicketService, engine: Engine) -> None:
        self.chat = chat
        self.tickets = tickets
        self.engine = engine

    def post(self, task: OutboxTask) -> dict[str, Any]:
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        if ticket.thread_channel is None or ticket.thread_ts is None:
            return {"skipped": "the ticket has no thread"}
        with writing(self.engine) as session:
            comment = session.get(Comment, int(task.payload["comment_id"]))
            if comment is None or comment.slack_ts is not None:
                return {"skipped": "already posted"}
            author, body = comment.author, comment.body
        metadata = {"event_type": "deskhand_reply", "event_payload": {"tag": task.tag}}
        ts = (
            self.chat.find_tagged(ticket.thread_channel, ticket.thread_ts, task.tag)
            if (task.maybe_done)
            else None
        )
        if ts is None:
            # Slack already escaped the note's text when it was written; only prefix it.
            text = t.truncate(f"{t.mention(author)}: {body}", t.ADVISED_TEXT)
            ts = self.chat.post(
                ticket.thread_channel, text, thread_ts=ticket.thread_ts, metadata=metadata
            )
        with writing(self.engine) as session:
            comment = session.get(Comment, int(task.payload["comment_id"]))
            if comment is not None:
                comment.slack_channel, comment.slack_ts = ticket.thread_channel, ts
        return {"posted": ts}
