"""chat.* methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.slack.api_common import channel_arg, message_arg, message_object, user_arg
from sandbox.slack.blocks import MESSAGE_TEXT, block_problems
from sandbox.slack.errors import SlackError
from sandbox.slack.state import Channel, Message

if TYPE_CHECKING:
    from sandbox.slack.web_api import Call, Handler


def register(methods: dict[str, Handler]) -> None:
    methods.update(
        {
            "chat.postMessage": post_message,
            "chat.update": update,
            "chat.delete": delete,
            "chat.postEphemeral": post_ephemeral,
            "chat.getPermalink": get_permalink,
        }
    )


def _content(call: Call, *, required: bool) -> tuple[str | None, list[dict[str, Any]] | None]:
    text = call.args.get("text")
    blocks = call.json_arg("blocks") if call.args.get("blocks") not in (None, "") else None
    attachments = call.args.get("attachments")
    if required and not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text is not None and len(str(text)) > MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    if blocks is not None:
        problems = block_problems(blocks, surface="message")
        if problems:
            raise SlackError(
                "invalid_blocks",
                errors=problems,
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )
    return (None if text is None else str(text)), blocks


def _metadata(call: Call) -> dict[str, Any] | None:
    metadata = call.json_arg("metadata") if call.args.get("metadata") else None
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return metadata


def post_message(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=True)
    text, blocks = _content(call, required=True)
    message = call.workspace.post(
        channel,
        call.user(),
        text or "",
        blocks=blocks,
        thread_ts=call.args.get("thread_ts") or None,
        metadata=_metadata(call),
        attachments=call.json_arg("attachments") if call.args.get("attachments") else None,
        unfurl_links=call.flag("unfurl_links", True),
        unfurl_media=call.flag("unfurl_media", True),
        reply_broadcast=call.flag("reply_broadcast"),
    )
    return {
        "channel": channel.id,
        "ts": message.ts,
        "message": message_object(call, message, as_posted=True),
    }


def _own_message(call: Call, channel: Channel, error: str) -> Message:
    message = message_arg(call, channel)
    if message.user != call.user().id:
        raise SlackError(error)
    return message


def update(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=False)
    message = _own_message(call, channel, "cant_update_message")
    text, blocks = _content(call, required=False)
    call.workspace.update(message, call.user(), text=text, blocks=blocks, metadata=_metadata(call))
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": _as_updated(call, message),
    }


def _as_updated(call: Call, message: Message) -> dict[str, Any]:
    """chat.update's echo: the message without its ``ts`` (that is at the top level)."""
    body = message_object(call, message)
    body.pop("ts", None)
    return body


def delete(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=False)
    message = _own_message(call, channel, "cant_delete_message")
    call.workspace.delete(message)
    return {"channel": channel.id, "ts": message.ts}


def post_ephemeral(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=True)
    user = user_arg(call)
    if user.id not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks = _content(call, required=True)
    ts = call.workspace.next_ts()
    call.workspace.ephemerals.append(
        {
            "channel": channel.id,
            "user": user.id,
            "text": text or "",
            "blocks": blocks or [],
            "ts": ts,
            "thread_ts": call.args.get("thread_ts"),
        }
    )
    return {"message_ts": ts}


def get_permalink(call: Call) -> dict[str, Any]:
    channel = channel_arg(call, must_be_member=False)
    message = message_arg(call, channel, "message_ts")
    archive = f"https://{call.workspace.domain}.slack.com/archives/{channel.id}"
    link = f"{archive}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}
