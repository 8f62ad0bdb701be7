"""Claims: concurrent workers never share a row; an expired lease is taken over."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from storage.claims import claim, complete, release
from storage.engine import make_engine
from storage.models import OutboxRow
from storage.types import utcnow

LEASE = timedelta(seconds=30)


def _fill(engine: Engine, count: int) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(
            OutboxRow(target="slack", action="post", payload={"n": n}, dedupe_key=f"k{n}")
            for n in range(count)
        )


def _claim_concurrently(url: str, workers: int, rows: int) -> Counter[int]:
    claimed: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(owner: str) -> None:
        engine = make_engine(url)
        try:
            start.wait()
            while batch := claim(engine, OutboxRow, owner, lease=LEASE, limit=3):
                with lock:
                    claimed.update(row.id for row in batch)
                for row in batch:
                    assert complete(engine, OutboxRow, row.id, owner)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(claimed.values()) >= rows
    return claimed


@pytest.mark.postgres
def test_concurrent_claimers_on_postgres_never_share_a_row(postgres_url: str) -> None:
    from storage.migrate import upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    _fill(engine, 300)
    claimed = _claim_concurrently(postgres_url, workers=6, rows=300)
    assert [row_id for row_id, times in claimed.items() if times > 1] == []
    assert len(claimed) == 300
    with Session(engine) as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"done"}
    engine.dispose()


def test_concurrent_claimers_on_sqlite_never_share_a_row(sqlite_url: str) -> None:
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    _fill(engine, 120)
    claimed = _claim_concurrently(sqlite_url, workers=4, rows=120)
    assert [row_id for row_id, times in claimed.items() if times > 1] == []
    assert len(claimed) == 120
    engine.dispose()


def test_expired_lease_is_taken_over(migrated_engine: Engine) -> None:
    _fill(migrated_engine, 1)
    t0 = utcnow()
    [first] = claim(migrated_engine, OutboxRow, "crashed", lease=LEASE, now=t0)
    assert first.lease_owner == "crashed"
    assert first.attempts == 1

    assert (
        claim(migrated_engine, OutboxRow, "other", lease=LEASE, now=t0 + timedelta(seconds=29))
        == []
    )
    [taken] = claim(
        migrated_engine, OutboxRow, "other", lease=LEASE, now=t0 + timedelta(seconds=31)
    )
    assert taken.id == first.id
    assert taken.lease_owner == "other"
    assert taken.attempts == 2

    assert not complete(migrated_engine, OutboxRow, first.id, "crashed")
    assert complete(migrated_engine, OutboxRow, first.id, "other")
    assert claim(migrated_engine, OutboxRow, "late", lease=LEASE, now=t0 + timedelta(hours=1)) == []


def test_released_row_waits_for_its_retry_time_then_dies(migrated_engine: Engine) -> None:
    _fill(migrated_engine, 1)
    t0 = utcnow()
    [row] = claim(migrated_engine, OutboxRow, "w", lease=LEASE, now=t0)
    assert release(
        migrated_engine, OutboxRow, row.id, "w", error="429", retry_at=t0 + timedelta(seconds=7)
    )
    assert claim(migrated_engine, OutboxRow, "w", lease=LEASE, now=t0 + timedelta(seconds=6)) == []
    [again] = claim(migrated_engine, OutboxRow, "w", lease=LEASE, now=t0 + timedelta(seconds=7))
    assert again.last_error == "429"
    assert again.attempts == 2

    assert release(migrated_engine, OutboxRow, row.id, "w", error="gave up", retry_at=None)
    assert claim(migrated_engine, OutboxRow, "w", lease=LEASE, now=t0 + timedelta(days=1)) == []
    with Session(migrated_engine) as session:
        assert session.get(OutboxRow, row.id).status == "dead"  # type: ignore[union-attr]


def test_claims_take_the_oldest_first_and_respect_the_limit(migrated_engine: Engine) -> None:
    _fill(migrated_engine, 5)
    batch = claim(migrated_engine, OutboxRow, "w", lease=LEASE, limit=2)
    rest = claim(migrated_engine, OutboxRow, "w", lease=LEASE, limit=10)
    assert [row.payload["n"] for row in batch] == [0, 1]
    assert [row.payload["n"] for row in rest] == [2, 3, 4]


def test_extra_conditions_narrow_due_rows_and_expired_leases_alike(
    migrated_engine: Engine,
) -> None:
    _fill(migrated_engine, 4)
    t0 = utcnow()
    held = claim(migrated_engine, OutboxRow, "crashed", lease=LEASE, limit=2, now=t0)
    later = t0 + timedelta(minutes=1)  # both leases have run out
    odd = [OutboxRow.payload["n"].as_integer().in_([1, 3])]  # one held row, one due row
    taken = claim(migrated_engine, OutboxRow, "w", lease=LEASE, now=later, extra=odd)
    assert [row.payload["n"] for row in held] == [0, 1]
    assert [row.payload["n"] for row in taken] == [1, 3]


def test_sqlite_claim_searches_the_index_whatever_the_statistics(sqlite_url: str) -> None:
    """With ANALYZE statistics over many finished rows, SQLite planned the one-``OR`` form as
    a walk of the whole table inside the write lock; the claim must search the index."""
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    _fill(engine, 3000)
    t0 = utcnow()
    with Session(engine) as session, session.begin():
        session.execute(update(OutboxRow).where(OutboxRow.id <= 2990).values(status="done"))
    claim(engine, OutboxRow, "crashed", lease=LEASE, limit=1, now=t0)  # row 2991, held
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if sql.lstrip().upper().startswith("UPDATE OUTBOX SET STATUS"):
            statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    taken = claim(engine, OutboxRow, "w", lease=LEASE, limit=5, now=t0 + timedelta(minutes=1))
    event.remove(engine, "before_cursor_execute", record)
    assert [row.id for row in taken] == [2991, 2992, 2993, 2994, 2995]
    [(sql, params)] = statements
    with engine.connect() as connection:
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert [step for step in plan if step.startswith("SCAN outbox")] == [], plan
    assert any("USING" in step and "INDEX ix_outbox_status" in step for step in plan), plan
    engine.dispose()
