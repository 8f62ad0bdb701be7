"""Rows for tests that need a ticket in the database without going through Slack."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.models import Team, Ticket


def add_ticket(session: Session, number: int = 1, **overrides: Any) -> Ticket:
    """A ticket ``IT-<number>`` of team IT (added too, the first time), flushed so it has
    its id; ``overrides`` set any other column."""
    if session.get(Team, "IT") is None:
        session.add(Team(name="IT", key_prefix="IT", triage_channel="it-triage"))
        session.flush()
    values: dict[str, Any] = {
        "key": f"IT-{number}",
        "team": "IT",
        "requester": "U0REQUEST",
        "title": f"Request {number}",
        "origin_kind": "reaction",
        **overrides,
    }
    ticket = Ticket(**values)
    session.add(ticket)
    session.flush()
    return ticket
