"""Events API deliveries: parse into core events, store them in the inbox, and ack.

Nothing else happens before the ack: the inbox worker does the work, so a slow Slack or
database never delays the ack and a crash after the ack loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.listeners.messages_intake import message_intake_event
from deskhand.events import HomeOpened, ReactionAdded, ThreadReply, ThreadReplyChanged
from deskhand.inbox import Delivery, Inbox

LISTENED = ("reaction_added", "message", "app_home_opened", "member_joined_channel")
"""The event types the app subscribes to; ``member_joined_channel`` is only acked (agent
lists refresh on their own schedule)."""


def register(app: App, inbox: Inbox, wake: Callable[[], None]) -> None:
    """Bolt listeners for the events API (Socket Mode, and HTTP bodies the fast path in
    :mod:`bot.events_ingest` hands on); both store what :func:`deliveries` makes."""

    def on_event(body: dict[str, Any]) -> None:
        store_all(inbox, wake, deliveries(body))

    for event_type in LISTENED:
        app.event(event_type)(on_event)


def store_all(inbox: Inbox, wake: Callable[[], None], items: list[Delivery]) -> None:
    """Store ``items`` in order and wake the workers if any was new. An
    :class:`InboxUnavailableError` goes up (the delivery is refused, Slack retries; what
    was stored before it is found again by its key)."""
    stored = False
    try:
        for item in items:
            stored = inbox.store(item) or stored
    finally:
        if stored:
            wake()


def deliveries(body: dict[str, Any]) -> list[Delivery]:
    """What an ``event_callback`` body puts in the inbox: nothing for the events that ask for
    no work, e.g. a reaction on a file, a bot's post, a join."""
    event: dict[str, Any] = body["event"]
    make = _MAKERS.get(str(event.get("type")))
    return make(body, event) if make is not None else []


def _reaction(body: dict[str, Any], event: dict[str, Any]) -> list[Delivery]:
    item = event.get("item") or {}
    if item.get("type") != "message":
        return []  # a reaction on a file or a file comment: not a request
    reaction = ReactionAdded(
        user=str(event["user"]),
        emoji=str(event["reaction"]),
        channel=str(item["channel"]),
        ts=str(item["ts"]),
        item_user=event.get("item_user"),
    )
    return [Delivery("slack", str(body["event_id"]), reaction.KIND, reaction.payload())]


def _message(body: dict[str, Any], event: dict[str, Any]) -> list[Delivery]:
    found: list[Delivery] = []
    intake = message_intake_event(body, event)  # DMs to the bot, auto-ticket channels
    if intake is not None:
        found.append(Delivery("slack", f"{body['event_id']}:intake", intake.KIND, intake.payload()))
    reply = thread_reply(event) or thread_reply_change(event)
    if reply is not None:
        found.append(Delivery("slack", str(body["event_id"]), reply.KIND, reply.payload()))
    return found


def _home_opened(body: dict[str, Any], event: dict[str, Any]) -> list[Delivery]:
    if event.get("tab", "home") != "home":
        return []
    opened = HomeOpened(user=str(event["user"]))
    return [Delivery("slack", str(body["event_id"]), opened.KIND, opened.payload())]


_MAKERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[Delivery]]] = {
    "reaction_added": _reaction,
    "message": _message,
    "app_home_opened": _home_opened,
}


HUMAN_SUBTYPES = (None, "file_share", "thread_broadcast")


def thread_reply(event: dict[str, Any]) -> ThreadReply | None:
    """A person's reply in a thread, or None (top-level posts, bots, edits, joins, …)."""
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or thread_ts == ts or event.get("bot_id") or not event.get("user"):
        return None
    if event.get("subtype") not in HUMAN_SUBTYPES:
        return None
    files = [
        str(f.get("permalink") or f.get("name") or f.get("id"))
        for f in event.get("files") or []
        if isinstance(f, dict)
    ]
    return ThreadReply(
        user=str(event["user"]),
        channel=str(event["channel"]),
        ts=str(ts),
        thread_ts=str(thread_ts),
        text=str(event.get("text", "")),
        files=files,
    )


def thread_reply_change(event: dict[str, Any]) -> ThreadReplyChanged | None:
    """A person's edit or deletion of a thread reply, or None (bots, top-level messages)."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        message = event.get("message") or {}
        thread_ts, ts = message.get("thread_ts"), message.get("ts")
        if not thread_ts or thread_ts == ts or message.get("bot_id") or not message.get("user"):
            return None
        return ThreadReplyChanged(
            channel=str(event["channel"]),
            ts=str(ts),
            text=str(message.get("text", "")),
            edited_ts=(message.get("edited") or {}).get("ts"),
        )
    if subtype == "message_deleted":
        previous = event.get("previous_message") or {}
        thread_ts, ts = previous.get("thread_ts"), event.get("deleted_ts")
        if not thread_ts or thread_ts == ts or previous.get("bot_id") or not ts:
            return None
        return ThreadReplyChanged(channel=str(event["channel"]), ts=str(ts), text=None)
    return None
