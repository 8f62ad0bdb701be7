"""Finished inbox rows go after the retention; everything else stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from deskhand.inbox import Delivery, Inbox
from deskhand.pruning import InboxPruner
from storage.models import InboxRow
from storage.types import utcnow

NOW = utcnow()


def _store(engine: Engine, key: str, *, status: str, age: timedelta) -> None:
    assert Inbox(engine).store(Delivery("slack", key, "slack.reaction_added", {}))
    at = NOW - age
    with Session(engine) as session, session.begin():
        session.execute(
            update(InboxRow)
            .where(InboxRow.dedupe_key == key)
            .values(status=status, received_at=at, next_attempt_at=at)
        )


def _keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(InboxRow.dedupe_key)))


def test_only_finished_rows_past_the_retention_are_deleted(migrated_engine: Engine) -> None:
    week = timedelta(days=7)
    _store(migrated_engine, "old-done", status="done", age=week + timedelta(minutes=1))
    _store(migrated_engine, "young-done", status="done", age=week - timedelta(minutes=1))
    _store(migrated_engine, "old-dead", status="dead", age=timedelta(days=30))
    _store(migrated_engine, "old-pending", status="pending", age=timedelta(days=30))

    pruner = InboxPruner(migrated_engine, retention=week, clock=lambda: NOW)
    assert pruner.run_once() == 1
    assert _keys(migrated_engine) == ["old-dead", "old-pending", "young-done"]
    # a redelivery of a kept row is still recognised
    assert not Inbox(migrated_engine).store(Delivery("slack", "young-done", "x", {}))


def test_a_backlog_goes_in_batches_up_to_the_run_limit(migrated_engine: Engine) -> None:
    for n in range(7):
        _store(migrated_engine, f"done-{n}", status="done", age=timedelta(days=8))

    limited = InboxPruner(migrated_engine, batch=3, max_batches=1, clock=lambda: NOW)
    assert limited.run_once() == 3
    assert len(_keys(migrated_engine)) == 4
    assert InboxPruner(migrated_engine, batch=3, clock=lambda: NOW).run_once() == 4
    assert _keys(migrated_engine) == []


def test_a_retention_shorter_than_the_redelivery_window_is_refused(
    migrated_engine: Engine,
) -> None:
    with pytest.raises(ValueError, match="at least an hour"):
        InboxPruner(migrated_engine, retention=timedelta(minutes=5))
