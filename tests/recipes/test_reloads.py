"""Reload requests through the database: each replica answers once per request, a replica
that cannot load the files keeps its set and says why, and the asker is told who did not
answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from deskhand.config import Config
from recipes.book import RecipeBook
from recipes.reloads import LIVE_WITHIN, ReloadWatcher, answers, request_reload, wait_for_answers
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.types import utcnow
from tests.recipes.test_book import write


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    upgrade(sqlite_url)
    made = make_engine(sqlite_url)
    yield made
    made.dispose()


def test_each_replica_reloads_once_per_request(
    engine: Engine, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "r.yaml"
    write(path, "one")
    books = [RecipeBook.from_paths([path], config) for _ in range(2)]
    watchers = [ReloadWatcher(engine, book, f"host:{n}") for n, book in enumerate(books)]
    for watcher in watchers:
        watcher.step()  # started: seen, nothing to answer
    first = request_reload(engine)
    assert answers(engine, first) == []

    write(path, "one", "two")
    for watcher in watchers:
        watcher.step()
        watcher.step()  # the same request is answered once
    got = answers(engine, first)
    assert [(a.replica, a.ok, a.outcome) for a in got] == [
        ("host:0", True, "loaded 2 recipes from 1 file"),
        ("host:1", True, "loaded 2 recipes from 1 file"),
    ]
    assert all(len(book.current) == 2 for book in books)

    second = request_reload(engine)
    assert second > first
    assert answers(engine, second) == []


def test_a_replica_that_cannot_load_keeps_its_set_and_says_why(
    engine: Engine, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "r.yaml"
    write(path, "one")
    book = RecipeBook.from_paths([path], config)
    before = book.current
    watcher = ReloadWatcher(engine, book, "host:1")
    request = request_reload(engine)
    path.write_text("recipes: [\n")
    watcher.step()
    [answer] = answers(engine, request)
    assert not answer.ok
    assert answer.outcome.startswith("recipes not reloaded; still using the last good set")
    assert f"{path}:2:1" in answer.outcome
    assert book.current is before


def test_the_asker_hears_who_did_not_answer(engine: Engine, config: Config, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    write(path, "one")
    quick, silent = (
        ReloadWatcher(engine, RecipeBook.from_paths([path], config), name)
        for name in ("host:quick", "host:silent")
    )
    gone = ReloadWatcher(
        engine,
        RecipeBook.from_paths([path], config),
        "host:gone",
        clock=lambda: utcnow() - LIVE_WITHIN - timedelta(seconds=5),
    )
    for watcher in (quick, silent, gone):
        watcher.step()
    request = request_reload(engine)
    quick.step()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += max(seconds, 0.1)

    got, missing = wait_for_answers(engine, request, 3.0, clock=lambda: now[0], sleep=sleep)
    assert [a.replica for a in got] == ["host:quick"]
    assert missing == {"host:silent"}  # the one not seen lately is not waited for
    assert now[0] >= 3.0

    silent.step()
    now[0] = 0.0
    got, missing = wait_for_answers(engine, request, 3.0, clock=lambda: now[0], sleep=sleep)
    assert ([a.replica for a in got], missing) == (["host:quick", "host:silent"], set())
    assert now[0] == 0.0  # everyone answered: no waiting
