"""The "Reply to requester" message shortcut, for agents in a triage thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from deskhand.events import ReplyToRequester
from deskhand.inbox import Delivery, Inbox
from deskhand.manifest import REPLY_CALLBACK_ID


def register(app: App, inbox: Inbox, wake: Callable[[], None]) -> None:
    @app.shortcut(REPLY_CALLBACK_ID)
    def on_reply_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        message = body.get("message") or {}
        event = ReplyToRequester(
            user=str(body["user"]["id"]),
            channel=str((body.get("channel") or {}).get("id")),
            ts=str(message.get("ts")),
            thread_ts=message.get("thread_ts"),
            text=str(message.get("text", "")),
            ref=str(body.get("trigger_id")),
        )
        if inbox.store(Delivery("slack", f"shortcut:{event.ref}", event.KIND, event.payload())):
            wake()
        ack()
