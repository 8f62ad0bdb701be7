"""The outbox: every side effect in Slack or Jira is a row written with the change that caused
it, and the relay carries the rows out.

Rows of one ticket run in order (a later row waits while an earlier one is pending); rows of
different tickets do not wait for each other, so a rate-limited channel or endpoint never
stalls the rest. Failures are retried with backoff or after the service's Retry-After; a row
that exhausts its attempts becomes a dead letter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from deskhand.inbox import backoff
from deskhand.ports import RateLimitedError, RejectedError, UnknownOutcomeError
from storage.claims import claim, complete, release
from storage.models import OutboxRow
from storage.types import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
UNKNOWN_OUTCOME = "unknown_outcome"
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class OutboxTask:
    id: int
    ticket_id: int | None
    action: str
    payload: dict[str, Any]
    attempts: int
    """This attempt's number, from 1."""
    maybe_done: bool = False
    """The previous attempt ended in an unknown outcome (a timeout after sending): what it
    did may have happened, so look for it before doing it again."""

    @property
    def tag(self) -> str:
        """A stable tag for what this row posts, to look it up after an unknown outcome."""
        return f"outbox:{self.id}"


OutboxExecutor = Callable[[OutboxTask], dict[str, Any] | None]


def enqueue(
    session: Session,
    *,
    ticket_id: int | None,
    target: str,
    action: str,
    payload: dict[str, Any],
    key: str,
) -> None:
    """Add a row inside the caller's transaction; a row with the same ``key`` is kept as is."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(OutboxRow)
        .values(
            ticket_id=ticket_id,
            target=target,
            action=action,
            payload=payload,
            dedupe_key=key,
            status="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def _in_ticket_order() -> Any:
    earlier = aliased(OutboxRow)
    return ~exists().where(
        earlier.ticket_id == OutboxRow.ticket_id,
        earlier.id < OutboxRow.id,
        earlier.status.in_(("pending", "claimed")),
    )


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        executors: Mapping[str, OutboxExecutor],
        *,
        owner: str,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.engine = engine
        self.executors = dict(executors)
        self.owner = owner
        self.max_attempts = max_attempts

    def run_once(self, limit: int = 20) -> int:
        rows = claim(
            self.engine, OutboxRow, self.owner, lease=LEASE, limit=limit, extra=[_in_ticket_order()]
        )
        for row in rows:
            self._carry_out(row)
        return len(rows)

    def _carry_out(self, row: OutboxRow) -> None:
        task = OutboxTask(
            row.id,
            row.ticket_id,
            row.action,
            row.payload,
            row.attempts,
            maybe_done=(row.last_error or "").startswith(UNKNOWN_OUTCOME),
        )
        executor = self.executors.get(row.action)
        if executor is None:
            self._fail(row, f"no executor for {row.action}", retry_at=None)
            return
        try:
            result = executor(task)
        except RateLimitedError as exc:
            self._fail(row, str(exc), retry_at=utcnow() + timedelta(seconds=exc.retry_after))
            return
        except RejectedError as exc:
            self._fail(row, f"rejected: {exc}", retry_at=None)
            return
        except UnknownOutcomeError as exc:
            retry_at = (
                None if row.attempts >= self.max_attempts else utcnow() + backoff(row.attempts)
            )
            self._fail(row, f"{UNKNOWN_OUTCOME}: {exc}", retry_at=retry_at)
            return
        except Exception as exc:  # recorded on the row; retried with backoff, then dead
            log.warning("outbox row %s (%s) failed: %r", row.id, row.action, exc)
            retry_at = (
                None if row.attempts >= self.max_attempts else utcnow() + backoff(row.attempts)
            )
            self._fail(row, repr(exc), retry_at=retry_at)
            return
        complete(self.engine, OutboxRow, row.id, self.owner, result=result, done_at=utcnow())

    def _fail(self, row: OutboxRow, error: str, *, retry_at: Any) -> None:
        if retry_at is None:
            log.error("outbox row %s (%s) is a dead letter: %s", row.id, row.action, error)
        release(self.engine, OutboxRow, row.id, self.owner, error=error[:2000], retry_at=retry_at)

    def pending(self) -> int:
        with Session(self.engine) as session:
            count = session.scalar(
                select(func.count()).where(OutboxRow.status.in_(("pending", "claimed")))
            )
        return int(count or 0)
