"""The Retry button on a dead letter's report: the press is parsed, stored and acked.

Whether the presser may retry, and the retry itself, happen in the inbox worker
(:class:`deskhand.dead_letters.DeadLetterRetries`); the ack only confirms the press arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from deskhand.dead_letters import DeadLetterRetryPressed
from deskhand.inbox import Delivery, Inbox

RETRY_ACTION = "retry_dead_letter"
"""action_id of the Retry button on a dead letter's report; its value is the dead outbox row's
id."""


def register(app: App, inbox: Inbox, wake: Callable[[], None]) -> None:
    @app.action(RETRY_ACTION)
    def on_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        event = retry_pressed(body, action)
        if event is not None and inbox.store(
            Delivery("slack", f"action:{event.ref}", event.KIND, event.payload())
        ):
            wake()
        ack()


def retry_pressed(body: dict[str, Any], action: dict[str, Any]) -> DeadLetterRetryPressed | None:
    """The core's event for a press of Retry, or None if the button names no row."""
    value = action.get("value")
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18):
        return None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    user = str(body["user"]["id"])
    ref = str(body.get("trigger_id") or f"{user}:{action.get('action_ts')}")
    return DeadLetterRetryPressed(user=user, row_id=int(value), channel=channel, ref=ref)
