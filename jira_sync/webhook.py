"""The Jira webhook receiver: verify, parse, store in the inbox, answer.

Nothing else happens on the request path: the inbox worker hands the stored events to the core
later, so Jira gets its answer in milliseconds and a crash after the answer loses nothing.

* ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` must match one of the
  configured secrets (more than one while a secret is being rotated); otherwise 401 and nothing
  is stored. With no secret configured every delivery is refused: an unsigned endpoint would
  let anyone write to tickets.
* Each event of a body is stored under ``jira:<X-Atlassian-Webhook-Identifier>:<n>``
  (``<n>`` its position in the body), so Jira's retries and duplicates, which repeat the
  identifier, store nothing twice, and a retry after a partial failure stores only what was
  missing. Without the header (old Server) the identifier is a hash of the raw body.
* 400 for a body that is not a JSON object, 503 when the database cannot take the events (Jira
  retries 5xx), 200 otherwise, also for webhooks Deskhand does not use.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Sequence

import flask

from deskhand.inbox import Delivery, Inbox, InboxUnavailableError
from jira_sync.inbound import events_from_webhook

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature"
IDENTIFIER_HEADER = "X-Atlassian-Webhook-Identifier"
MAX_BODY_BYTES = 5 * 1024 * 1024
"""Far above any issue webhook (bodies are capped at 32,767 characters); refused unread."""
_IDENTIFIER = re.compile(r"[A-Za-z0-9._:-]{1,100}")


class SignatureCheck:
    """``X-Hub-Signature`` against any of the configured secrets, in constant time."""

    def __init__(self, secrets: Sequence[str]) -> None:
        # A blank secret would let anyone sign: it counts as none.
        self._keys = [secret.encode() for secret in secrets if secret.strip()]

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def verify(self, raw: bytes, header: str | None) -> bool:
        if not self._keys:
            return False
        method, _, given = (header or "").strip().partition("=")
        if method.lower() != "sha256" or not given:
            return False
        given_bytes = given.strip().lower().encode()
        matches = [
            hmac.compare_digest(
                hmac.new(key, raw, hashlib.sha256).hexdigest().encode(), given_bytes
            )
            for key in self._keys
        ]
        return any(matches)


def delivery_identifier(header: str | None, raw: bytes) -> str:
    """Jira's identifier (the same on every retry), or a hash of the body without one."""
    if header and _IDENTIFIER.fullmatch(header.strip()):
        return header.strip()
    if header:
        # Not the UUID Jira sends: keep it, but in a form that fits the key column.
        return "h-" + hashlib.sha256(header.encode()).hexdigest()
    return "body-" + hashlib.sha256(raw).hexdigest()


def register_jira_webhook(
    web: flask.Flask,
    inbox: Inbox,
    wake: Callable[[], None],
    secrets: Sequence[str],
    path: str = "/jira/webhook",
) -> None:
    """Add ``POST path`` to ``web``; ``wake()`` is called after something new was stored."""
    check = SignatureCheck(secrets)
    if not check.configured:
        # Said once, here; each refused delivery is not logged again.
        log.error(
            "no Jira webhook secret is configured (DESKHAND_JIRA_WEBHOOK_SECRET): %s refuses "
            "every delivery with 401",
            path,
        )

    def receive() -> flask.Response:
        request = flask.request
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _answer(413, "body too large")
        # A chunked body has no Content-Length: read no more than the limit (werkzeug stops
        # there), and refuse what reached it.
        request.max_content_length = MAX_BODY_BYTES
        raw = request.get_data(cache=False)
        if len(raw) >= MAX_BODY_BYTES:
            return _answer(413, "body too large")
        if not check.configured:
            return _answer(401, "no webhook secret configured")
        if not check.verify(raw, request.headers.get(SIGNATURE_HEADER)):
            log.warning("refused a Jira webhook with a missing or wrong %s", SIGNATURE_HEADER)
            return _answer(401, "bad signature")
        try:
            body = json.loads(raw)
        except ValueError:
            return _answer(400, "not JSON")
        if not isinstance(body, dict):
            return _answer(400, "not a JSON object")
        identifier = delivery_identifier(request.headers.get(IDENTIFIER_HEADER), raw)
        stored = 0
        try:
            for position, event in enumerate(events_from_webhook(body)):
                delivery = Delivery(
                    source="jira",
                    key=f"jira:{identifier}:{position}",
                    kind=event.KIND,
                    payload=event.payload(),
                )
                if inbox.store(delivery):
                    stored += 1
        except InboxUnavailableError as exc:
            log.warning("Jira webhook %s not stored, answering 503: %s", identifier, exc)
            return _answer(503, "try again later")
        if stored:
            try:
                wake()
            except Exception:  # stored is stored: the worker's own timer picks it up
                log.exception("waking the inbox worker failed")
        return _answer(200, "ok")

    endpoint = "jira_webhook" + re.sub(r"\W", "_", path)
    web.add_url_rule(path, endpoint=endpoint, view_func=receive, methods=["POST"])


def webhook_app(
    inbox: Inbox,
    wake: Callable[[], None],
    secrets: Sequence[str],
    path: str = "/jira/webhook",
) -> flask.Flask:
    """A Flask app with only the Jira webhook, for installs whose Slack side has no HTTP app
    (Socket Mode) but that still want Jira's webhooks."""
    web = flask.Flask("deskhand.jira_webhook")
    register_jira_webhook(web, inbox, wake, secrets, path)
    return web


def _answer(status: int, text: str) -> flask.Response:
    return flask.Response(text + "\n", status=status, mimetype="text/plain")
