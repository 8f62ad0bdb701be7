"""Jira Cloud's rate limits for the fake, opt in: a burst bucket per endpoint and one per issue.

Jira Cloud enforces, at the same time, a per-second request rate per endpoint and HTTP method
(``RateLimit-Reason: jira-burst-based``), a write limit per issue
(``jira-per-issue-on-write``) and an hourly points quota (not modelled: a benchmark's few
minutes stay far under it). Each answers 429 with ``Retry-After``. Atlassian does not publish
the numbers, so the defaults below are this model's, chosen in the range its guides use
("10 calls per second" for one app's budget); pass others to the constructor.

Off unless installed, so tests keep their behaviour::

    limits = JiraRateLimits(fake.clock).install(fake)

The fake takes every request's fault from ``fake.faults`` (``FaultPlan.take``); this plan is a
``FaultPlan`` whose ``take`` answers armed faults first, as before, and then the limits. It must
be installed before faults are armed: faults armed on the plan it replaces are not carried over.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import has_request_context, request

from sandbox.clock import Clock
from sandbox.faults import Fault, FaultKind, FaultPlan

if TYPE_CHECKING:
    from sandbox.jira.fake import JiraFake

BURST_REASON = "jira-burst-based"
PER_ISSUE_REASON = "jira-per-issue-on-write"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


@dataclass(frozen=True)
class Budget:
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float
    burst: float

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a budget needs per_second > 0 and burst >= 1")

    def seconds_for(self, requests: int) -> float:
        """The least time ``requests`` can take from a full bucket (the first ones at once)."""
        return max(0.0, (requests - self.burst) / self.per_second)


ENDPOINT_BUDGET = Budget(per_second=10.0, burst=20.0)
"""Requests per endpoint and method (e.g. every ``POST /issue``), for the whole site."""
ISSUE_WRITE_BUDGET = Budget(per_second=1.0, burst=10.0)
"""Writes to one issue (its fields, comments, links, transitions, assignee)."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class JiraRateLimits(FaultPlan):
    """The fake's fault plan with Jira Cloud's burst and per-issue write limits on top."""

    def __init__(
        self,
        clock: Clock,
        *,
        endpoint: Budget = ENDPOINT_BUDGET,
        issue_writes: Budget = ISSUE_WRITE_BUDGET,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.endpoint = endpoint
        self.issue_writes = issue_writes
        self.limited: dict[str, int] = {BURST_REASON: 0, PER_ISSUE_REASON: 0}
        """429s answered so far, by reason."""
        self._buckets: dict[str, _Bucket] = {}
        self._bucket_lock = threading.Lock()

    def install(self, fake: JiraFake) -> JiraRateLimits:
        """Make this the plan ``fake`` answers from (before any fault is armed on it)."""
        fake.faults = self
        return self

    def take(self, key: str, *broader: str) -> Fault | None:
        armed = super().take(key, *broader)
        if armed is not None:
            return armed
        method = key.split(" ", 1)[0]
        issue = _issue_key() if method in WRITE_METHODS else None
        now = self.clock.monotonic()
        with self._bucket_lock:
            wait = self._take(f"endpoint:{key}", self.endpoint, now)
            reason = BURST_REASON
            if not wait and issue is not None:
                wait = self._take(f"issue:{issue}", self.issue_writes, now)
                reason = PER_ISSUE_REASON
            if not wait:
                return None
            self.limited[reason] += 1
        return Fault(FaultKind.RATE_LIMIT, retry_after=wait, reason=reason)

    def _take(self, name: str, budget: Budget, now: float) -> float:
        """0 when a token was taken, else the sandbox seconds until one is available."""
        bucket = self._buckets.setdefault(name, _Bucket(budget.burst, now))
        bucket.tokens = min(
            budget.burst, bucket.tokens + (now - bucket.updated) * budget.per_second
        )
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / budget.per_second


def _issue_key() -> str | None:
    """The issue a request writes to, from its path (``/issue/{key}/…``), if any."""
    if not has_request_context() or not request.view_args:
        return None
    key = request.view_args.get("key")
    return str(key) if key else None
