"""Sandbox time: real by default, faster for tests.

``Clock(speed=100)`` makes the sandbox's waits pass a hundred times faster than real ones, so
a one-message-per-second rule or Slack's retries after 1 and 5 minutes can be exercised in
milliseconds, while benchmarks keep ``speed=1`` and see Slack's and Jira's real pace.
Timestamps (message ts, signatures, Jira dates) stay on real wall time: the app under test
checks them against its own clock.
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

    def monotonic(self) -> float:
        """Sandbox seconds since an arbitrary origin, for limits and expiries."""
        return (time.monotonic() - self._origin_real) * self.speed

    def wall(self) -> float:
        """Unix time, unscaled: timestamps must agree with the app's clock."""
        return time.time()

    def real_seconds(self, sandbox_seconds: float) -> float:
        return sandbox_seconds / self.speed

    def retry_after_header(self, sandbox_seconds: float) -> str:
        """A Retry-After value a client can honour: whole real seconds, at least 1."""
        return str(max(1, math.ceil(self.real_seconds(sandbox_seconds))))

    def sleep(self, sandbox_seconds: float) -> None:
        time.sleep(self.real_seconds(sandbox_seconds))
