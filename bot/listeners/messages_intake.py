"""Messages that may become tickets without the emoji: DMs to the bot (offered a "Create
ticket" button) and top-level messages (tickets in auto-ticket channels).

The ``message`` listener calls :func:`message_intake_event` and stores what it returns in the
inbox; whether a channel is an auto-ticket channel is the core's business (it knows names).
"""

from __future__ import annotations

from typing import Any

from deskhand.events import ChannelMessage, DirectMessage, Event

INTAKE_SUBTYPES = (None, "file_share")
"""A person's plain message, or one that shares a file; edits, joins, bot posts and the
like are not requests."""


def message_intake_event(body: dict[str, Any], event: dict[str, Any]) -> Event | None:
    """The intake event for a ``message`` event: a DM to the bot, a top-level message in a
    channel, or None (a bot's post, a thread reply, an edit or any other subtype).

    ``body`` is the envelope; its authorizations name the bot, whose own posts are dropped
    even when an event carries no ``bot_id``.
    """
    if event.get("subtype") not in INTAKE_SUBTYPES or event.get("bot_id") or event.get("hidden"):
        return None
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)):
        return None
    if user in _bot_users(body):
        return None
    thread_ts = event.get("thread_ts")
    if thread_ts is not None and thread_ts != ts:
        return None  # a reply: the conversation in a ticket's thread, not a new request
    if event.get("channel_type") == "im":
        return DirectMessage(user=user, channel=channel, ts=ts)
    return ChannelMessage(user=user, channel=channel, ts=ts, text=str(event.get("text") or ""))


def _bot_users(body: dict[str, Any]) -> set[str]:
    return {
        str(auth.get("user_id"))
        for auth in body.get("authorizations") or []
        if isinstance(auth, dict) and auth.get("is_bot")
    }
