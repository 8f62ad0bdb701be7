"""Waiting in tests for what no hook announces, with deadlines a loaded machine still meets.

A deadline here is how long a test may hang before it reports a failure, never a speed the
code must reach: a condition that holds returns at once, however slow the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEADLINE = 60.0
"""Seconds to wait for something that normally takes well under one."""


def eventually(condition: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False): for what
    no hook tells the test about, such as a call the sandbox recorded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
