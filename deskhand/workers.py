"""Background loops for the inbox worker and the outbox relay.

A loop runs its step until there is nothing to do, then sleeps until woken (new work was
stored) or until its poll interval passes (work that became due, such as a retry).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Loop:
    def __init__(
        self,
        name: str,
        step: Callable[[], int],
        *,
        interval: float = 0.5,
        gather: float = 0.0,
        batch: int | None = None,
    ) -> None:
        """``step`` does what work there is and says how much. ``interval``: the longest
        sleep when there was none. ``gather``: after a step that did less than a full
        ``batch`` (or any step, without one), this long a pause before the next, so that
        work arriving as a stream (events in a burst) is taken in batches rather than one
        item at a time; each batch costs about what one item does. 0: no pause."""
        self.name = name
        self.step = step
        self.interval = interval
        self.gather = gather
        self.batch = batch
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.step()
            except Exception:  # a broken step must not kill the loop; it is logged
                log.exception("%s: step failed", self.name)
                done = 0
            if done == 0:
                self.wake.wait(self.interval)
                self.wake.clear()
            if self.gather and (self.batch is None or done < self.batch):
                self._stop.wait(self.gather)
