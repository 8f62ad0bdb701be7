"""The Bolt app: built here, with every switch spelled out, and nothing global."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.listeners import actions, events, replies
from deskhand.inbox import Inbox, InboxUnavailableError


def build_app(
    *,
    client: WebClient,
    inbox: Inbox,
    wake: Callable[[], None],
    signing_secret: str | None,
) -> App:
    """A Bolt app whose listeners store deliveries in ``inbox`` and call ``wake``.

    - ``process_before_response=True``: Bolt acks only after the listener returned, i.e.
      after the delivery is stored (durable before ack). Listeners only store, so the ack
      stays fast.
    - ``signing_secret``: required over HTTP; None in Socket Mode, where requests come over
      the app's own authenticated connection and carry no signature.
    - ``token_verification_enabled=False``: no ``auth.test`` call while building the app;
      Bolt still authorises on the first request.
    - Bolt's default ``ignoring_self_events_enabled`` drops the bot's own posts on the way in.
    """
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=signing_secret is not None,
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
