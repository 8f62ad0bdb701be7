"""Claims: concurrent workers never share a row; an expired lease is taken over."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
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
