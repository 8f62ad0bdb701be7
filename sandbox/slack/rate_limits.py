"""Slack's rate limits: a token bucket per method tier and one per channel for posting.

Tiers (requests per minute, per method per workspace): 1 → 1+, 2 → 20+, 3 → 50+, 4 → 100+;
``chat.postMessage`` is "special": about one message per second per channel, with short bursts
allowed. https://api.slack.com/apis/rate-limits
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sandbox.clock import Clock

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

METHOD_TIERS: dict[str, int] = {
    "api.test": 4,
    "auth.test": 4,
    "apps.connections.open": 1,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "reactions.add": 3,
    "reactions.get": 3,
    "reactions.remove": 2,
    "team.info": 3,
    "usergroups.users.list": 2,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}

SPECIAL_PER_MINUTE = {"chat.postMessage": 600}
"""Special limits: posting is paced per channel, with a workspace ceiling of several hundred."""

POSTS_PER_SECOND_PER_CHANNEL = 1.0
POST_BURST = 3.0


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 if a token was taken, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    def __init__(self, clock: Clock, *, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def check(self, method: str, channel: str | None = None) -> float:
        """0 when the call may go ahead, else the sandbox seconds to wait (Retry-After)."""
        if not self.enabled:
            return 0.0
        now = self.clock.monotonic()
        with self._lock:
            if method == "chat.postMessage" and channel:
                wait = self._bucket(
                    f"post:{channel}", POST_BURST, POSTS_PER_SECOND_PER_CHANNEL, now
                ).take(now)
                if wait:
                    return wait
            per_minute = SPECIAL_PER_MINUTE.get(method) or TIER_PER_MINUTE[METHOD_TIERS[method]]
            return self._bucket(method, per_minute, per_minute / 60, now).take(now)

    def _bucket(self, key: str, capacity: float, per_second: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, per_second, capacity, now)
        return bucket
