"""Claim work-queue rows (inbox, outbox) for one worker at a time, under a lease.

On PostgreSQL many replicas claim concurrently: the candidate rows are locked with
``FOR UPDATE SKIP LOCKED`` so two claimers never see the same row, and the lease makes the
claim durable after the transaction ends. A worker that dies leaves its lease to expire;
the next claimer takes the row over.

On SQLite there is one writer: the claim runs in a ``BEGIN IMMEDIATE`` transaction, which
takes the database's write lock before reading, so claims are serialised. The candidates are
read as two index searches (due rows, expired leases) rather than one ``OR``: once ``ANALYZE``
has run on a table of many finished rows, SQLite's planner prefers walking the whole table in
id order for the ``OR`` form, inside the write lock (measured: ingest fell to a tenth at 10^6
tickets). The two-search form keeps its plan whatever the statistics say.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, Select, and_, or_, select, union_all, update
from sqlalchemy.orm import Session

from storage.engine import write_turn
from storage.models import ClaimableMixin
from storage.types import utcnow

RowT = TypeVar("RowT", bound=ClaimableMixin)


def claimable(model: type[ClaimableMixin], now: datetime) -> ColumnElement[bool]:
    """Rows that are due and not held by a live lease."""
    return or_(
        and_(model.status == "pending", model.next_attempt_at <= now),
        and_(model.status == "claimed", model.lease_until < now),
    )


def claim(
    engine: Engine,
    model: type[RowT],
    owner: str,
    *,
    lease: timedelta,
    limit: int = 10,
    now: datetime | None = None,
    extra: Sequence[ColumnElement[bool]] = (),
) -> list[RowT]:
    """Lease up to ``limit`` due rows of ``model`` to ``owner`` and return them, oldest first.

    ``extra`` narrows the candidates (e.g. per-ticket ordering for the outbox). Each claim
    counts as an attempt. Returned rows are detached snapshots: finish them with
    :func:`complete` or :func:`release`.
    """
    now = now or utcnow()
    postgres = engine.dialect.name == "postgresql"
    candidates: Select[Any]
    if postgres:
        candidates = (
            select(model.id)
            .where(claimable(model, now), *extra)
            .order_by(model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    else:
        candidates = _sqlite_candidates(model, now, limit, extra)
    statement = (
        update(model)
        .where(model.id.in_(candidates.scalar_subquery()))
        .values(
            status="claimed",
            lease_owner=owner,
            lease_until=now + lease,
            attempts=model.attempts + 1,
        )
        .returning(model)
    )
    options: dict[str, Any] = {} if postgres else {"sqlite_begin": "IMMEDIATE"}
    with (
        write_turn(engine),
        engine.connect().execution_options(**options) as connection,
        connection.begin(),
        Session(bind=connection, expire_on_commit=False) as session,
    ):
        # The claimed rows come back from the UPDATE itself (RETURNING): no second read.
        rows = session.scalars(statement, execution_options={"synchronize_session": False})
        claimed = sorted(rows.all(), key=lambda row: row.id)
        session.expunge_all()
    return claimed


def _sqlite_candidates(
    model: type[ClaimableMixin],
    now: datetime,
    limit: int,
    extra: Sequence[ColumnElement[bool]],
) -> Select[Any]:
    """:func:`claimable` as two searches of the (status, next_attempt_at) index: the ``limit``
    rows due longest, and the (few) claimed rows whose lease ran out; the oldest of them by id
    are claimed."""
    due = (
        select(model.id)
        .where(model.status == "pending", model.next_attempt_at <= now, *extra)
        .order_by(model.next_attempt_at, model.id)  # the index's own order: no table walk
        .limit(limit)
        .subquery()
    )
    expired = select(model.id).where(model.status == "claimed", model.lease_until < now, *extra)
    either = union_all(select(due.c.id), expired)
    return select(model.id).where(model.id.in_(either)).order_by(model.id).limit(limit)


def complete(
    engine: Engine, model: type[ClaimableMixin], row_id: int, owner: str, **values: Any
) -> bool:
    """Mark a claimed row done (setting ``values`` too); False if the lease was lost to another
    worker meanwhile."""
    return _finish(engine, model, row_id, owner, status="done", last_error=None, **values)


def complete_many(
    engine: Engine, model: type[ClaimableMixin], row_ids: Sequence[int], owner: str
) -> int:
    """Mark many claimed rows done in one transaction; how many this owner still held."""
    if not row_ids:
        return 0
    statement = (
        update(model)
        .where(model.id.in_(row_ids), model.status == "claimed", model.lease_owner == owner)
        .values(status="done", lease_owner=None, lease_until=None, last_error=None)
    )
    with write_turn(engine), Session(engine) as session, session.begin():
        result = session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(
    engine: Engine,
    model: type[ClaimableMixin],
    row_id: int,
    owner: str,
    *,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Give a claimed row back after a failure: due again at ``retry_at``, or dead if None."""
    if retry_at is None:
        return _finish(engine, model, row_id, owner, status="dead", last_error=error)
    return _finish(
        engine, model, row_id, owner, status="pending", last_error=error, next_attempt_at=retry_at
    )


def _finish(
    engine: Engine,
    model: type[ClaimableMixin],
    row_id: int,
    owner: str,
    **values: Any,
) -> bool:
    statement = (
        update(model)
        .where(model.id == row_id, model.status == "claimed", model.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **values)
    )
    with write_turn(engine), Session(engine) as session, session.begin():
        result = session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_all_claims(engine: Engine, model: type[ClaimableMixin]) -> int:
    """Make every claimed row pending again, now; the number released.

    For a single-process deployment (SQLite) at start-up: any claim in the database belongs
    to a previous run of this process, which died holding it, so waiting for its lease to
    expire would only delay the work.
    """
    statement = (
        update(model)
        .where(model.status == "claimed")
        .values(status="pending", lease_owner=None, lease_until=None, next_attempt_at=utcnow())
    )
    with Session(engine) as session, session.begin():
        result = session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]
