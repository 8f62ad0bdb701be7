"""The inbox stores each delivery once and says whether it was new."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from deskhand.inbox import Delivery, Inbox
from storage.models import InboxRow


def test_store_says_new_once_and_keeps_one_row(migrated_engine: Engine) -> None:
    inbox = Inbox(migrated_engine)
    delivery = Delivery("slack", "Ev0123", "reaction_added", {"user": "U1"})
    assert inbox.store(delivery) is True
    assert inbox.store(delivery) is False
    assert inbox.store(Delivery("slack", "Ev0123", "reaction_added", {"user": "U2"})) is False
    with Session(migrated_engine) as session:
        rows = session.scalar(select(func.count()).select_from(InboxRow))
        payload = session.scalar(select(InboxRow.payload))
    assert rows == 1
    assert payload == {"user": "U1"}
    assert inbox.pending() == 1
