"""The outbox: every side effect in Slack or Jira is a row written with the change that caused
it, and the relay carries the rows out.

Order. Rows of one ticket for one target run in order: a later Slack row of a ticket waits
while an earlier Slack row of that ticket is pending, and likewise for Jira. A ticket's Slack
rows never wait for its Jira rows (a Jira outage does not hold back its Slack posts), and rows
of different tickets never wait for each other.

Failures, by the core's errors (:mod:`deskhand.ports`):

- ``RateLimitedError``: the service asks us to wait. The row is due again after Retry-After
  (at least a second: Retry-After comes in whole seconds) and the attempt does not count
  toward ``max_attempts``: the service did not fail, it asked for patience. Patience is
  bounded too: once a row has waited ``rate_limit_patience`` in all on Retry-Afters (each
  counted as at least a second) with no counted attempt in between, the next 429 makes it a
  dead letter, so a service that always says 429 still ends. For a target whose limits are
  per account (Jira), the relay holds back what the limit covers, for that service's own
  429s (a Slack 429 met while carrying out a Jira row says nothing about Jira): the whole
  target for an account's limit (or a 429 that does not say), the rows of the same action
  for one endpoint's (Jira Cloud's burst limit), and only the row and its ticket's rows
  behind it for one issue's (Jira Cloud's write limit per issue). Slack's limits are per
  method and channel and its port paces its calls itself, so a Slack 429 only delays that
  row (and the rows of its ticket queued behind it).
- ``PacedError`` (a ``RateLimitedError`` raised before anything was sent: the port's own
  pacing says when the call's turn comes): the row is due again exactly then, under a second
  too, and nothing else is paused; otherwise it is a rate-limited try like any other.
- ``RejectedError``: retrying cannot help: a dead letter at once.
- ``UnknownOutcomeError``: the write may have happened. Counted; from then on every attempt of
  the row is told so (``OutboxTask.maybe_done``) and looks for its effect before redoing it.
- ``UnavailableError`` (5xx, refused connections) and anything else: counted, retried with
  backoff. An unavailable per-account target is paused for the row's backoff (at most
  ``UNAVAILABLE_PAUSE``), so a Jira that is down is probed by one row at a time rather than
  by the whole backlog at once; each row spends its attempts on its own schedule, which
  (``MAX_ATTEMPTS``) outlasts a ten-minute outage.

A row that exhausts its attempts becomes a dead letter (status 'dead'). In the same
transaction the ticket's timeline records ``sync_failed`` and a ``report_dead_letter`` row asks
for a report in the team's triage channel (never for a report itself: no cascade). Dead
letters are replayed with :mod:`deskhand.dead_letters`; when a reported one then goes through,
the transaction that marks it done adds a ``report_dead_letter_went_through`` row, which
updates the report to say so.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, exists, func, not_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from deskhand.domain import Origin
from deskhand.inbox import backoff
from deskhand.ports import (
    PacedError,
    RateLimitedError,
    RejectedError,
    UnavailableError,
    UnknownOutcomeError,
)
from deskhand.step_failures import is_expected, short_cause
from deskhand.tickets.timeline import record
from storage.claims import claim, complete
from storage.engine import write_turn, writing
from storage.models import OutboxRow
from storage.types import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 12
"""Counted attempts (failures other than rate limits) before a row is a dead letter. With the
backoff (1 s, 2 s, 4 s … at most 5 minutes) a row keeps trying for about 18 minutes: a
ten-minute outage loses nothing."""
RATE_LIMIT_PATIENCE = timedelta(hours=1)
"""How long a row waits on Retry-Afters, with no counted attempt between, before giving up."""
UNAVAILABLE_PAUSE = timedelta(seconds=60)
"""The longest an unavailable per-account target is paused after one failure."""
ACCOUNT_WIDE_TARGETS = frozenset({"jira"})
"""Targets whose rate limits apply to the whole account, not to one channel or method."""
ERROR_LIMIT = 2000

REPORT_DEAD_LETTER = "report_dead_letter"
"""Action of the row that reports a dead letter in the ticket's triage channel."""
REPORT_RETRIED = "report_dead_letter_retried"
"""Action of the row that marks a dead letter's report as retried, and by whom."""
REPORT_WENT_THROUGH = "report_dead_letter_went_through"
"""Action of the row that marks a dead letter's report as done: its replay went through."""
UNREPORTED_ACTIONS = frozenset({REPORT_DEAD_LETTER, REPORT_RETRIED, REPORT_WENT_THROUGH})
"""Rows whose death is recorded but not reported: a report of a report would never end."""
SYNC_FAILED = "sync_failed"
"""Timeline kind recorded when one of the ticket's outbox rows becomes a dead letter."""


