"""Pacing for Slack's Web API, so a storm stays inside Slack's budget instead of bouncing off
429s.

Slack rate-limits each Web API method per workspace by its tier (1+, 20+, 50+ and 100+ calls a
minute for tiers 1 to 4, bursts tolerated) and ``chat.postMessage`` per channel (about one
message a second, short bursts tolerated). https://api.slack.com/apis/rate-limits

A token bucket per method (``chat.postMessage``: per channel) hands out the calls. A call that
finds its bucket empty is not made and not slept on: :meth:`SlackPacer.take` tells it how long
until its turn and holds that turn for it (the token is spent now, so the next caller is told
to come back one interval later, not at the same moment), and the caller (the outbox relay or
the inbox worker, by the port's ``PacedError``) comes back then while other work goes on. A
turn is held for the same request, named by its arguments: a row that comes back asks for the
same thing. A turn nobody comes back for lapses after ``HELD_FOR`` seconds; its token stays
spent, which only makes the pace a little slower.

Each bucket holds ``MARGIN`` of a token less than Slack tolerates, for the jitter between
taking a token here and Slack counting the call. A 429 all the same (another process or a
call outside the port spent the budget) empties the bucket until Slack's ``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

TIER_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
METHOD_TIERS: dict[str, int] = {
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "reactions.get": 3,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "views.publish": 4,
}
"""The tiers of the methods Deskhand calls, from Slack's method reference."""
UNKNOWN_TIER = 2
"""A method missing from the table is paced as tier 2: slow, but never a 429 storm."""
POST = "chat.postMessage"
POSTS_PER_SECOND = 1.0
POST_BURST = 3.0
"""Slack tolerates short bursts of posts to a channel; three is what its limiter lets through
before pacing at one a second."""
MARGIN = 0.25
"""The part of a token each bucket keeps back, for the network's jitter."""
HELD_FOR = 30.0
"""Seconds a turn is held after it came for a caller that has not come back."""
EARLY = 0.05
"""How early a caller may come back for its turn (its clock and ours differ a little)."""

SPEED = 1.0
"""How many times Slack's published pace to go: 1 against Slack; a sandbox whose clock runs N
times fast (its limits too) is paced at N."""


@dataclass(frozen=True)
class Budget:
    per_second: float
    burst: float


def budget_of(method: str) -> Budget:
    """The budget of ``method`` (for ``chat.postMessage``: of one channel)."""
    if method == POST:
        return Budget(POSTS_PER_SECOND * SPEED, POST_BURST)
    per_minute = TIER_PER_MINUTE[METHOD_TIERS.get(method, UNKNOWN_TIER)]
    return Budget(per_minute / 60 * SPEED, per_minute)


@dataclass
class _Bucket:
    budget: Budget
    tokens: float
    updated: float
    turns: dict[Hashable, float] = field(default_factory=dict)
    """Held turns: request → when it may go. Their tokens are spent already (``tokens`` goes
    below zero by one for each)."""

    @property
    def capacity(self) -> float:
        return self.budget.burst - MARGIN

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.budget.per_second)
        self.updated = max(self.updated, now)
        lapsed = [request for request, at in self.turns.items() if at + HELD_FOR < now]
        for request in lapsed:
            del self.turns[request]

    def take(self, request: Hashable, now: float) -> float:
        self.refill(now)
        turn = self.turns.get(request)
        if turn is not None:
            if turn <= now + EARLY:
                del self.turns[request]
                return 0.0
            return turn - now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        wait = (1 - self.tokens) / self.budget.per_second
        self.tokens -= 1
        self.turns[request] = now + wait
        return wait

    def pause(self, seconds: float, now: float) -> None:
        """No call before ``seconds`` from now; then one. Held turns are void (their callers
        queue again when they come back), so their tokens are given back first."""
        self.refill(now)
        self.tokens += len(self.turns)
        self.turns.clear()
        self.tokens = min(self.tokens, 1 - seconds * self.budget.per_second)


class SlackPacer:
    """A bucket per method per workspace, and per channel for ``chat.postMessage``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def take(self, method: str, request: Hashable, *, channel: str | None = None) -> float:
        """0.0 when the call may be made now; else the seconds until ``request``'s turn,
        which is held for it: the same request asked for again then goes ahead."""
        now = self.clock()
        with self._lock:
            return self._bucket(method, channel, now).take(request, now)

    def pause(self, method: str, seconds: float, *, channel: str | None = None) -> None:
        """Slack answered 429 with Retry-After ``seconds``: hold the bucket back that long."""
        now = self.clock()
        with self._lock:
            self._bucket(method, channel, now).pause(seconds, now)

    def _bucket(self, method: str, channel: str | None, now: float) -> _Bucket:
        key = f"{method}:{channel}" if method == POST and channel else method
        bucket = self._buckets.get(key)
        if bucket is None:
            budget = budget_of(method)
            bucket = self._buckets[key] = _Bucket(budget, budget.burst - MARGIN, now)
        return bucket
