"""Outbox executor: what a recipe says (a reply to the requester, an internal note in the
triage thread, a post in a channel). Templates were rendered, their values escaped, when the
recipe ran; a ticket from a private conversation is named, never quoted, in a channel."""

from __future__ import annotations

from typing import Any

from bot import text as t
from deskhand.agents import AgentDirectory
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort
from deskhand.tickets.service import TicketService


class RecipeMessages:
    def __init__(self, chat: ChatPort, tickets: TicketService, agents: AgentDirectory) -> None:
        self.chat = chat
        self.tickets = tickets
        self.agents = agents

    def post(self, task: OutboxTask) -> dict[str, Any]:
        payload = task.payload
        if payload.get("ticket_id") is None:
            return self._about_message(task)
        ticket = self.tickets.get(int(payload["ticket_id"]))
        where = str(payload["where"])
        text = str(payload["text"])
        thread: str | None = None
        if where == "thread":
            channel, thread = ticket.thread_channel, ticket.thread_ts
        elif where == "triage":
            channel = ticket.triage_channel or self.agents.triage_channel_id(ticket.team)
            thread = ticket.triage_ts
        else:
            channel = self.chat.channel_id(str(payload["channel"]))
            if ticket.private_origin:
                text = f"{t.escape(ticket.key)}: a request from a private conversation."
        return self._post(task, channel, thread, text)

    def _about_message(self, task: OutboxTask) -> dict[str, Any]:
        """A ``message.posted`` recipe: a reply in the message's thread, or a post in a
        channel (which names no private message's text)."""
        payload = task.payload
        text = str(payload["text"])
        if payload["where"] == "message":
            return self._post(task, str(payload["channel"]), str(payload["thread_ts"]), text)
        if payload.get("private"):
            text = "A request in a private conversation."
        return self._post(task, self.chat.channel_id(str(payload["channel"])), None, text)

    def _post(
        self, task: OutboxTask, channel: str | None, thread: str | None, text: str
    ) -> dict[str, Any]:
        if channel is None:
            return {"skipped": "nowhere to post"}
        ts = self.chat.find_tagged(channel, thread, task.tag) if task.maybe_done else None
        if ts is None:
            metadata = {"event_type": "deskhand_recipe", "event_payload": {"tag": task.tag}}
            ts = self.chat.post(
                channel, t.truncate(text, t.ADVISED_TEXT), thread_ts=thread, metadata=metadata
            )
        return {"posted": ts, "channel": channel}