@dataclass(frozen=True)
class OutboxTask:
    id: int
    ticket_id: int | None
    action: str
    payload: dict[str, Any]
    attempts: int
    """This try's number, from 1. It grows with every try, rate-limited ones included, so
    ``attempts == 1`` is the first try (e.g. to say "queued" once); the row's own count,
    which bounds it, leaves rate-limited tries out."""
    maybe_done: bool = False
    """An earlier attempt ended in an unknown outcome (a timeout after sending): what it
    did may have happened, so look for it before doing it again."""

    @property
    def tag(self) -> str:
        """A stable tag for what this row posts, to look it up after an unknown outcome."""
        return f"outbox:{self.id}"


OutboxExecutor = Callable[[OutboxTask], dict[str, Any] | None]

_NOTE = re.compile(r"(\[outcome unknown\] )?(?:\[rate limited x(\d+), (\d+) s\] )?(.*)", re.DOTALL)


@dataclass(frozen=True)
class RowNote:
    """What the relay remembers about a row between attempts, kept in its ``last_error``.

    The schema has one text column for it, and people read it in ``deskhand sync status``, so
    the state is a readable prefix: ``[outcome unknown] [rate limited x3, 21 s] HTTP 503``.
    """

    error: str
    outcome_unknown: bool = False
    """Some attempt ended in an unknown outcome: later attempts look before they act."""
    rate_limited: int = 0
    """Rate-limited answers since the last counted attempt."""
    waited: int = 0
    """Seconds those answers asked to wait, in all."""

    def text(self) -> str:
        prefix = "[outcome unknown] " if self.outcome_unknown else ""
        if self.rate_limited:
            prefix += f"[rate limited x{self.rate_limited}, {self.waited} s] "
        return (prefix + self.error)[:ERROR_LIMIT]

    @classmethod
    def parse(cls, text: str | None) -> RowNote:
        match = _NOTE.fullmatch(text or "")
        assert match is not None  # the pattern matches any text
        unknown, waits, waited, error = match.groups()
        return cls(
            error,
            outcome_unknown=unknown is not None,
            rate_limited=int(waits or 0),
            waited=int(waited or 0),
        )

    def failed(self, error: str) -> RowNote:
        """After a counted failure: the waits start again; an unknown outcome stays known."""
        return replace(self, error=error, rate_limited=0, waited=0)

    def replayed(self) -> RowNote:
        """The note for a dead letter given another round: the waits start again; an unknown
        outcome stays known, so the replay still looks before it acts."""
        return self.failed(self.error)


def report_key_prefix(row_id: int) -> str:
    """How the dedupe keys of the rows about the dead letter ``row_id`` begin: its reports
    (``…:<sync_failed event id>``) and their updates."""
    return f"dead_letter:{row_id}:"


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


