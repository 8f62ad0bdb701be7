"""``WebhookSender``: the fake Jira's webhooks, POSTed to a URL the way Jira delivers them.

Registered with ``fake.subscribe``, it turns every change into the webhook bodies Jira sends
(see ``webhook_payloads``) and delivers them from a background thread:

* headers ``X-Atlassian-Webhook-Identifier`` (one per delivery, the same on every retry or
  duplicate of it), ``X-Atlassian-Webhook-Retry: N`` on the N-th retry,
  ``X-Atlassian-Webhook-Flow: Primary``, ``Content-Type: application/json`` and, with a secret,
  ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` as admin webhooks sign them;
* retries like Jira Cloud's on 408, 409, 425, 429, 5xx, timeouts and connection failures,
  after growing delays (``retry_delays``, sandbox seconds scaled by the fake's clock), the same
  body each time;
* test hooks armed on request: :meth:`duplicate`, :meth:`hold`/:meth:`release` (reorder),
  :meth:`delay` and :meth:`drop`.

Every attempt is kept in :attr:`attempts`; :meth:`wait_idle` waits on a condition variable
until nothing is queued or in flight. Deliveries run one at a time in due order (a slow
receiver holds up the ones behind it, unlike Jira's parallel senders).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import random
import threading
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import requests

from sandbox.jira.fake import JiraFake
from sandbox.jira.model import Issue
from sandbox.jira.webhook_payloads import WEBHOOK_EVENTS, PayloadBuilder, Webhook

RETRY_STATUSES = frozenset({408, 409, 425, 429})
DEFAULT_RETRY_DELAYS = (60.0, 120.0, 300.0, 600.0, 900.0)
"""Sandbox seconds before each retry: five retries within about half an hour, as in Jira."""


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature`` value Jira sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def should_retry(status: int | None) -> bool:
    """Jira retries on these answers; ``None`` is a timeout or a failed connection."""
    return status is None or status in RETRY_STATUSES or status >= 500


@dataclass(frozen=True)
class Delivery:
    identifier: str
    webhook: Webhook
    body: bytes


@dataclass(frozen=True)
class Attempt:
    identifier: str
    event: str
    type_name: str | None
    retry: int
    """0 for the first try, N for the N-th retry."""
    status: int | None
    """The receiver's status; None when it timed out, failed to connect or was dropped."""
    error: str | None = None
    duplicate: bool = False
    dropped: bool = False


@dataclass
class _Queued:
    delivery: Delivery
    retry: int
    duplicate: bool = False


