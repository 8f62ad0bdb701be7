"""The Events API fast path: signed ``event_callback`` deliveries stored in the inbox and
acked without going through Flask's routing and Bolt's dispatch.

Over HTTP nearly every request is an event, and all Deskhand does with one before the ack is
store it; Bolt's request objects, middleware chain and listener runner cost several times
what the store does. This WSGI middleware sits in front of the Flask app and does what that
path does, with the same parts:

- the signature, by any configured secret, within Slack's 5-minute window (as
  :class:`bot.app.RotatingRequestVerification`); 401 otherwise;
- the bot's own events dropped as Bolt's ``IgnoringSelfEvents`` drops them, against the
  bot's identity from ``auth.test`` (asked once, as Bolt's single-team authorisation does);
- the deliveries made by :func:`bot.listeners.events.deliveries`, the function the Bolt
  listeners use, stored before the ack; 503 when the inbox is down.

Everything else (URL verification, interactions, slash commands, bodies it does not
understand, and events while the bot's identity is unknown) goes on to Flask and Bolt as
it came.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware.ignoring_self_events import IgnoringSelfEvents
from slack_bolt.request.internals import extract_user_id
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.listeners.events import deliveries, store_all
from deskhand.inbox import Inbox, InboxUnavailableError

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_UNAUTHORISED = (b'{"error": "invalid request"}', "application/json;charset=utf-8")
"""What Bolt's request verification answers with 401."""


class BotIdentity:
    """The bot's user id and bot id, from ``auth.test`` on first use, as Bolt's single-team
    authorisation learns them; None while Slack cannot say (the caller falls back to Bolt,
    which answers as it always has)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._result: AuthorizeResult | None = None

    def get(self) -> AuthorizeResult | None:
        if self._result is not None:
            return self._result
        with self._lock:
            if self._result is None:
                try:
                    response = self._client.auth_test()
                except Exception as exc:  # Bolt, asked instead, answers as it always has
                    log.warning("auth.test failed (%r); events go through Bolt", exc)
                    return None
                bot_token = (self._client.token or "").startswith("xoxb-")
                self._result = AuthorizeResult(
                    enterprise_id=response.get("enterprise_id"),
                    team_id=response.get("team_id"),
                    bot_id=response.get("bot_id"),
                    bot_user_id=response.get("user_id") if bot_token else None,
                )
            return self._result


class EventsIngest:
    """WSGI middleware taking ``event_callback`` deliveries at ``path`` straight to the inbox."""

    def __init__(
        self,
        *,
        inbox: Inbox,
        wake: Callable[[], None],
        secrets: Sequence[str],
        identity: BotIdentity,
        path: str,
    ) -> None:
        if not secrets:
            raise ValueError("at least one signing secret is needed")
        self.inbox = inbox
        self.wake = wake
        self.identity = identity
        self.path = path
        self._verifiers = [SignatureVerifier(signing_secret=secret) for secret in secrets]

    def wrap(self, app: WSGIApp) -> WSGIApp:
        """``app`` with this in front of it."""

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "POST":
                return app(environ, start_response)
            raw = _read_json_body(environ)
            if raw is None:
                return app(environ, start_response)
            answer = self.handle(raw, environ)
            if answer is None:
                environ["wsgi.input"] = io.BytesIO(raw)  # Bolt reads it again
                return app(environ, start_response)
            status, body, content_type = answer
            start_response(
                status,
                [("Content-Type", content_type), ("Content-Length", str(len(body)))],
            )
            return [body]

        return wsgi

    def handle(self, raw: bytes, environ: dict[str, Any]) -> tuple[str, bytes, str] | None:
        """(status, body, content type) for an event delivery; None for Bolt to answer."""
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        if not _is_event(body):
            return None
        if not self._verified(raw, environ):
            return ("401 Unauthorized", *_UNAUTHORISED)
        identity = self.identity.get()
        if identity is None:
            return None
        if _is_self_event(identity, body):
            return _OK
        try:
            items = deliveries(body)
        except (KeyError, TypeError, AttributeError, ValueError):
            return None  # malformed for what it claims to be: Bolt answers as it always has
        try:
            store_all(self.inbox, self.wake, items)
        except InboxUnavailableError as exc:
            log.warning("inbox unavailable, delivery refused: %s", exc)
            return ("503 Service Unavailable", b"", "text/plain;charset=utf-8")
        return _OK

    def _verified(self, raw: bytes, environ: dict[str, Any]) -> bool:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if not timestamp or not signature:
            return False
        try:
            return any(v.is_valid(raw, timestamp, signature) for v in self._verifiers)
        except ValueError:  # a timestamp that is not a number
            return False


_OK = ("200 OK", b"", "text/plain;charset=utf-8")


def _read_json_body(environ: dict[str, Any]) -> bytes | None:
    """The body of a JSON request of known length, read; None (unread) for anything else."""
    content_type = str(environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    data: bytes = environ["wsgi.input"].read(length)
    return data


def _is_event(body: Any) -> bool:
    """An Events API delivery that Bolt's event listeners would match on its type."""
    return (
        isinstance(body, dict)
        and body.get("type") == "event_callback"
        and isinstance(body.get("event"), dict)
        and "type" in body["event"]
        and isinstance(body.get("event_id"), str)
    )


def _is_self_event(identity: AuthorizeResult, body: dict[str, Any]) -> bool:
    """Bolt's own test (``IgnoringSelfEvents``), on the same inputs it gets."""
    bot_id = body["event"].get("bot_id")
    return bool(IgnoringSelfEvents._is_self_event(identity, extract_user_id(body), bot_id, body))


def events_fast_path(
    *,
    client: WebClient,
    inbox: Inbox,
    wake: Callable[[], None],
    signing_secret: str | None,
    previous_signing_secret: str | None = None,
    path: str,
) -> EventsIngest | None:
    """The fast path for HTTP mode, checking signatures by ``signing_secret`` (and
    ``previous_signing_secret`` during a rotation); None without a secret (Socket Mode, where
    nothing arrives over HTTP from Slack)."""
    secrets = [s for s in (signing_secret, previous_signing_secret) if s]
    if not secrets:
        return None
    return EventsIngest(
        inbox=inbox, wake=wake, secrets=secrets, identity=BotIdentity(client), path=path
    )
