"""A sandbox clock that stands still until the test moves it."""

from __future__ import annotations

from sandbox.clock import Clock


class SteppedClock(Clock):
    """The sandbox's limits, expiries and delays measured on time the test moves, so how fast
    the machine runs the calls in between decides nothing. ``speed`` still scales the
    ``Retry-After`` headers and the real seconds a background sender waits between looks.
    Wall time (timestamps) stays real."""

    def __init__(self, speed: float = 1.0) -> None:
        super().__init__(speed)
        self.real = 0.0
        """Real seconds the test has let pass."""

    def monotonic(self) -> float:
        return self.real * self.speed

    def advance(self, sandbox_seconds: float) -> None:
        self.real += self.real_seconds(sandbox_seconds)
