"""A per-ticket circuit breaker for comment sync (ACCEPTANCE 20).

Two bots answering each other through a ticket (or a script gone wrong) would otherwise copy
comments back and forth as fast as the rate limits allow. More than ``LIMIT`` comments synced
for one ticket within ``WINDOW`` trips the breaker: later comments are still stored on the
ticket, but not copied to the other side, and the triage thread is told once. The breaker
closes by itself when the window has passed.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskhand.domain import Origin
from deskhand.outbox import enqueue
from deskhand.tickets.timeline import record
from storage.models import Comment, OutboxRow, TimelineEvent
from storage.types import utcnow

WINDOW = timedelta(minutes=1)
LIMIT = 20
COMMENT_SYNC_ACTIONS = ("jira_add_comment", "post_tracker_comment")
PAUSED = "sync_paused"


def allow_comment_sync(session: Session, ticket_id: int) -> bool:
    """Whether one more comment of the ticket may be copied to the other side now."""
    since = utcnow() - WINDOW
    recent = session.scalar(
        select(func.count()).where(
            OutboxRow.ticket_id == ticket_id,
            OutboxRow.action.in_(COMMENT_SYNC_ACTIONS),
            OutboxRow.created_at >= since,
        )
    )
    if int(recent or 0) < LIMIT:
        return True
    told = session.scalar(
        select(func.count()).where(
            TimelineEvent.ticket_id == ticket_id,
            TimelineEvent.kind == PAUSED,
            TimelineEvent.at >= since,
        )
    )
    if not told:
        _trip(session, ticket_id)
    return False


def _trip(session: Session, ticket_id: int) -> None:
    minutes = int(WINDOW.total_seconds() // 60)
    record(
        session,
        ticket_id,
        actor="deskhand",
        kind=PAUSED,
        origin=Origin.DESKHAND,
        data={"limit": LIMIT, "window_seconds": int(WINDOW.total_seconds())},
        reason=f"more than {LIMIT} comments in {minutes} minute(s)",
    )
    alert = Comment(
        ticket_id=ticket_id,
        author="deskhand",
        author_name="Deskhand",
        body=(
            f"Comment sync for this ticket is paused: more than {LIMIT} comments in "
            f"{minutes} minute(s), which looks like a loop (two bots answering each other?). "
            "New comments stay on the ticket but are not copied across until it is quiet "
            "for a minute."
        ),
        visibility="internal",
        origin=Origin.DESKHAND.value,
    )
    session.add(alert)
    session.flush()
    enqueue(
        session,
        ticket_id=ticket_id,
        target="slack",
        action="post_tracker_comment",
        payload={"ticket_id": ticket_id, "comment_id": alert.id},
        key=f"comment:{alert.id}:slack:post",
    )
