"""Events API listeners: parse into a core event, store it in the inbox, and let Bolt ack.

Nothing else happens before the ack: the inbox worker does the work, so a slow Slack or
database never delays the ack and a crash after the ack loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from deskhand.events import ReactionAdded
from deskhand.inbox import Delivery, Inbox


def register(app: App, inbox: Inbox, wake: Callable[[], None]) -> None:
    @app.event("reaction_added")
    def on_reaction(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message":
            return  # a reaction on a file or a file comment: not a request
        reaction = ReactionAdded(
            user=str(event["user"]),
            emoji=str(event["reaction"]),
            channel=str(item["channel"]),
            ts=str(item["ts"]),
            item_user=event.get("item_user"),
        )
        if inbox.store(Delivery("slack", str(body["event_id"]), reaction.KIND, reaction.payload())):
            wake()

    @app.event("message")
    def on_message(body: dict[str, Any]) -> None:
        """Conversation in threads is synced with the conversation work; acked until then."""

    @app.event("member_joined_channel")
    def on_member_joined(body: dict[str, Any]) -> None:
        """Acked; agent lists refresh on their own schedule."""
