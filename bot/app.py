"""The Bolt app: built here, with every switch spelled out, and nothing global."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_bolt import App, BoltResponse
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.listeners import actions, events, replies
from deskhand.inbox import Inbox, InboxUnavailableError

EVENTS_PATH = "/slack/events"
"""Where Slack sends events, interactions and slash commands over HTTP."""


class RotatingRequestVerification(RequestVerification):
    """Bolt's request verification, accepting a signature by any of several secrets: while
    a signing secret is being rotated, Slack may sign with the old one or the new one."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one signing secret is needed")
        super().__init__(secrets[0])
        self._verifiers = [SignatureVerifier(signing_secret=secret) for secret in secrets]

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse:
        if self._can_skip(req.mode, req.body):
            return next()
        timestamp = req.headers.get("x-slack-request-timestamp", ["0"])[0]
        signature = req.headers.get("x-slack-signature", [""])[0]
        if any(v.is_valid(req.raw_body, timestamp, signature) for v in self._verifiers):
            return next()
        return self._build_error_response()


def build_app(
    *,
    client: WebClient,
    inbox: Inbox,
    wake: Callable[[], None],
    signing_secret: str | None,
    previous_signing_secret: str | None = None,
) -> App:
    """A Bolt app whose listeners store deliveries in ``inbox`` and call ``wake``.

    - ``process_before_response=True``: Bolt acks only after the listener returned, i.e.
      after the delivery is stored (durable before ack). Listeners only store, so the ack
      stays fast.
    - ``signing_secret``: required over HTTP; None in Socket Mode, where requests come over
      the app's own authenticated connection and carry no signature. With
      ``previous_signing_secret`` as well (during a rotation) either one is accepted. The
      check runs before authorisation, as Bolt's own does; Bolt's is switched off for it.
    - ``token_verification_enabled=False``: no ``auth.test`` call while building the app;
      Bolt still authorises on the first request.
    - Bolt's default ``ignoring_self_events_enabled`` drops the bot's own posts on the way in.
    - Over HTTP, event deliveries usually take the fast path of :mod:`bot.events_ingest`
      (which does the same before the ack with the same parts) and never reach these
      listeners; :func:`bot.http.flask_app` puts it in front of Bolt.
    """
    secrets = [s for s in (signing_secret, previous_signing_secret) if s]
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=False,
        before_authorize=RotatingRequestVerification(secrets) if signing_secret else None,
        token_verification_enabled=False,
    )

    @app.error
    def on_error(error: Exception) -> BoltResponse | None:
        """A delivery that could not be stored is refused with 503, quickly, so Slack sends
        it again later; nothing is acknowledged that was not stored."""
        if isinstance(error, InboxUnavailableError):
            return BoltResponse(status=503, body="")
        return None

    events.register(app, inbox, wake)
    actions.register(app, inbox, wake)
    replies.register(app, inbox, wake)
    return app
