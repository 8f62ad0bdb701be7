"""conversations.* methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.slack.api_common import channel_arg, message_object, paginate
from sandbox.slack.errors import SlackError
from sandbox.slack.state import Channel, Workspace

if TYPE_CHECKING:
    from sandbox.slack.web_api import Call, Handler


def register(methods: dict[str, Handler]) -> None:
    methods.update(
        {
            "conversations.info": info,
            "conversations.list": list_conversations,
            "conversations.replies": replies,
            "conversations.history": history,
            "conversations.members": members,
            "conversations.join": join,
            "conversations.open": open_conversation,
        }
    )


def describe(
    workspace: Workspace, channel: Channel, viewer: str, *, num_members: bool = False
) -> dict[str, Any]:
    """A conversation object as conversations.info returns it.

    ``num_members`` only when asked for (conversations.info's ``include_num_members``).
    """
    body: dict[str, Any] = {
        "id": channel.id,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_im": channel.is_im,
        "is_org_shared": False,
        "context_team_id": workspace.team_id,
        "updated": channel.created * 1000,
    }
    if channel.is_im:
        other = next(iter(channel.members - {viewer}), viewer)
        body.update({"user": other, "is_open": True, "priority": 0})
        return body
    body.update(
        {
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_mpim": False,
            "is_private": channel.is_private,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "unlinked": 0,
            "creator": channel.creator,
            "is_member": viewer in channel.members,
            "topic": {"value": channel.topic, "creator": "", "last_set": 0},
            "purpose": {"value": channel.purpose, "creator": "", "last_set": 0},
        }
    )
    if num_members:
        body["num_members"] = len(channel.members)
    return body


def info(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=False)
    counted = call.flag("include_num_members")
    return {"channel": describe(call.workspace, channel, call.user().id, num_members=counted)}


_TYPES = {"public_channel", "private_channel", "im", "mpim"}


def list_conversations(call: Call) -> dict[str, Any]:
    """Public channels, plus the private ones and DMs the caller is in, by ``types``."""
    wanted = {t.strip() for t in str(call.args.get("types") or "public_channel").split(",")}
    if not wanted <= _TYPES:
        raise SlackError("invalid_types")
    viewer = call.user().id
    skip_archived = call.flag("exclude_archived")

    def kind(channel: Channel) -> str:
        if channel.is_im:
            return "im"
        return "private_channel" if channel.is_private else "public_channel"

    channels = [
        c
        for c in sorted(call.workspace.channels.values(), key=lambda c: c.id)
        if kind(c) in wanted
        and (kind(c) == "public_channel" or viewer in c.members)
        and not (skip_archived and c.is_archived)
    ]
    page, metadata = paginate(call, channels)
    return {
        "channels": [describe(call.workspace, c, viewer) for c in page],
        "response_metadata": metadata,
    }


def replies(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=True)
    ts = str(call.arg("ts"))
    if (channel.id, ts) not in call.workspace.messages:
        raise SlackError("thread_not_found")
    thread = [message_object(call, m) for m in call.workspace.thread(channel.id, ts)]
    page, metadata = paginate(call, thread)
    return {
        "messages": page,
        "has_more": bool(metadata["next_cursor"]),
        "response_metadata": metadata,
    }


def history(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=True)
    oldest = float(call.args.get("oldest") or 0)
    latest = float(call.args.get("latest") or "inf")
    inclusive = call.flag("inclusive")
    messages = [
        m
        for m in call.workspace.history(channel.id)
        if (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)
    ]
    bodies = [message_object(call, m) for m in messages]
    page, metadata = paginate(call, bodies)
    return {
        "messages": page,
        "has_more": bool(metadata["next_cursor"]),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": metadata,
    }


def members(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=False)
    page, metadata = paginate(call, sorted(channel.members))
    return {"members": page, "response_metadata": metadata}


def join(call: Call) -> dict[str, Any]:
    channel = call.workspace.find_channel(str(call.arg("channel")))
    user = call.user()
    if channel is None or channel.is_im or (channel.is_private and user.id not in channel.members):
        raise SlackError("channel_not_found")
    if channel.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    response: dict[str, Any] = {}
    if user.id in channel.members:
        response["warning"] = "already_in_channel"
        response["response_metadata"] = {"warnings": ["already_in_channel"]}
    else:
        call.workspace.join(channel, user)
    return {"channel": describe(call.workspace, channel, user.id), **response}


def open_conversation(call: Call) -> dict[str, Any]:
    users = [u for u in str(call.arg("users")).split(",") if u]
    if len(users) != 1:
        raise SlackError("not_enough_users" if not users else "too_many_users")
    if users[0] not in call.workspace.users:
        raise SlackError("user_not_found")
    channel = call.workspace.im_channel(call.user().id, users[0])
    return {"channel": {"id": channel.id}}
