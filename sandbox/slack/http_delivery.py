"""Deliveries over HTTP: the Events API, interactivity and slash commands, signed.

Events are retried when no 2xx arrives within 3 seconds, with ``X-Slack-Retry-Num`` and
``X-Slack-Retry-Reason``, up to three times (about immediately, after 1 and after 5 minutes;
the waits scaled by the sandbox clock; the 3-second ack window is real time, since the app
under test must meet it). Interactions and commands are sent once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from sandbox.clock import Clock
from sandbox.slack.delivery import ACK_TIMEOUT, RETRY_DELAYS, Attempt, InFlight, Reply
from sandbox.slack.envelopes import form_body, interaction_body
from sandbox.slack.signing import Signing, signed_headers


class HttpDelivery:
    def __init__(
        self,
        url: str,
        signing_secret: str,
        clock: Clock,
        *,
        signing: Signing = Signing.VALID,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        ack_timeout: float = ACK_TIMEOUT,
        workers: int = 16,
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.clock = clock
        self.signing = signing
        self.retry_delays = retry_delays
        self.ack_timeout = ack_timeout
        self.attempts: list[Attempt] = []
        self.lose_first_attempts = 0
        """A test hook: the next N events lose their first attempt (only retries arrive)."""
        self._lock = threading.Lock()
        self._recorded = threading.Condition(self._lock)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-events")
        self._in_flight = InFlight()
        self._session = requests.Session()
        self._closed = threading.Event()

    def deliver_event(self, envelope: dict[str, Any]) -> None:
        self._in_flight.begin()
        self._pool.submit(self._deliver_with_retries, envelope)

    def _deliver_with_retries(self, envelope: dict[str, Any]) -> None:
        try:
            body = json.dumps(envelope).encode()
            event_id = str(envelope["event_id"])
            reason = ""
            with self._lock:
                lose = self.lose_first_attempts > 0
                self.lose_first_attempts -= int(lose)
            for retry_num in range(len(self.retry_delays) + 1):
                if retry_num and self._closed.wait(
                    self.clock.real_seconds(self.retry_delays[retry_num - 1])
                ):
                    return  # closed while waiting to retry: no process waits minutes to exit
                if retry_num == 0 and lose:
                    self._record(Attempt(event_id, 0, "dropped"))
                    reason = "http_timeout"
                    continue
                headers = {"Content-Type": "application/json"}
                if retry_num:
                    headers["X-Slack-Retry-Num"] = str(retry_num)
                    headers["X-Slack-Retry-Reason"] = reason
                attempt = self._post(event_id, retry_num, body, headers)
                if attempt.outcome == "acked":
                    return
                reason = attempt.outcome
        finally:
            self._in_flight.end()

    def _post(self, key: str, retry_num: int, body: bytes, headers: dict[str, str]) -> Attempt:
        signed, sent = signed_headers(self.signing_secret, body, self.clock.wall(), self.signing)
        started = time.monotonic()
        try:
            response = self._session.post(
                self.url,
                data=sent,
                headers={**headers, **signed},
                timeout=self.ack_timeout,
            )
        except requests.Timeout:
            attempt = Attempt(key, retry_num, "http_timeout", None, time.monotonic() - started)
        except requests.ConnectionError:
            attempt = Attempt(key, retry_num, "connection_failed", None, time.monotonic() - started)
        else:
            outcome = "acked" if 200 <= response.status_code < 300 else "http_error"
            attempt = Attempt(
                key, retry_num, outcome, response.status_code, time.monotonic() - started
            )
        self._record(attempt)
        return attempt

    def deliver_interaction(self, kind: str, payload: dict[str, Any]) -> Reply:
        body = form_body(payload) if kind == "slash_commands" else interaction_body(payload)
        signed, sent = signed_headers(self.signing_secret, body, self.clock.wall(), self.signing)
        started = time.monotonic()
        response = self._session.post(
            self.url,
            data=sent,
            headers={"Content-Type": "application/x-www-form-urlencoded", **signed},
            timeout=self.ack_timeout,
        )
        elapsed = time.monotonic() - started
        key = f"{kind}:{payload.get('trigger_id', '')}"
        outcome = "acked" if response.ok else "http_error"
        self._record(Attempt(key, 0, outcome, response.status_code, elapsed))
        try:
            answer: Any = response.json() if response.content else None
        except ValueError:
            answer = response.text
        return Reply(response.status_code, answer, elapsed)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self._in_flight.wait_idle(timeout)

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    def _record(self, attempt: Attempt) -> None:
        with self._recorded:
            self.attempts.append(attempt)
            self._recorded.notify_all()

    def wait_for_attempt(
        self, matches: Callable[[Attempt], bool], timeout: float = 10.0
    ) -> Attempt | None:
        """The first attempt that ``matches``, waiting for it up to ``timeout`` seconds."""
        with self._recorded:
            self._recorded.wait_for(lambda: any(matches(a) for a in self.attempts), timeout)
            return next((a for a in self.attempts if matches(a)), None)
