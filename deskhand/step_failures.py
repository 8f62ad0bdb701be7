"""How a background loop reports its failed steps: an outage in a few lines, a bug in full.

A step fails in one of three ways.

- The other side is down, slow or asks us to wait: the ports' errors (:mod:`deskhand.ports`),
  which the Slack and Jira adapters raise for exactly that. It is expected, the loop tries
  again by itself, and an admin needs to see that it is happening and when it stops, not a
  traceback every poll. So the first failure is one WARNING line with the loop's name and the
  short cause; while the failures go on, one line every ``report_every`` seconds says for how
  long and how often; the first step that succeeds again says the loop recovered. A refusal
  (``RejectedError``: a revoked token, a project that is gone) is reported the same way but at
  ERROR: retrying will not fix it, someone has to.
- The database is unreachable, down or busy: the same, as it comes back by itself.
- Anything else is a bug and needs a developer: its full traceback is logged at ERROR, every
  time.

The short cause is the error's own message, on one line and cut short, never the exceptions
chained under it: the ``jira`` client's, for one, prints the response's headers and body.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from deskhand.ports import PortError, RejectedError

REPORT_EVERY = 300.0
"""Seconds between two "still failing" lines of one outage."""
CAUSE_LIMIT = 240
"""The longest short cause, in characters."""

_MARKUP = re.compile(r"<[^<>]*>")


def short_cause(error: BaseException) -> str:
    """``error``'s message as one short line for a log: its first line, markup dropped (an
    HTML error page in it leaves its words), at most ``CAUSE_LIMIT`` characters. A long one
    keeps its start and its end, where a connection error names what went wrong."""
    lines = str(error).strip().splitlines()
    text = " ".join(_MARKUP.sub(" ", lines[0]).split()) if lines else ""
    if not text:
        return type(error).__name__
    if len(text) <= CAUSE_LIMIT:
        return text
    tail = CAUSE_LIMIT // 3
    return f"{text[: CAUSE_LIMIT - tail - 3].rstrip()} … {text[-tail:].lstrip()}"


SQLITE_UNAVAILABLE = frozenset(
    {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL"}
)
"""SQLite's result codes for a database that cannot be used just now (busy, locked, its file
or disk gone), as against a wrong statement or schema ("no such table" is SQLITE_ERROR)."""
POSTGRES_UNAVAILABLE_CLASSES = ("08", "57", "53")
"""SQLSTATE classes of a server that cannot serve: connection exception, operator intervention
(shutting down, terminating connections), insufficient resources."""


def is_expected(error: BaseException) -> bool:
    """A failure of the other side rather than a bug of ours: what a port reports, and a
    database that cannot be reached or used just now (ACCEPTANCE 16: it comes back, and the
    loops carry on by themselves)."""
    return isinstance(error, PortError) or database_unavailable(error)


def database_unavailable(error: BaseException) -> bool:
    """``error`` says the database is down, unreachable or busy, not that a statement is wrong.

    A refused connection carries no SQLSTATE (the driver raised it before any server spoke);
    a server going away mid-session has one of :data:`POSTGRES_UNAVAILABLE_CLASSES`, or makes
    SQLAlchemy invalidate the connection.
    """
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    driver = error.orig
    sqlite_name = getattr(driver, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name in SQLITE_UNAVAILABLE
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(driver, "sqlstate", "")
    return sqlstate is None or str(sqlstate).startswith(POSTGRES_UNAVAILABLE_CLASSES)


def duration(seconds: float) -> str:
    """``seconds`` as a person says it: "under a second", "45 s", "3 min", "2 h 5 min"."""
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds / 60 + 0.5)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _times(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@dataclass
class _Outage:
    since: float
    """When its first failed step ended."""
    failed: int = 0
    """Its failed steps so far, bugs included."""
    reported_at: float | None = None
    """When it was last reported in one line; None before its first expected failure."""


class StepFailures:
    """What one loop's failed and succeeded steps say in ``log``.

    ``clock``: monotonic seconds (tests pass their own). Only the loop's own thread calls it.
    """

    def __init__(
        self,
        name: str,
        log: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        report_every: float = REPORT_EVERY,
    ) -> None:
        self.name = name
        self.log = log
        self.clock = clock
        self.report_every = report_every
        self._outage: _Outage | None = None

    @property
    def failing(self) -> bool:
        """The last step failed."""
        return self._outage is not None

    def failed(self, error: Exception) -> None:
        """A step raised ``error``; the loop goes on."""
        now = self.clock()
        outage = self._outage
        if outage is None:
            outage = self._outage = _Outage(since=now)
        outage.failed += 1
        if not is_expected(error):
            self.log.error("%s: step failed", self.name, exc_info=error)
            return
        level = logging.ERROR if isinstance(error, RejectedError) else logging.WARNING
        if outage.reported_at is None:
            self.log.log(level, "%s: step failed, will retry: %s", self.name, short_cause(error))
        elif now - outage.reported_at >= self.report_every:
            self.log.log(
                level,
                "%s: still failing (%s in %s): %s",
                self.name,
                _times(outage.failed, "time", "times"),
                duration(now - outage.since),
                short_cause(error),
            )
        else:
            return
        outage.reported_at = now

    def succeeded(self) -> None:
        """A step went through: if the ones before it failed, the loop has recovered."""
        outage, self._outage = self._outage, None
        if outage is None:
            return
        self.log.info(
            "%s: recovered after %s, %s",
            self.name,
            duration(self.clock() - outage.since),
            _times(outage.failed, "failed step", "failed steps"),
        )