class WebhookSender:
    def __init__(
        self,
        fake: JiraFake,
        url: str,
        secret: str | None,
        *,
        server_format: bool = False,
        events: Collection[str] = WEBHOOK_EVENTS,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        timeout: float = 10.0,
    ) -> None:
        """``events``: the ``webhookEvent`` names this webhook is registered for;
        ``timeout``: real seconds Jira waits for the receiver's answer."""
        if server_format and fake.flavour != "server":
            raise ValueError("server_format is the old Jira Server format: use a server fake")
        unknown = set(events) - set(WEBHOOK_EVENTS)
        if unknown:
            raise ValueError(f"unknown webhook events: {sorted(unknown)}")
        self.fake = fake
        self.url = url
        self.secret = secret
        self.server_format = server_format
        self.events = frozenset(events)
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.clock = fake.clock
        self.attempts: list[Attempt] = []
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, _Queued]] = []
        self._order = itertools.count()
        self._in_flight = 0
        self._held: list[Delivery] | None = None
        self._duplicates = 0
        self._drops = 0
        self._delays: list[float] = []
        self._closed = False
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._work, name="jira-webhooks", daemon=True)
        self._thread.start()
        fake.subscribe(self._on_change)

    # -- test hooks ---------------------------------------------------------------------------

    def duplicate(self, times: int = 1) -> None:
        """Send each of the next ``times`` deliveries twice, with the same identifier."""
        with self._cond:
            self._duplicates += times

    def drop(self, times: int = 1) -> None:
        """Lose the next ``times`` deliveries: never sent, never retried."""
        with self._cond:
            self._drops += times

    def delay(self, seconds: float, times: int = 1) -> None:
        """Hold each of the next ``times`` deliveries back by ``seconds`` sandbox seconds."""
        with self._cond:
            self._delays.extend([seconds] * times)

    def hold(self) -> None:
        """Keep new deliveries back until :meth:`release`."""
        with self._cond:
            if self._held is None:
                self._held = []

    def release(
        self, order: Literal["reverse", "shuffle", "fifo"] = "reverse", seed: int = 0
    ) -> int:
        """Send the held deliveries in ``order``; returns how many there were."""
        with self._cond:
            held, self._held = self._held or [], None
            if order == "reverse":
                held.reverse()
            elif order == "shuffle":
                random.Random(seed).shuffle(held)  # noqa: S311 - test ordering, not security
            for delivery in held:
                self._enqueue(_Queued(delivery, 0), 0.0)
            return len(held)

    # -- state --------------------------------------------------------------------------------

    @property
    def held(self) -> int:
        with self._cond:
            return len(self._held or [])

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent (held deliveries do not count)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._queue and self._in_flight == 0, timeout=timeout
            )

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- producing ----------------------------------------------------------------------------

    def _host(self) -> str:
        try:
            return self.fake.url
        except RuntimeError:
            return "http://jira.invalid"

    def _on_change(self, change: str, issue: Issue, extra: Mapping[str, Any]) -> None:
        builder = PayloadBuilder(self.fake.state, self._host(), server_format=self.server_format)
        for webhook in builder.build(change, issue, extra):
            if webhook.event not in self.events:
                continue
            body = json.dumps(webhook.body).encode()
            delivery = Delivery(str(uuid.uuid4()), webhook, body)
            with self._cond:
                if self._closed:
                    return
                if self._held is not None:
                    self._held.append(delivery)
                else:
                    self._enqueue(_Queued(delivery, 0), 0.0)

    def _enqueue(self, item: _Queued, wait: float) -> None:
        """Queue a new delivery (caller holds the lock), applying the armed delay/duplicate."""
        if self._delays:
            wait += self._delays.pop(0)
        self._push(item, wait)
        if self._duplicates > 0:
            self._duplicates -= 1
            self._push(_Queued(item.delivery, 0, duplicate=True), wait)

    def _push(self, item: _Queued, wait: float) -> None:
        heapq.heappush(self._queue, (self.clock.monotonic() + wait, next(self._order), item))
        self._cond.notify_all()

    # -- delivering ---------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                item = self._next_due()
                if item is None:
                    return
                self._in_flight += 1
            try:
                self._attempt(item)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _next_due(self) -> _Queued | None:
        """Wait (lock held) for the earliest due delivery; None once closed."""
        while not self._closed:
            if not self._queue:
                self._cond.wait()
                continue
            due = self._queue[0][0]
            now = self.clock.monotonic()
            if due <= now:
                return heapq.heappop(self._queue)[2]
            self._cond.wait(timeout=self.clock.real_seconds(due - now))
        return None

    def _attempt(self, item: _Queued) -> None:
        delivery = item.delivery
        webhook = delivery.webhook
        with self._cond:
            dropped = item.retry == 0 and not item.duplicate and self._drops > 0
            if dropped:
                self._drops -= 1
        if dropped:
            self._record(
                Attempt(
                    delivery.identifier, webhook.event, webhook.type_name, 0, None, dropped=True
                )
            )
            return
        status, error = self._post(delivery, item.retry)
        self._record(
            Attempt(
                delivery.identifier,
                webhook.event,
                webhook.type_name,
                item.retry,
                status,
                error,
                duplicate=item.duplicate,
            )
        )
        if should_retry(status) and item.retry < len(self.retry_delays):
            with self._cond:
                if not self._closed:
                    wait = self.retry_delays[item.retry]
                    self._push(_Queued(delivery, item.retry + 1, item.duplicate), wait)

    def _post(self, delivery: Delivery, retry: int) -> tuple[int | None, str | None]:
        headers = {
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": delivery.identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        if retry:
            headers["X-Atlassian-Webhook-Retry"] = str(retry)
        if self.secret:
            headers["X-Hub-Signature"] = sign(delivery.body, self.secret)
        try:
            response = self._session.post(
                self.url, data=delivery.body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    def _record(self, attempt: Attempt) -> None:
        with self._cond:
            self.attempts.append(attempt)
            self._cond.notify_all()
