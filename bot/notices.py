"""Outbox executors for the short messages: ephemeral answers, the requester's one-line
status notices, and the note left on a triage card when its ticket moves to another team."""

from __future__ import annotations

from typing import Any

from bot import text as t
from deskhand.config import Config
from deskhand.domain import Priority, TicketStatus
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort, RejectedError
from deskhand.tickets.service import TicketService


class SlackNotices:
    def __init__(self, chat: ChatPort, tickets: TicketService, config: Config) -> None:
        self.chat = chat
        self.tickets = tickets
        self.config = config

    def ephemeral(self, task: OutboxTask) -> dict[str, Any]:
        """Tell one person something in the channel they acted in; if they cannot be shown
        a message there (not a member), tell them in a DM with the bot instead."""
        payload = task.payload
        text = t.escape(payload["text"])
        try:
            self.chat.post_ephemeral(payload["channel"], payload["user"], text)
        except RejectedError as exc:
            if exc.code not in ("user_not_in_channel", "channel_not_found", "not_in_channel"):
                raise
            ts = self.chat.post(payload["user"], text)
            return {"told": payload["user"], "by_dm": ts}
        return {"told": payload["user"]}

    def notify_requester(self, task: OutboxTask) -> dict[str, Any]:
        """One short line in the requester's thread about a status, assignee or priority
        change. Skipped when the field has moved on since (the later change brings its own
        line) or the requester made the change."""
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        field = str(task.payload.get("field", "status"))
        value = task.payload.get("value", task.payload.get("status"))
        if getattr(ticket, field) != value:
            return {"skipped": "superseded by a later change"}
        if task.payload.get("actor") == ticket.requester:
            return {"skipped": "the requester made this change"}
        if ticket.thread_channel is None or ticket.thread_ts is None:
            return {"skipped": "the ticket has no thread"}
        if field == "assignee" and value is not None:
            person = self.chat.person(str(value))  # a name: a mention would ping the agent
            value = t.escape(person.name) if person is not None else "Someone"
        ts = self.chat.post(
            ticket.thread_channel, _line(ticket.key, field, value), thread_ts=ticket.thread_ts
        )
        return {"posted": ts}

    def retire_triage_card(self, task: OutboxTask) -> dict[str, Any]:
        ticket_id = int(task.payload["ticket_id"])
        posted = self.tickets.card_location(ticket_id, "triage")
        if posted is not None:
            ticket = self.tickets.get(ticket_id)
            moved_to = t.escape(str(task.payload["moved_to"]))
            line = f"*{ticket.key}* moved to {moved_to} by {t.mention(str(task.payload['actor']))}."
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]
            self.chat.update(posted[0], posted[1], line, blocks=blocks)
        self.tickets.retire_card(ticket_id, "triage")
        return {"retired": posted[1] if posted else None}


def _line(key: str, field: str, value: Any) -> str:
    if field == "assignee":
        if value is None:
            return f"{key} is not assigned to anyone at the moment."
        return f"{value} is now working on {key}."
    if field == "priority":
        return f"{key}'s priority is now *{Priority(value).label.lower()}*."
    status = TicketStatus(value)
    line = f"{key} is now *{status.label.lower()}*."
    if status is TicketStatus.RESOLVED:
        line += " Reply here if it is not fixed."
    return line
