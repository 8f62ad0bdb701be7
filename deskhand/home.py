"""App Home: opening it asks the relay to publish a fresh view (rendered when it runs)."""

from __future__ import annotations

from sqlalchemy import Engine

from deskhand.events import HomeOpened
from deskhand.outbox import enqueue
from storage.engine import writing
from storage.types import utcnow


class HomeRequests:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def handle(self, payload: dict[str, object]) -> None:
        event = HomeOpened.from_payload(dict(payload))
        with writing(self.engine) as session:
            enqueue(
                session,
                ticket_id=None,
                target="slack",
                action="publish_home",
                payload={"user": event.user},
                # One publish per opening; openings within the same second collapse.
                key=f"home:{event.user}:{int(utcnow().timestamp())}",
            )
