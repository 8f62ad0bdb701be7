"""Sandbox time: real by default, faster for tests.

``Clock(speed=100)`` makes sandbox seconds pass a hundred times faster than real ones, so a
one-message-per-second rule or a 3-second trigger expiry can be exercised in milliseconds,
while benchmarks keep ``speed=1`` and see Slack's and Jira's real pace.
"""

from __future__ import annotations

import math
import time


class Clock:
    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin_real = time.monotonic()
        self._origin_wall = time.time()

    def monotonic(self) -> float:
        """Sandbox seconds since an arbitrary origin, for limits and expiries."""
        return (time.monotonic() - self._origin_real) * self.speed

    def wall(self) -> float:
        """Sandbox Unix time: starts at the real time and runs at ``speed``."""
        return self._origin_wall + self.monotonic()

    def real_seconds(self, sandbox_seconds: float) -> float:
        return sandbox_seconds / self.speed

    def retry_after_header(self, sandbox_seconds: float) -> str:
        """A Retry-After value a client can honour: whole real seconds, at least 1."""
        return str(max(1, math.ceil(self.real_seconds(sandbox_seconds))))

    def sleep(self, sandbox_seconds: float) -> None:
        time.sleep(self.real_seconds(sandbox_seconds))
