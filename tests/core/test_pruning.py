"""Finished inbox rows go after the retention; everything else stays. The recipe-reload rows
of processes not seen for the retention go; a running process's own row stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from deskhand.config import parse_config
from deskhand.inbox import Delivery, Inbox
from deskhand.pruning import InboxPruner, ReplicaPruner
from recipes.book import RecipeBook
from recipes.reloads import ReloadWatcher, request_reload
from storage.models import InboxRow, RecipeReplica
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


# --------------------------------------------------------------------------------------------
# Recipe replicas.

WEEK = timedelta(days=7)


def _watcher(engine: Engine, name: str, clock: Callable[[], datetime]) -> ReloadWatcher:
    """A process's reload watcher, on a book of no recipes, whose time is ``clock()``."""
    config = parse_config("teams: [{name: IT, key_prefix: IT, triage_channel: it-triage}]\n")
    return ReloadWatcher(engine, RecipeBook.from_paths([], config), name, clock=clock)


def _seen(engine: Engine, name: str, at: datetime) -> None:
    """A process called ``name`` starts at ``at`` and polls once."""
    _watcher(engine, name, lambda: at).step()


def _replicas(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(RecipeReplica.replica)))


def test_replicas_not_seen_for_the_retention_are_deleted(migrated_engine: Engine) -> None:
    for name, age in (
        ("host:gone", WEEK + timedelta(minutes=1)),
        ("host:long-gone", timedelta(days=90)),
        ("host:lately", WEEK - timedelta(minutes=1)),
    ):
        _seen(migrated_engine, name, NOW - age)
    assert _replicas(migrated_engine) == ["host:gone", "host:lately", "host:long-gone"]

    assert ReplicaPruner(migrated_engine, retention=WEEK, clock=lambda: NOW).run_once() == 2
    assert _replicas(migrated_engine) == ["host:lately"]
    assert ReplicaPruner(migrated_engine, retention=WEEK, clock=lambda: NOW).run_once() == 0


def test_a_running_process_keeps_its_row_by_its_own_polling(migrated_engine: Engine) -> None:
    """Its row was made a month ago, when it started; each poll notes it is still there."""
    now = [NOW - timedelta(days=30)]
    running = _watcher(migrated_engine, "host:running", lambda: now[0])
    running.step()
    request = request_reload(migrated_engine)
    while now[0] < NOW:  # a poll a day stands for its polls every few seconds
        now[0] = min(now[0] + timedelta(days=1), NOW)
        running.step()  # answers the request once; otherwise notes that it is alive
    _seen(migrated_engine, "host:stopped", NOW - WEEK - timedelta(hours=1))

    assert ReplicaPruner(migrated_engine, clock=lambda: NOW).run_once() == 1
    assert _replicas(migrated_engine) == ["host:running"]
    with Session(migrated_engine) as session:
        row = session.get(RecipeReplica, "host:running")
        assert row is not None
        assert row.request_at == request  # its answer is kept with it


def test_a_process_whose_row_was_deleted_writes_it_again(migrated_engine: Engine) -> None:
    """A process stalled past the retention (a suspended machine) is back on its next poll."""
    now = [NOW - timedelta(days=8)]
    stalled = _watcher(migrated_engine, "host:stalled", lambda: now[0])
    stalled.step()
    assert ReplicaPruner(migrated_engine, clock=lambda: NOW).run_once() == 1
    assert _replicas(migrated_engine) == []

    now[0] = NOW
    stalled.step()
    assert _replicas(migrated_engine) == ["host:stalled"]


def test_a_replica_retention_shorter_than_an_hour_is_refused(migrated_engine: Engine) -> None:
    with pytest.raises(ValueError, match="at least an hour"):
        ReplicaPruner(migrated_engine, retention=timedelta(minutes=5))
