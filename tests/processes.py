"""Reading a subprocess's output line by line with deadlines, for tests that drive commands
which keep running (``deskhand sandbox``, ``deskhand run``)."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable

from tests.waiting import DEADLINE


class OutputLines:
    """Every line ``process`` writes to its stdout, read by a background thread, so a test can
    wait for a line without hanging on a process that never writes it."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stream = process.stdout
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = DEADLINE) -> str:
        """The first line from now on for which ``wanted`` holds; AssertionError, with what
        was seen, if the output ends or ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)  # later waits see the end too
                break
            self.seen.append(line)
            if wanted(line):
                return line
        raise AssertionError("no such line; the output was:\n" + "\n".join(self.seen))

    def until_end(self, timeout: float = DEADLINE) -> list[str]:
        """Every line from now on to the end of the output (the process has exited or is
        about to); AssertionError if it has not ended within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)
                return lines
            self.seen.append(line)
            lines.append(line)
        raise AssertionError("the output did not end; it was:\n" + "\n".join(self.seen))
