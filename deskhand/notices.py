"""Short messages to one person, through the outbox like every other side effect."""

from __future__ import annotations

from sqlalchemy import Engine

from deskhand.outbox import enqueue
from storage.engine import writing


class Notices:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ephemeral(self, *, channel: str, user: str, text: str, key: str) -> None:
        """Show ``text`` to ``user`` only, in ``channel`` (e.g. why a click was refused)."""
        with writing(self.engine) as session:
            enqueue(
                session,
                ticket_id=None,
                target="slack",
                action="ephemeral",
                payload={"channel": channel, "user": user, "text": text},
                key=f"ephemeral:{key}",
            )
