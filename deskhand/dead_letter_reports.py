"""What a dead letter's report in Slack is told, read back for its updates.

A dead letter gets one report message. Every later change of the row updates that message
through the outbox (so per ticket in order with the rest of its Slack rows): a retry
(``report_dead_letter_retried``), a replay that went through
(``report_dead_letter_went_through``), and a replay that died again, whose own
``report_dead_letter`` row updates the message of the first report instead of posting a
second one. So "the report" of a dead letter is the message the newest posted report row
points at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.orm import Session

from deskhand.outbox import REPORT_DEAD_LETTER, report_key_prefix
from storage.models import OutboxRow


@dataclass(frozen=True)
class PostedReport:
    """Where a dead letter's report is, and what it said last."""

    channel: str
    ts: str
    thread_ts: str | None
    details: dict[str, Any]
    """The payload of the newest report row carried out: ticket_id, row_id, action, target,
    attempts, error (the latest round's)."""


@dataclass(frozen=True)
class Retried:
    """Who gave a dead letter another round, from where ('slack' or 'cli'), and when."""

    actor: str
    origin: str
    at: datetime


def latest_report(session: Session, ticket_id: int, row_id: int) -> int | None:
    """The id of the newest report row of the dead letter ``row_id``, if any."""
    return session.scalar(
        select(OutboxRow.id)
        .where(*_reports_of(ticket_id, row_id))
        .order_by(OutboxRow.id.desc())
        .limit(1)
    )


def posted_report(engine: Engine, ticket_id: int, row_id: int) -> PostedReport | None:
    """The report of the dead letter ``row_id`` of ticket ``ticket_id``; None if none was
    posted (yet, or at all: a report skipped because the row was retried first)."""
    with Session(engine) as session:
        done = session.scalars(
            select(OutboxRow)
            .where(*_reports_of(ticket_id, row_id), OutboxRow.status == "done")
            .order_by(OutboxRow.id.desc())
        ).all()
    for row in done:
        where = _where_posted(row.result)
        if where is not None:
            channel, ts, thread_ts = where
            return PostedReport(channel, ts, thread_ts, details=dict(done[0].payload))
    return None


def _where_posted(result: dict[str, Any] | None) -> tuple[str, str, str | None] | None:
    """Channel, ts and thread of the message a report row posted (or updated), if it did."""
    result = result or {}
    channel, ts, thread_ts = result.get("channel"), result.get("ts"), result.get("thread_ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return None
    return channel, ts, thread_ts if isinstance(thread_ts, str) else None


def _reports_of(ticket_id: int, row_id: int) -> tuple[ColumnElement[bool], ...]:
    # The ticket first: the (ticket_id, id) index finds its few rows at once.
    return (
        OutboxRow.ticket_id == ticket_id,
        OutboxRow.action == REPORT_DEAD_LETTER,
        OutboxRow.dedupe_key.startswith(report_key_prefix(row_id), autoescape=True),
    )


def row_status(engine: Engine, row_id: int) -> str | None:
    """The outbox row's status, or None if there is no such row."""
    with Session(engine) as session:
        return session.scalar(select(OutboxRow.status).where(OutboxRow.id == row_id))