def _in_order() -> ColumnElement[bool]:
    """No earlier row of the same ticket and target is still waiting."""
    earlier = aliased(OutboxRow)
    return ~exists().where(
        earlier.ticket_id == OutboxRow.ticket_id,
        earlier.target == OutboxRow.target,
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
        rate_limit_patience: timedelta = RATE_LIMIT_PATIENCE,
        account_wide: Sequence[str] = tuple(ACCOUNT_WIDE_TARGETS),
        retry_delay: Callable[[int], timedelta] = backoff,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``retry_delay(attempts)`` is the wait after a counted failure; ``clock`` the
        relay's idea of now (a test moves it instead of sleeping)."""
        self.engine = engine
        self.executors = dict(executors)
        self.owner = owner
        self.max_attempts = max_attempts
        self.rate_limit_patience = rate_limit_patience
        self.account_wide = frozenset(account_wide)
        self.retry_delay = retry_delay
        self.clock = clock
        self._lock = threading.Lock()
        self._pauses: dict[tuple[str, str | None], datetime] = {}
        """(target, None): the whole target is held; (target, action): that action's rows."""

    # pauses ----------------------------------------------------------------------------------

    def paused_until(self, target: str, action: str | None = None) -> datetime | None:
        """When rows of ``target`` (of ``action``, if given: a pause of that action's endpoint
        alone holds them too) may run again, if they are held now."""
        now = self.clock()
        with self._lock:
            held = [
                until
                for (paused, only), until in self._pauses.items()
                if paused == target and only in (None, action) and until > now
            ]
        return max(held, default=None)

    def _pause(self, target: str, until: datetime, *, action: str | None = None) -> None:
        """Hold every row of ``target`` (or of its ``action`` alone) back until ``until``: in
        this process (rows added meanwhile too) and in the database (for other replicas, and
        across a restart)."""
        with self._lock:
            if self._pauses.get((target, action), until) > until:
                return
            self._pauses[(target, action)] = until
        what = target if action is None else f"{target} {action}"
        log.warning("outbox: %s paused until %s", what, until.isoformat())
        held = [
            OutboxRow.target == target,
            OutboxRow.status == "pending",
            OutboxRow.next_attempt_at < until,
        ]
        if action is not None:
            held.append(OutboxRow.action == action)
        statement = update(OutboxRow).where(*held).values(next_attempt_at=until)
        with write_turn(self.engine), Session(self.engine) as session, session.begin():
            session.execute(statement)

    def _held_back(self, now: datetime) -> list[ColumnElement[bool]]:
        """Conditions that leave out the rows held by a pause now."""
        with self._lock:
            paused = sorted((key for key, until in self._pauses.items() if until > now), key=str)
        targets = [target for target, action in paused if action is None]
        held: list[ColumnElement[bool]] = [OutboxRow.target.not_in(targets)] if targets else []
        held.extend(
            not_(and_(OutboxRow.target == target, OutboxRow.action == action))
            for target, action in paused
            if action is not None and target not in targets
        )
        return held

    # the relay -------------------------------------------------------------------------------

    def run_once(self, limit: int = 20) -> int:
        now = self.clock()
        extra = [_in_order(), *self._held_back(now)]
        rows = claim(
            self.engine, OutboxRow, self.owner, lease=LEASE, limit=limit, now=now, extra=extra
        )
        for row in rows:
            until = self.paused_until(row.target, row.action)
            if until is not None:  # paused by an earlier row of this batch: not attempted
                self._give_back(row, next_at=until, note=None)
                continue
            self._carry_out(row)
        return len(rows)

    def _carry_out(self, row: OutboxRow) -> None:
        note = RowNote.parse(row.last_error)
        task = OutboxTask(
            row.id,
            row.ticket_id,
            row.action,
            row.payload,
            row.attempts + note.rate_limited,
            maybe_done=note.outcome_unknown,
        )
        executor = self.executors.get(row.action)
        if executor is None:
            self._bury(row, note.failed(f"no executor for {row.action}"))
            return
        try:
            result = executor(task)
        except RateLimitedError as exc:
            self._rate_limited(row, note, exc)
            return
        except RejectedError as exc:
            self._bury(row, note.failed(f"rejected: {exc}"))
            return
        except UnknownOutcomeError as exc:
            log.warning(
                "outbox row %s (%s) outcome unknown: %s", row.id, row.action, short_cause(exc)
            )
            self._failed(row, RowNote(f"unknown outcome: {exc}", outcome_unknown=True))
            return
        except Exception as exc:  # recorded on the row; retried with backoff, then dead
            if is_expected(exc):  # the other side's failure: one line, no traceback
                log.warning("outbox row %s (%s) failed: %s", row.id, row.action, short_cause(exc))
            else:
                log.error("outbox row %s (%s) failed: %r", row.id, row.action, exc, exc_info=exc)
            error = str(exc) if isinstance(exc, UnavailableError) else repr(exc)
            next_at = self._failed(row, note.failed(error))
            unavailable = isinstance(exc, UnavailableError) and row.target in self.account_wide
            if unavailable and next_at is not None:
                self._pause(row.target, min(next_at, self.clock() + UNAVAILABLE_PAUSE))
            return
        self._done(row, result)

    def _done(self, row: OutboxRow, result: dict[str, Any] | None) -> None:
        """Mark the row done. Only a row that failed before can be a dead letter given another
        round: if it was reported, the same transaction asks for the report's update."""
        if row.last_error is None or row.ticket_id is None or row.action in UNREPORTED_ACTIONS:
            complete(self.engine, OutboxRow, row.id, self.owner, result=result, done_at=utcnow())
            return
        done_at = utcnow()
        statement = (
            update(OutboxRow)
            .where(*self._held(row))
            .values(
                status="done",
                lease_owner=None,
                lease_until=None,
                last_error=None,
                result=result,
                done_at=done_at,
            )
        )
        with writing(self.engine) as session:
            if not session.execute(statement).rowcount:  # type: ignore[attr-defined]
                return
            reported = session.scalar(
                select(OutboxRow.id)
                .where(
                    OutboxRow.ticket_id == row.ticket_id,
                    OutboxRow.action == REPORT_DEAD_LETTER,
                    OutboxRow.dedupe_key.startswith(report_key_prefix(row.id), autoescape=True),
                )
                .limit(1)
            )
            if reported is None:
                return
            enqueue(
                session,
                ticket_id=row.ticket_id,
                target="slack",
                action=REPORT_WENT_THROUGH,
                payload={
                    "ticket_id": row.ticket_id,
                    "row_id": row.id,
                    "done_at": done_at.isoformat(),
                },
                key=f"{report_key_prefix(row.id)}went_through",
            )

    def _rate_limited(self, row: OutboxRow, note: RowNote, exc: RateLimitedError) -> None:
        paced = isinstance(exc, PacedError)
        wait = max(exc.retry_after, 0.0) if paced else max(exc.retry_after, 1.0)
        failed = replace(
            note,
            error=str(exc),
            rate_limited=note.rate_limited + 1,
            waited=note.waited + math.ceil(wait),
        )
        if timedelta(seconds=note.waited) >= self.rate_limit_patience:
            self._bury(row, failed)
            return
        until = self.clock() + timedelta(seconds=wait)
        if not paced and row.target in self.account_wide and exc.service in (None, row.target):
            if exc.scope == "account":
                self._pause(row.target, until)
            elif exc.scope == "endpoint":
                self._pause(row.target, until, action=row.action)
            # "subject": only writes to the one issue wait, which are this row and the rows of
            # its ticket behind it (per-ticket order holds those already).
        self._give_back(row, next_at=until, note=failed)

    def _failed(self, row: OutboxRow, note: RowNote) -> datetime | None:
        """A counted failure: due again after the backoff, or dead; when it is due again."""
        if row.attempts >= self.max_attempts:
            self._bury(row, note)
            return None
        next_at = self.clock() + self.retry_delay(row.attempts)
        self._release(row, {"next_attempt_at": next_at, "last_error": note.text()})
        return next_at

    def _give_back(self, row: OutboxRow, *, next_at: datetime, note: RowNote | None) -> None:
        """Make a claimed row due again at ``next_at`` without counting the attempt."""
        values: dict[str, Any] = {"next_attempt_at": next_at, "attempts": OutboxRow.attempts - 1}
        if note is not None:
            values["last_error"] = note.text()
        self._release(row, values)

    def _release(self, row: OutboxRow, values: dict[str, Any]) -> bool:
        statement = (
            update(OutboxRow)
            .where(*self._held(row))
            .values(status="pending", lease_owner=None, lease_until=None, **values)
        )
        with write_turn(self.engine), Session(self.engine) as session, session.begin():
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def _held(self, row: OutboxRow) -> list[ColumnElement[bool]]:
        """The row is still this relay's claim (a lease lost meanwhile changes nothing)."""
        return [
            OutboxRow.id == row.id,
            OutboxRow.status == "claimed",
            OutboxRow.lease_owner == self.owner,
        ]

    def _bury(self, row: OutboxRow, note: RowNote) -> None:
        """Make the row a dead letter; on its ticket's timeline and reported, in one go."""
        error = note.text()
        log.error("outbox row %s (%s) is a dead letter: %s", row.id, row.action, error)
        statement = (
            update(OutboxRow)
            .where(*self._held(row))
            .values(status="dead", lease_owner=None, lease_until=None, last_error=error)
        )
        with writing(self.engine) as session:
            if not session.execute(statement).rowcount:  # type: ignore[attr-defined]
                return
            if row.ticket_id is None:
                return
            details = {
                "row_id": row.id,
                "action": row.action,
                "target": row.target,
                "attempts": row.attempts,
                "error": note.error,
            }
            event = record(
                session,
                row.ticket_id,
                actor="deskhand",
                kind=SYNC_FAILED,
                origin=Origin.DESKHAND,
                data=details,
            )
            session.flush()
            if row.action in UNREPORTED_ACTIONS:
                return
            enqueue(
                session,
                ticket_id=row.ticket_id,
                target="slack",
                action=REPORT_DEAD_LETTER,
                payload={"ticket_id": row.ticket_id, **details},
                key=f"{report_key_prefix(row.id)}{event.id}",
            )

    def pending(self) -> int:
        with Session(self.engine) as session:
            count = session.scalar(
                select(func.count()).where(OutboxRow.status.in_(("pending", "claimed")))
            )
        return int(count or 0)
