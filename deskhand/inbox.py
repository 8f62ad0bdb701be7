"""The durable inbox: every delivery is stored under its unique key before it is acknowledged.

A redelivery (Slack's retries, Jira's duplicate webhooks) finds its key taken and changes
nothing; a crash after the ack loses nothing, because the worker finds the row on restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from deskhand.ports import RateLimitedError
from deskhand.step_failures import is_expected, short_cause
from storage.claims import claim, complete_many, release
from storage.engine import is_sqlite, write_turn
from storage.models import InboxRow
from storage.types import utcnow

log = logging.getLogger(__name__)

InboxHandler = Callable[[dict[str, Any]], None]
LEASE = timedelta(seconds=20)
"""Handlers take well under a second; a replica that dies frees its rows after this."""
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Delivery:
    source: str
    """'slack' or 'jira'."""
    key: str
    """The delivery's own unique id (Slack event_id, Jira webhook identifier, …)."""
    kind: str
    """Which handler takes it, e.g. 'slack.reaction_added'."""
    payload: dict[str, Any]


_STORE_COLUMNS = (
    "source",
    "dedupe_key",
    "kind",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "received_at",
)


class InboxUnavailableError(Exception):
    """The database cannot take the delivery now: do not acknowledge it (Slack will retry)."""


def _row_values(delivery: Delivery) -> dict[str, Any]:
    now = utcnow()
    return {
        "source": delivery.source,
        "dedupe_key": delivery.key,
        "kind": delivery.kind,
        "payload": delivery.payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "received_at": now,
    }


@dataclass(eq=False)
class _Waiting:
    """One delivery's row values, waiting for its turn to be written, and the outcome."""

    values: dict[str, Any]
    done: bool = False
    stored: bool = False
    error: Exception | None = None

    def settle(self, *, stored: bool = False, error: Exception | None = None) -> None:
        self.stored, self.error, self.done = stored, error, True


class Inbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        table = cast(Table, InboxRow.__table__)
        # Built once: this runs before every ack, and building an ORM statement per call
        # (values, cache key, ORM column lookups) costs more than the insert itself.
        self._statement = (
            insert(table)
            .values({name: bindparam(name) for name in _STORE_COLUMNS})
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
        self._grouped = is_sqlite(engine)
        self._queue: list[_Waiting] = []
        self._queue_lock = threading.Lock()

    def store(self, delivery: Delivery) -> bool:
        """Store ``delivery``; False if its key was already stored (a redelivery).

        On SQLite, where writers take turns anyway, the deliveries that queued up while
        another was written go in together, in one transaction: one commit for the group
        instead of one each. Each caller still returns only once its own delivery is stored
        (or raises if it could not be).
        """
        waiting = _Waiting(_row_values(delivery))
        if not self._grouped:
            self._write([waiting])
        else:
            with self._queue_lock:
                self._queue.append(waiting)
            with write_turn(self.engine):
                if not waiting.done:  # else an earlier turn wrote it with its own group
                    with self._queue_lock:
                        group, self._queue = self._queue, []
                    self._write(group)
        if waiting.error is not None:
            raise waiting.error
        return waiting.stored

    def _write(self, group: list[_Waiting]) -> None:
        """Insert ``group`` in one transaction and settle each member: stored or not, or the
        error to raise. A member that fails for its own reasons is retried alone, so it
        fails alone."""
        try:
            # RETURNING, not rowcount: psycopg reports -1 rows for ON CONFLICT DO NOTHING.
            with self.engine.begin() as connection:
                stored = [
                    connection.execute(self._statement, member.values).first() is not None
                    for member in group
                ]
        except (OperationalError, InterfaceError) as exc:
            for member in group:
                member.settle(error=InboxUnavailableError(str(exc.orig or exc)))
        except Exception as exc:
            if len(group) == 1:
                group[0].settle(error=exc)
            else:
                for member in group:
                    self._write([member])
        else:
            for member, was_stored in zip(group, stored, strict=True):
                member.settle(stored=was_stored)
        finally:
            for member in group:  # interrupted: nothing may look stored that was not
                if not member.done:
                    member.settle(error=InboxUnavailableError("the store was interrupted"))

    def pending(self) -> int:
        with Session(self.engine) as session:
            count = session.scalar(
                select(func.count()).where(InboxRow.status.in_(("pending", "claimed")))
            )
        return int(count or 0)


class InboxWorker:
    """Claims stored deliveries and hands each to the handler for its kind."""

    def __init__(self, engine: Engine, handlers: Mapping[str, InboxHandler], *, owner: str) -> None:
        self.engine = engine
        self.handlers = dict(handlers)
        self.owner = owner

    def run_once(self, limit: int = 50) -> int:
        rows = claim(self.engine, InboxRow, self.owner, lease=LEASE, limit=limit)
        done = [row.id for row in rows if self._process(row)]
        # One write for the whole batch: on SQLite every write waits its turn with the acks.
        complete_many(self.engine, InboxRow, done, self.owner)
        return len(rows)

    def _process(self, row: InboxRow) -> bool:
        """Handle one row; True when it is done (failures are released for a retry)."""
        handler = self.handlers.get(row.kind)
        if handler is None:
            release(
                self.engine,
                InboxRow,
                row.id,
                self.owner,
                error=f"no handler for {row.kind}",
                retry_at=None,
            )
            log.error("inbox row %s: no handler for kind %s", row.id, row.kind)
            return False
        try:
            handler(row.payload)
        except RateLimitedError as exc:
            release(
                self.engine,
                InboxRow,
                row.id,
                self.owner,
                error=str(exc),
                retry_at=utcnow() + timedelta(seconds=exc.retry_after),
            )
            return False
        except Exception as exc:  # every failure is recorded on the row and logged
            retry_at = None if row.attempts >= MAX_ATTEMPTS else utcnow() + backoff(row.attempts)
            if is_expected(exc):  # the other side's failure: one line, no traceback
                log.warning("inbox row %s (%s) failed: %s", row.id, row.kind, short_cause(exc))
            else:
                log.error("inbox row %s (%s) failed: %r", row.id, row.kind, exc, exc_info=exc)
            release(
                self.engine, InboxRow, row.id, self.owner, error=repr(exc)[:2000], retry_at=retry_at
            )
            return False
        return True


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … capped at 5 minutes."""
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))
