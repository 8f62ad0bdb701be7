"""Housekeeping: finished inbox rows are deleted once no redelivery of them can come, and
the recipe-reload rows of processes that have gone once nobody can want them.

An inbox row's unique key is what turns a redelivery into a no-op, so a finished row must
outlive every retry of its delivery: Slack's end about 5 minutes after the first attempt,
Jira's webhooks arrive up to about 30 minutes late, and the Jira poller's windows overlap by
minutes. A week is far beyond all of them. Rows that died are kept for ``deskhand sync`` and for
people to look at; only ``done`` rows go.

Each running Deskhand has a row in ``recipe_replicas`` (its host:pid) that it refreshes every
few seconds while it runs (``recipes.reloads.SEEN_EVERY``); a process that has stopped leaves its
row behind, and every restart adds one. Rows not seen for a week go: ``deskhand recipes
reload`` only waits for replicas seen in the last ``recipes.reloads.LIVE_WITHIN``, so an older
row only tells people that a process once ran; a running process's own row is never that old.

Deleting inbox rows runs in small batches, each its own short transaction, so that on SQLite
the acks waiting for the write lock never wait behind a long delete.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select

from storage.engine import write_turn
from storage.models import InboxRow, RecipeReplica
from storage.types import utcnow

log = logging.getLogger(__name__)

INBOX_RETENTION = timedelta(days=7)
"""How long a finished inbox row is kept (see the module's notes)."""
REPLICA_RETENTION = timedelta(days=7)
"""How long the recipe-reload row of a process not seen since is kept."""
INTERVAL = 3600.0
"""Seconds between runs, by default."""
BATCH = 2000
"""Rows deleted per transaction."""
MAX_BATCHES = 50
"""Batches per run: a backlog of finished rows is worked off over several runs."""


class InboxPruner:
    def __init__(
        self,
        engine: Engine,
        *,
        retention: timedelta = INBOX_RETENTION,
        interval: float = INTERVAL,
        batch: int = BATCH,
        max_batches: int = MAX_BATCHES,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if retention < timedelta(hours=1):
            raise ValueError("finished inbox rows must be kept at least an hour (redeliveries)")
        self.engine = engine
        self.retention = retention
        self.interval = interval
        self.batch = batch
        self.max_batches = max_batches
        self.clock = clock

    def run_once(self) -> int:
        """Delete finished rows older than the retention; how many were deleted."""
        cutoff = self.clock() - self.retention
        # next_attempt_at leads the queue index (status, next_attempt_at); a finished row's is
        # never later than when it finished. received_at makes the age explicit.
        old = (
            select(InboxRow.id)
            .where(
                InboxRow.status == "done",
                InboxRow.next_attempt_at < cutoff,
                InboxRow.received_at < cutoff,
            )
            .limit(self.batch)
        )
        deleted = 0
        for _ in range(self.max_batches):
            with write_turn(self.engine), self.engine.begin() as connection:
                result = connection.execute(
                    delete(InboxRow).where(InboxRow.id.in_(old.scalar_subquery()))
                )
            count = int(result.rowcount)
            deleted += count
            if count < self.batch:
                break
        if deleted:
            log.info("inbox: deleted %d finished rows older than %s", deleted, cutoff)
        return deleted


class ReplicaPruner:
    """Deletes the ``recipe_replicas`` rows of processes not seen for ``retention``."""

    def __init__(
        self,
        engine: Engine,
        *,
        retention: timedelta = REPLICA_RETENTION,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if retention < timedelta(hours=1):
            # A running process refreshes its row every few seconds; an hour is far beyond a
            # slow poll, so its own row is never taken for a gone process's.
            raise ValueError("replica rows must be kept at least an hour")
        self.engine = engine
        self.retention = retention
        self.clock = clock

    def run_once(self) -> int:
        """Delete the rows not seen within the retention; how many were deleted."""
        cutoff = self.clock() - self.retention
        # One row per process start: few enough for one short transaction.
        with write_turn(self.engine), self.engine.begin() as connection:
            result = connection.execute(delete(RecipeReplica).where(RecipeReplica.seen_at < cutoff))
        deleted = int(result.rowcount)
        if deleted:
            log.info("recipe replicas: deleted %d not seen since %s", deleted, cutoff)
        return deleted
