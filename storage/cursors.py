"""Named positions of readers of other systems (e.g. how far the Jira poller has read)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage.engine import writing
from storage.models import SyncCursor


def read_cursor(engine: Engine, name: str) -> datetime | None:
    with Session(engine) as session:
        row = session.get(SyncCursor, name)
        return None if row is None else row.position


def move_cursor(engine: Engine, name: str, position: datetime) -> None:
    """Set cursor ``name`` to ``position``; it never moves back."""
    with writing(engine) as session:
        row = session.get(SyncCursor, name)
        if row is None:
            session.add(SyncCursor(name=name, position=position))
        elif position > row.position:
            row.position = position
