"""The append-only timeline: every change, who made it, from where, and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from deskhand.domain import Origin
from storage.models import TimelineEvent


def record(
    session: Session,
    ticket_id: int,
    *,
    actor: str,
    kind: str,
    origin: Origin,
    data: dict[str, Any],
    recipe: str | None = None,
    reason: str | None = None,
) -> TimelineEvent:
    event = TimelineEvent(
        ticket_id=ticket_id,
        actor=actor,
        kind=kind,
        origin=origin.value,
        data=data,
        recipe=recipe,
        reason=reason,
    )
    session.add(event)
    return event
