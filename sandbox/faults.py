"""Faults the fakes inject on request, per Slack method or Jira endpoint.

A test arms a fault for a key (a Slack method such as ``chat.postMessage``, or a Jira route such
as ``POST /issue``; ``*`` matches every request) and the next matching requests fail the way
the real service fails. A Slack method can be narrowed to one channel, as
``chat.postMessage:C0123`` (Slack paces posting per channel). ``times=None`` keeps the fault
until :meth:`FaultPlan.clear`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"
    """HTTP 429 with Retry-After."""
    SERVER_ERROR = "server_error"
    """HTTP 5xx (``status``)."""
    TIMEOUT = "timeout"
    """Hang for ``delay`` real seconds, then answer 504: the client should have given up."""
    RESET = "reset"
    """Close the connection with a TCP reset before answering."""
    SUCCEED_THEN_TIMEOUT = "succeed_then_timeout"
    """Carry out the request, then hang for ``delay`` seconds before answering."""


@dataclass
class Fault:
    kind: FaultKind
    times: int | None = 1
    retry_after: float = 1.0
    """Sandbox seconds a rate-limited client must wait."""
    status: int = 503
    delay: float = 5.0
    """Real seconds a timeout hangs."""
    reason: str | None = None
    """Jira Cloud's RateLimit-Reason, e.g. 'jira-burst-based' or 'jira-per-issue-on-write'."""


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, list[Fault]] = {}

    def add(self, key: str, fault: Fault) -> None:
        with self._lock:
            self._faults.setdefault(key, []).append(fault)

    def clear(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._faults.clear()
            else:
                self._faults.pop(key, None)

    def take(self, key: str, *broader: str) -> Fault | None:
        """The fault armed for ``key``, else for the first of ``broader`` keys, else for ``*``,
        counting one use of it."""
        with self._lock:
            for candidate in (key, *broader, "*"):
                queue = self._faults.get(candidate)
                if not queue:
                    continue
                fault = queue[0]
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.pop(0)
                return fault
        return None


def reset_connection(environ: dict[str, Any]) -> NoReturn:
    """Abort the client's connection with a TCP RST, writing no response.

    werkzeug still holds the socket through its reader, so closing it would not reach the wire
    yet: shut it down now (the zero linger turns the final close into an RST) and raise, so
    werkzeug drops the connection. The Flask app must propagate exceptions for that.
    """
    sock: socket.socket | None = environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("the server does not expose its socket; cannot reset the connection")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("sandbox fault: connection reset")
