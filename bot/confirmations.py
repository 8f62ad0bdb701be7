"""Outbox executors for intake without an origin thread: the requester's confirmation of a
form request (its DM becomes the ticket's thread) and the "Create ticket" offer under a DM.

Both are first posts that may have happened already when an earlier attempt timed out, so a
retry looks for the row's tag before posting again (chat.postMessage has no idempotency key).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from bot import text as t
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort, RejectedError
from deskhand.tickets.service import TicketService
from deskhand.tickets.threads import attach_thread

DM_TICKET_ACTION = "create_ticket_from_dm"
"""action_id of the "Create ticket" button offered under a DM to the bot; its value is the
DM message's ts."""
CONFIRMATION_EVENT = "deskhand_confirmation"
"""``event_type`` of the metadata on Deskhand's intake posts (confirmations and offers)."""


class IntakePosts:
    def __init__(self, chat: ChatPort, tickets: TicketService, engine: Engine) -> None:
        self.chat = chat
        self.tickets = tickets
        self.engine = engine

    def ticket_confirmation(self, task: OutboxTask) -> dict[str, Any]:
        """ "Ticket IT-7 created: …" in the requester's DM, which becomes the ticket's thread.
        If the DM cannot be written, an ephemeral in the channel the command came from."""
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        if ticket.thread_channel is not None:
            return {"skipped": "the ticket has its thread already"}
        text = t.truncate(
            f"Ticket *{t.escape(ticket.key)}* created: {t.escape(ticket.title)}\n"
            "Replies in this thread reach the team.",
            t.ADVISED_TEXT,
        )
        metadata = {
            "event_type": CONFIRMATION_EVENT,
            "event_payload": {"ticket": ticket.key, "tag": task.tag},
        }
        try:
            dm = self.chat.open_dm(ticket.requester)
            ts = self.chat.find_tagged(dm, None, task.tag) if task.attempts > 1 else None
            if ts is None:
                ts = self.chat.post(dm, text, metadata=metadata)
        except RejectedError:
            channel = task.payload.get("channel")
            if not channel:
                raise
            self.chat.post_ephemeral(str(channel), ticket.requester, text)
            return {"told": ticket.requester, "by_ephemeral": channel}
        attach_thread(self.engine, ticket.id, dm, ts)
        return {"posted": ts, "channel": dm}

    def dm_ticket_offer(self, task: OutboxTask) -> dict[str, Any]:
        """A "Create ticket" button in the thread of a DM someone sent the bot."""
        channel, ts = str(task.payload["channel"]), str(task.payload["ts"])
        found = self.chat.find_tagged(channel, ts, task.tag) if task.attempts > 1 else None
        if found is not None:
            return {"posted": found, "found_after_unknown_outcome": True}
        text = "Shall I make this a help desk ticket?"
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "actions",
                "block_id": "dm_ticket_offer",
                "elements": [
                    {
                        "type": "button",
                        "action_id": DM_TICKET_ACTION,
                        "text": {"type": "plain_text", "text": "Create ticket"},
                        "style": "primary",
                        "value": ts,
                    }
                ],
            },
        ]
        metadata = {"event_type": CONFIRMATION_EVENT, "event_payload": {"tag": task.tag}}
        posted = self.chat.post(channel, text, blocks=blocks, thread_ts=ts, metadata=metadata)
        return {"posted": posted}
