"""Background loops for the inbox worker and the outbox relay.

A loop runs its step until there is nothing to do, then sleeps until woken (new work was
stored) or until its poll interval passes (work that became due, such as a retry). A step
that fails does not stop its loop: the failure is logged (:mod:`deskhand.step_failures`: an
outage of the other side in a few lines, a bug with its traceback) and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from deskhand.step_failures import REPORT_EVERY, StepFailures

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
        clock: Callable[[], float] = time.monotonic,
        report_every: float = REPORT_EVERY,
    ) -> None:
        """``step`` does what work there is and says how much. ``interval``: the longest
        sleep when there was none. ``gather``: after a step that did less than a full
        ``batch`` (or any step, without one), this long a pause before the next, so that
        work arriving as a stream (events in a burst) is taken in batches rather than one
        item at a time; each batch costs about what one item does. 0: no pause.
        ``clock`` (monotonic seconds) and ``report_every`` pace the lines that report an
        outage (:class:`~deskhand.step_failures.StepFailures`)."""
        self.name = name
        self.step = step
        self.interval = interval
        self.gather = gather
        self.batch = batch
        self.failures = StepFailures(name, log, clock=clock, report_every=report_every)
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

    def turn(self) -> int:
        """Run the step once: how much it did, 0 when it failed (which is logged)."""
        try:
            done = self.step()
        except Exception as error:  # a broken step must not kill the loop
            self.failures.failed(error)
            return 0
        self.failures.succeeded()
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            done = self.turn()
            if done == 0:
                self.wake.wait(self.interval)
                self.wake.clear()
            if self.gather and (self.batch is None or done < self.batch):
                self._stop.wait(self.gather)
