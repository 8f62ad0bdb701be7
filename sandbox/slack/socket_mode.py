"""Socket Mode: the app opens a WebSocket (URL from ``apps.connections.open``) and Slack sends
envelopes over it, each to be acknowledged with its ``envelope_id`` within 3 seconds.

https://api.slack.com/apis/socket-mode. On request the server asks clients to refresh
(``{"type": "disconnect", "reason": "refresh_requested"}``) or drops connections outright.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from sandbox.clock import Clock
from sandbox.slack.delivery import ACK_TIMEOUT, RETRY_DELAYS, Attempt, InFlight, Reply
from sandbox.slack.state import Workspace


class SocketModeServer:
    def __init__(
        self,
        workspace: Workspace,
        clock: Clock,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        ack_timeout: float = ACK_TIMEOUT,
        connect_wait: float = 10.0,
    ) -> None:
        self.workspace = workspace
        self.clock = clock
        self.retry_delays = retry_delays
        self.ack_timeout = ack_timeout
        self.connect_wait = connect_wait
        """Real seconds an envelope waits for a connection before the attempt fails."""
        self.attempts: list[Attempt] = []
        self.tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._draining: set[ServerConnection] = set()
        """Connections asked to refresh: Slack sends them nothing new while the app reconnects."""
        self._round_robin = itertools.count()
        self._pending: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
        self._connected = threading.Condition(self._lock)
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="socket-mode")
        self._closed = threading.Event()
        self._in_flight = InFlight()
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.socket.getsockname()[1])

    def start(self) -> SocketModeServer:
        self._thread.start()
        self.workspace.socket_mode_url = self.new_url
        return self

    def new_url(self) -> str:
        """A one-time connection URL, as apps.connections.open hands out."""
        ticket = str(uuid.uuid4())
        with self._lock:
            self.tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.workspace.app_id}"

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def wait_for_connection(self, timeout: float = 10.0) -> bool:
        with self._connected:
            return bool(self._connected.wait_for(self._live_connections, timeout=timeout))

    # connections ----------------------------------------------------------------------------

    def _handle(self, connection: ServerConnection) -> None:
        ticket = (connection.request.path if connection.request else "").partition("ticket=")[2]
        ticket = ticket.partition("&")[0]
        with self._lock:
            known = ticket in self.tickets
            self.tickets.discard(ticket)
        if not known:
            connection.close(code=1008, reason="invalid ticket")
            return
        hello = {
            "type": "hello",
            "num_connections": self.connection_count + 1,
            "debug_info": {"host": "sandbox", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.workspace.app_id},
        }
        try:
            # Hello and registration happen under the lock: no envelope can overtake the hello,
            # and whoever has seen the hello finds the connection registered (drop, refresh).
            with self._connected:
                connection.send(json.dumps(hello))
                self._connections.append(connection)
                self._connected.notify_all()
            for raw in connection:
                self._on_message(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if connection in self._connections:
                    self._connections.remove(connection)
                self._draining.discard(connection)

    def _on_message(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._lock:
            future = self._pending.pop(str(envelope_id), None)
        if future is not None and not future.done():
            future.set_result(message.get("payload"))

    def refresh(self) -> None:
        """Ask every client to reconnect, as Slack does every few hours."""
        message = json.dumps(
            {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "sandbox"}}
        )
        connections = self._snapshot()
        with self._lock:
            self._draining.update(connections)
        for connection in connections:
            try:
                connection.send(message)
            except ConnectionClosed:
                continue

    def drop(self) -> None:
        """Cut every connection without a close handshake (a network failure)."""
        for connection in self._snapshot():
            try:
                connection.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue

    def _live_connections(self) -> list[ServerConnection]:
        return [c for c in self._connections if c not in self._draining]

    def _snapshot(self) -> list[ServerConnection]:
        with self._lock:
            return list(self._connections)

    # deliveries -----------------------------------------------------------------------------

    def _send(
        self, kind: str, payload: dict[str, Any], retry: int, reason: str, accepts_response: bool
    ) -> tuple[str, Any]:
        """Send one envelope and wait for its ack: (outcome, ack payload)."""
        with self._connected:
            if not self._connected.wait_for(self._live_connections, self.connect_wait):
                return "no_connection", None
            live = self._live_connections()
            connection = live[next(self._round_robin) % len(live)]
            envelope_id = str(uuid.uuid4())
            future: Future[Any] = Future()
            self._pending[envelope_id] = future
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response,
            "retry_attempt": retry,
            "retry_reason": reason,
        }
        try:
            connection.send(json.dumps(envelope))
            return "acked", future.result(timeout=self.ack_timeout)
        except ConnectionClosed:
            return "connection_failed", None
        except FutureTimeout:
            return "timeout", None
        finally:
            with self._lock:
                self._pending.pop(envelope_id, None)

    def deliver_event(self, envelope: dict[str, Any]) -> None:
        self._in_flight.begin()
        self._pool.submit(self._deliver_with_retries, envelope)

    def _deliver_with_retries(self, envelope: dict[str, Any]) -> None:
        try:
            key = str(envelope["event_id"])
            reason = ""
            for retry in range(len(self.retry_delays) + 1):
                if retry and self._closed.wait(
                    self.clock.real_seconds(self.retry_delays[retry - 1])
                ):
                    return  # closed while waiting to retry: no process waits minutes to exit
                started = time.monotonic()
                outcome, _ = self._send("events_api", envelope, retry, reason, False)
                self._record(Attempt(key, retry, outcome, None, time.monotonic() - started))
                if outcome == "acked":
                    return
                reason = outcome
        finally:
            self._in_flight.end()

    def deliver_interaction(self, kind: str, payload: dict[str, Any]) -> Reply:
        started = time.monotonic()
        outcome, answer = self._send(kind, payload, 0, "", True)
        elapsed = time.monotonic() - started
        self._record(Attempt(f"{kind}:{payload.get('trigger_id', '')}", 0, outcome, None, elapsed))
        return Reply(200 if outcome == "acked" else 0, answer, elapsed)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self._in_flight.wait_idle(timeout)

    def _record(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    def close(self) -> None:
        self.workspace.socket_mode_url = None
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for connection in self._snapshot():
            connection.close()
        self._server.shutdown()
        self._thread.join(timeout=5)
