"""Where a ticket's conversation lives when it did not start in a thread (a form request)."""

from __future__ import annotations

from sqlalchemy import Engine

from storage.engine import writing
from storage.models import Ticket


def attach_thread(engine: Engine, ticket_id: int, channel: str, ts: str) -> bool:
    """Make the message at (``channel``, ``ts``) the ticket's thread, unless it has one: the
    ticket card and the conversation go there. True if it was attached now."""
    with writing(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise KeyError(ticket_id)
        if ticket.thread_channel is not None:
            return False
        ticket.thread_channel, ticket.thread_ts = channel, ts
        return True
