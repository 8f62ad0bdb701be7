"""Reloading the recipes of every running Deskhand, whatever its transport and however many
replicas share the database.

``deskhand recipes reload`` moves the ``recipes.reload`` sync cursor to now: that is the
request. Each running Deskhand looks at the cursor every few seconds (a loop of its own, no
wake-up needed); when it has moved, the process reloads its :class:`RecipeBook` (a set that
fails to load keeps the last good one) and writes its answer to its row of
``recipe_replicas``: the request it answers, whether the files loaded, and the outcome in
words. The command waits for the answers of the replicas seen lately.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recipes.book import RecipeBook, loaded_message
from storage.cursors import move_cursor, read_cursor
from storage.engine import writing
from storage.models import RecipeReplica
from storage.types import utcnow

log = logging.getLogger(__name__)

CURSOR = "recipes.reload"
POLL_SECONDS = 2.0
"""How often a running Deskhand looks for a reload request."""
SEEN_EVERY = timedelta(seconds=10)
"""How often a replica notes that it is alive when there is nothing to answer."""
LIVE_WITHIN = timedelta(seconds=30)
"""A replica seen this recently is waited for; an older row is a process that has gone."""


@dataclass(frozen=True)
class Answer:
    replica: str
    ok: bool
    outcome: str


def request_reload(engine: Engine) -> datetime:
    """Ask every running Deskhand to reload its recipes; the request's position."""
    now = utcnow()
    previous = read_cursor(engine, CURSOR)
    if previous is not None and now <= previous:
        now = previous + timedelta(microseconds=1)  # a cursor only moves forward
    move_cursor(engine, CURSOR, now)
    return now


def answers(engine: Engine, request: datetime) -> list[Answer]:
    """The replicas that have answered ``request`` (or a later one), by name."""
    with Session(engine) as session:
        rows = session.scalars(
            select(RecipeReplica)
            .where(RecipeReplica.request_at >= request)
            .order_by(RecipeReplica.replica)
        )
        return [Answer(row.replica, row.ok, row.outcome) for row in rows]


def live_replicas(engine: Engine, since: datetime) -> set[str]:
    with Session(engine) as session:
        return set(
            session.scalars(select(RecipeReplica.replica).where(RecipeReplica.seen_at >= since))
        )


def wait_for_answers(
    engine: Engine,
    request: datetime,
    wait: float,
    *,
    poll: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[Answer], set[str]]:
    """Answers to ``request`` within ``wait`` seconds: it returns as soon as every replica
    seen lately has answered, with the answers and the replicas that did not answer."""
    deadline = clock() + wait
    while True:
        answered = answers(engine, request)
        missing = live_replicas(engine, request - LIVE_WITHIN) - {a.replica for a in answered}
        if (answered and not missing) or clock() >= deadline:
            return answered, missing
        sleep(min(poll, max(0.0, deadline - clock())))


class ReloadWatcher:
    """A running Deskhand's side: notice a request, reload, answer."""

    def __init__(
        self,
        engine: Engine,
        book: RecipeBook,
        replica: str,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.book = book
        self.replica = replica
        self.clock = clock
        # The book was just loaded: only requests made from now on are news.
        self._answered = read_cursor(engine, CURSOR)
        self._seen: datetime | None = None

    def step(self) -> int:
        """Look for a request once; reload and answer when there is one. Always 0: the
        loop waits its interval between looks."""
        request = read_cursor(self.engine, CURSOR)
        now = self.clock()
        if request is not None and (self._answered is None or request > self._answered):
            result = self.book.reload()
            message = result.message
            if result.ok:
                log.info("recipes: %s", message)
            else:
                log.warning("recipes: %s", message)
            self._write(now, request=request, ok=result.ok, outcome=message)
            self._answered = request
        elif self._seen is None or now - self._seen >= SEEN_EVERY:
            self._write(now)
        return 0

    def _write(
        self,
        now: datetime,
        *,
        request: datetime | None = None,
        ok: bool = True,
        outcome: str | None = None,
    ) -> None:
        with writing(self.engine) as session:
            row = session.get(RecipeReplica, self.replica)
            if row is None:
                row = RecipeReplica(
                    replica=self.replica,
                    ok=True,
                    outcome=loaded_message(self.book.current),
                    answered_at=now,
                )
                session.add(row)
            row.seen_at = now
            if request is not None:
                row.request_at, row.ok, row.answered_at = request, ok, now
                row.outcome = outcome or ""
        self._seen = now
