"""The thread sweep: replies whose Slack event never arrived still become comments.

Slack's Events API delivers at least once only while it is retrying; an event lost for good
(an outage longer than Slack's retries, a dropped Socket Mode frame) is never sent again. So,
every ``interval`` seconds, the sweep reads the threads of the tickets that can still change —
open ones, and closed ones a requester's reply could reopen — and stores each human reply that
has no comment yet in the inbox as a :class:`~deskhand.events.ThreadReply`, under the key
``sweep:<channel>:<ts>``. The inbox worker then handles it exactly like a live event; the
comment's unique (channel, ts) makes a late live event, or the same reply found by both, one
comment.

Rate limits: each thread read is one ``conversations.replies`` call (Slack's tier 3, about 50 a
minute), plus one more per 200 further messages in a very long thread. A run reads at most
``budget_per_run`` threads (40 by default: with the default 60 s interval that leaves room under
tier 3 for the other readers of threads, such as the lookups after a timed-out post), least
recently swept first, so every thread is read within ``ceil(threads / budget)`` intervals. When
Slack says wait (``RateLimitedError``) or cannot be reached, the run ends with what it did; the
threads it did not read are first in line next time.

The rotation is kept in memory, per process: on PostgreSQL with several replicas, each replica
sweeps with its own budget, so divide the budget by the number of replicas.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import CompoundSelect, Engine, or_, select, union_all
from sqlalchemy.orm import Session

from deskhand.domain import TicketStatus
from deskhand.events import ThreadReply
from deskhand.inbox import Delivery, Inbox
from deskhand.ports import ChatMessage, RateLimitedError, RejectedError, UnavailableError
from storage.models import Comment, InboxRow, Ticket
from storage.types import utcnow

log = logging.getLogger(__name__)

INTERVAL = 60.0
"""Seconds between sweeps, by default: a missed reply shows up within about a minute."""
BUDGET_PER_RUN = 40
"""Threads read per sweep, by default (see the module's notes on rate limits)."""
HUMAN_SUBTYPES = (None, "file_share", "thread_broadcast")
"""Message subtypes written by a person; the same ones the live listener takes as replies."""
CLOCK_SKEW = timedelta(seconds=60)
"""Replies older than their ticket arrived when there was no ticket to add them to, and the
live path dropped them too; this much leeway keeps a skewed clock from skipping a real one."""


class ThreadReader(Protocol):
    """The one part of :class:`~deskhand.ports.ChatPort` the sweep uses."""

    def thread(self, channel: str, ts: str) -> list[ChatMessage]: ...


@dataclass(frozen=True)
class _Thread:
    ticket_id: int
    channel: str
    root: str
    origin_ts: str | None
    since: float
    """Unix time before which replies predate the ticket (less the clock-skew leeway)."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.root)


class ThreadSweep:
    """Reads open tickets' threads and stores the replies that have no comment yet.

    ``interval`` (seconds, 60 by default) is the pause between runs: give it to the sweep's
    loop (``Loop("sweep", ..., interval=sweep.interval)``) and step that loop with
    :meth:`run_when_due`, so that waking every loop (as ``Deskhand.wake`` does whenever work is
    stored) never makes the sweep read threads more often than that.
    """

    def __init__(
        self,
        engine: Engine,
        chat: ThreadReader,
        inbox: Inbox,
        *,
        budget_per_run: int = BUDGET_PER_RUN,
        reopen_days: int = 7,
        interval: float = INTERVAL,
        now: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if budget_per_run < 1:
            raise ValueError("budget_per_run must be at least 1")
        self.engine = engine
        self.chat = chat
        self.inbox = inbox
        self.budget_per_run = budget_per_run
        self.reopen_window = timedelta(days=reopen_days)
        self.interval = interval
        self.now = now
        self.clock = clock
        self._last_run: float | None = None
        self._swept: dict[tuple[str, str], int] = {}
        """When each thread was last read, as a run-independent sequence number."""
        self._sequence = itertools.count()

    def run_when_due(self) -> int:
        """:meth:`run_once` if ``interval`` has passed since the last run (or there was none),
        else nothing; the number of replies stored in the inbox."""
        if self._last_run is not None and self.clock() - self._last_run < self.interval:
            return 0
        return self.run_once()

    def run_once(self) -> int:
        """Sweep up to ``budget_per_run`` threads; the number of replies stored in the inbox."""
        self._last_run = self.clock()
        threads = self._threads()
        live = {thread.key for thread in threads}
        for key in [key for key in self._swept if key not in live]:
            del self._swept[key]  # the ticket was closed for good: forget its threads
        threads.sort(key=lambda t: (self._swept.get(t.key, -1), t.ticket_id))
        stored = 0
        for thread in threads[: self.budget_per_run]:
            try:
                messages = self.chat.thread(thread.channel, thread.root)
            except (RateLimitedError, UnavailableError) as exc:
                log.warning("thread sweep stopped early, %d replies stored: %s", stored, exc)
                return stored
            except RejectedError as exc:  # gone or not visible: try again in a later round
                log.warning("thread sweep: cannot read %s/%s: %s", *thread.key, exc)
                messages = []
            self._swept[thread.key] = next(self._sequence)
            stored += self._store_missing(thread, messages)
        return stored

    def _threads(self) -> list[_Thread]:
        """The threads of tickets that a reply can still change."""
        with Session(self.engine) as session:
            rows = session.execute(changeable_tickets(self.now() - self.reopen_window)).all()
        threads: list[_Thread] = []
        for row in rows:
            since = (row.created_at - CLOCK_SKEW).timestamp()
            for channel, root in (
                (row.thread_channel, row.thread_ts),
                (row.triage_channel, row.triage_ts),
            ):
                if channel and root:
                    threads.append(_Thread(row.id, channel, root, row.origin_ts, since))
        return threads

    def _store_missing(self, thread: _Thread, messages: list[ChatMessage]) -> int:
        replies = [m for m in messages if _is_reply(m, thread)]
        if not replies:
            return 0
        keys = {m.ts: f"sweep:{thread.channel}:{m.ts}" for m in replies}
        with Session(self.engine) as session:
            known = set(
                session.scalars(
                    select(Comment.slack_ts).where(
                        Comment.slack_channel == thread.channel,
                        Comment.slack_ts.in_(list(keys)),
                    )
                )
            )
            # Found by an earlier sweep and not handled yet. Looked up rather than left to the
            # inbox's unique key alone, so the count of new replies is right on PostgreSQL too,
            # where Inbox.store cannot tell a taken key (its rowcount is -1 there).
            swept = set(
                session.scalars(
                    select(InboxRow.dedupe_key).where(InboxRow.dedupe_key.in_(keys.values()))
                )
            )
        stored = 0
        for message in replies:
            key = keys[message.ts]
            if message.ts in known or key in swept:
                continue
            assert message.user is not None  # checked by _is_reply
            reply = ThreadReply(
                user=message.user,
                channel=thread.channel,
                ts=message.ts,
                thread_ts=thread.root,
                text=message.text,
                files=[_file_link(f) for f in message.files],
            )
            if self.inbox.store(Delivery("slack", key, reply.KIND, reply.payload())):
                log.info("thread sweep found a missed reply %s/%s", thread.channel, message.ts)
                stored += 1
        return stored


def changeable_tickets(closed_since: datetime) -> CompoundSelect[Any]:
    """The tickets a reply can still change: not done, or closed or resolved since
    ``closed_since``; each once, with the columns the sweep needs.

    Three index searches (on ``status``, ``closed_at`` and ``resolved_at``) joined by
    ``UNION ALL``, never one ``OR``. Not done is asked as ``status IN (the live statuses)``,
    which an index serves, where ``NOT IN (the done ones)`` would read every ticket. Once
    ``ANALYZE`` has run on a table of mostly finished tickets, SQLite's planner reads the whole
    table for the ``OR`` of the three rather than searching the three indexes; apart, each part
    keeps its index search with those statistics too. The parts are disjoint (the second and
    third leave out, among the rows their index finds, those an earlier part returns), so there
    are no duplicates to remove: a ``UNION`` would sort or hash every row to find them.
    """
    columns = (
        Ticket.id,
        Ticket.origin_ts,
        Ticket.created_at,
        Ticket.thread_channel,
        Ticket.thread_ts,
        Ticket.triage_channel,
        Ticket.triage_ts,
    )
    live = [status.value for status in TicketStatus if not status.is_done]
    done = Ticket.status.not_in(live)
    closed_before = or_(Ticket.closed_at.is_(None), Ticket.closed_at < closed_since)
    return union_all(
        select(*columns).where(Ticket.status.in_(live)),
        select(*columns).where(Ticket.closed_at >= closed_since, done),
        select(*columns).where(Ticket.resolved_at >= closed_since, done, closed_before),
    )


def _is_reply(message: ChatMessage, thread: _Thread) -> bool:
    """A person's reply in the thread (not its root, not the ticket's own message, not a bot's
    post, not an edit or a join), written since the ticket was made."""
    return (
        message.user is not None
        and message.bot_id is None
        and message.subtype in HUMAN_SUBTYPES
        and message.ts != thread.root
        and message.ts != thread.origin_ts
        and _after(message.ts, thread.since)
    )


def _after(ts: str, since: float) -> bool:
    try:
        return float(ts) >= since
    except ValueError:
        return True  # not Slack's "seconds.micros": do not lose it over its format


def _file_link(file: dict[str, object]) -> str:
    """The same link the live listener keeps for a file shared with a reply."""
    return str(file.get("permalink") or file.get("name") or file.get("id"))
