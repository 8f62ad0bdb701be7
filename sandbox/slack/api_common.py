"""Helpers the Web API method modules share."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.slack.errors import SlackError
from sandbox.slack.state import Channel, Message, User

if TYPE_CHECKING:
    from sandbox.slack.web_api import Call

T = TypeVar("T")
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def channel_arg(call: Call, *, must_be_member: bool, name: str = "channel") -> Channel:
    """The channel named by the argument, as the caller may see it (id, '#name' or a user)."""
    value = str(call.arg(name))
    workspace = call.workspace
    caller = call.user()
    if value in workspace.users and name == "channel":
        # Posting to a user id goes to the app's DM with that user.
        return workspace.im_channel(caller.id, value)
    channel = workspace.find_channel(value)
    if channel is None:
        raise SlackError("channel_not_found")
    return workspace.channel_for(channel.id, caller.id, must_be_member=must_be_member)


def message_arg(call: Call, channel: Channel, name: str = "ts") -> Message:
    ts = str(call.arg(name))
    return call.workspace.get_message(channel.id, ts)


def user_arg(call: Call, name: str = "user") -> User:
    user = call.workspace.users.get(str(call.arg(name)))
    if user is None:
        raise SlackError("user_not_found")
    return user


def message_object(call: Call, message: Message, *, as_posted: bool = False) -> dict[str, Any]:
    """A message as the Web API returns it (chat.*, conversations.*, reactions.get).

    Unlike the event form it has no ``channel``, ``channel_type`` or ``event_ts``. Only the
    echo of a message just posted (``as_posted``) names the bot user in ``bot_profile``;
    conversations.* and reactions.get never do (java-slack-sdk's recorded samples).
    """
    body = call.workspace.message_object(message)
    if as_posted and "bot_profile" in body:
        body["bot_profile"]["user_id"] = message.user
    return body


def paginate(call: Call, items: Sequence[T]) -> tuple[list[T], dict[str, Any]]:
    """A page of ``items`` by ``cursor`` and ``limit``, and the response_metadata to return."""
    limit = _int(call.args.get("limit"), DEFAULT_PAGE)
    limit = max(1, min(limit, MAX_PAGE))
    cursor = call.args.get("cursor") or ""
    start = 0
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
        except ValueError:
            raise SlackError("invalid_cursor") from None
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return page, {"next_cursor": next_cursor}


def _int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
