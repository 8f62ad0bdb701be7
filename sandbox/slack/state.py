"""The workspace's state: people, bots, channels, messages, reactions, views.

Everything the Web API and the driver change goes through :class:`Workspace`, under one lock,
and every change a Slack app would hear about is handed to the event listeners as the inner
``event`` object of an Events API delivery.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.clock import Clock
from sandbox.slack.errors import SlackError
from sandbox.slack.model import Channel, Message, Token, Trigger, User, View

__all__ = ["Channel", "Message", "Token", "Trigger", "User", "View", "Workspace"]

EventListener = Callable[[dict[str, Any]], None]
SANDBOX_BOT_TOKEN = "xoxb-sandbox-bot"  # noqa: S105 - a fake's fixed token, not a secret
SANDBOX_APP_TOKEN = "xapp-sandbox-app"  # noqa: S105
SANDBOX_SIGNING_SECRET = "sandbox-signing-secret"  # noqa: S105
TRIGGER_LIFETIME = 3.0
"""Real seconds a trigger_id stays valid after Slack sent it (a deadline the app under test
must meet, so not scaled by the sandbox clock; tests may shorten ``Workspace.trigger_lifetime``)."""


class Workspace:
    """One Slack workspace with one installed app (Deskhand's bot)."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        team_id: str = "T0SANDBOX",
        team_name: str = "Sandbox",
        domain: str = "sandbox",
        bot_token: str = SANDBOX_BOT_TOKEN,
        app_token: str = SANDBOX_APP_TOKEN,
    ) -> None:
        self.clock = clock or Clock()
        self.trigger_lifetime = TRIGGER_LIFETIME
        self.team_id = team_id
        self.team_name = team_name
        self.domain = domain
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[tuple[str, str], Message] = {}
        self.views: dict[str, View] = {}
        self.home_views: dict[str, View] = {}
        self.triggers: dict[str, Trigger] = {}
        self.tokens: dict[str, Token] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.listeners: list[EventListener] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.socket_mode_url: Callable[[], str] | None = None
        """Set by the Socket Mode server: the URL apps.connections.open hands out."""
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self.app_id = "A0DESKHAND"
        self.bot = self.add_user("deskhand", real_name="Deskhand", bot=True, app_id=self.app_id)
        self.tokens[bot_token] = Token(bot_token, "bot", self.bot.id)
        self.tokens[app_token] = Token(app_token, "app")
        self.bot_token = bot_token
        self.app_token = app_token

    # ids and time ---------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08X}"

    def next_ts(self) -> str:
        """A message ts: Unix seconds with microseconds, unique and increasing."""
        with self.lock:
            now = max(self.clock.wall(), self._last_ts + 0.000001)
            self._last_ts = now
            return f"{now:.6f}"

    # people and channels --------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "UTC",
        bot: bool = False,
        app_id: str | None = None,
    ) -> User:
        with self.lock:
            user = User(
                id=self.new_id("U"),
                name=name,
                real_name=real_name or name.title(),
                email=email if email is not None or bot else f"{name}@example.com",
                tz=tz,
                is_bot=bot,
                bot_id=self.new_id("B") if bot else None,
                app_id=app_id,
            )
            self.users[user.id] = user
            return user

    def add_bot(self, name: str) -> User:
        """Another app's bot user, with its own bot id and app id."""
        with self.lock:
            return self.add_user(name, bot=True, app_id=self.new_id("A"))

    def user_token(self, user: User) -> str:
        token = f"xoxp-sandbox-{user.id}"
        self.tokens[token] = Token(token, "user", user.id)
        return token

    def add_channel(
        self, name: str, *, private: bool = False, members: list[User] | None = None
    ) -> Channel:
        with self.lock:
            if self.find_channel(name) is not None:
                raise ValueError(f"#{name} exists")
            channel = Channel(
                id=self.new_id("G" if private else "C"),
                name=name,
                is_private=private,
                members={member.id for member in members or []},
                created=int(self.clock.wall()),
            )
            self.channels[channel.id] = channel
            return channel

    def find_channel(self, name_or_id: str) -> Channel | None:
        key = name_or_id.lstrip("#")
        if key in self.channels:
            return self.channels[key]
        return next((c for c in self.channels.values() if c.name == key and not c.is_im), None)

    def find_user(self, name_or_id: str) -> User | None:
        if name_or_id in self.users:
            return self.users[name_or_id]
        return next((u for u in self.users.values() if u.name == name_or_id), None)

    def im_channel(self, user_a: str, user_b: str) -> Channel:
        with self.lock:
            pair = {user_a, user_b}
            for channel in self.channels.values():
                if channel.is_im and channel.members == pair:
                    return channel
            channel = Channel(
                id=self.new_id("D"),
                name="",
                is_im=True,
                members=pair,
                created=int(self.clock.wall()),
            )
            self.channels[channel.id] = channel
            return channel

    def channel_for(self, channel_id: str, user_id: str, *, must_be_member: bool) -> Channel:
        """The channel as ``user_id`` may see it; Slack's errors otherwise."""
        channel = self.channels.get(channel_id)
        if channel is None or (
            (channel.is_private or channel.is_im) and (user_id not in channel.members)
        ):
            raise SlackError("channel_not_found")
        if must_be_member and user_id not in channel.members:
            raise SlackError("not_in_channel")
        if channel.is_archived and must_be_member:
            raise SlackError("is_archived")
        return channel

    def join(self, channel: Channel, user: User) -> None:
        with self.lock:
            channel.members.add(user.id)
            self.emit(
                {
                    "type": "member_joined_channel",
                    "user": user.id,
                    "channel": channel.id,
                    "channel_type": "G" if channel.is_private else "C",
                    "team": self.team_id,
                    "event_ts": self.next_ts(),
                }
            )

    # views ----------------------------------------------------------------------------------

    def open_view(self, view: View) -> None:
        with self.lock:
            self.views[view.id] = view

    def modal_stack(self, user_id: str) -> list[View]:
        """The user's open modals, root first."""
        with self.lock:
            modals = [v for v in self.views.values() if v.user_id == user_id]
            if not modals:
                return []
            root = modals[-1].root_view_id
            return [v for v in modals if v.root_view_id == root]

    def close_views(self, root_view_id: str) -> None:
        with self.lock:
            for view_id in [v.id for v in self.views.values() if v.root_view_id == root_view_id]:
                del self.views[view_id]

    # messages -------------------------------------------------------------------------------

    def post(
        self,
        channel: Channel,
        user: User,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        files: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        unfurl_links: bool = True,
        unfurl_media: bool = True,
        reply_broadcast: bool = False,
    ) -> Message:
        with self.lock:
            if thread_ts is not None:
                parent = self.messages.get((channel.id, thread_ts))
                if parent is None or parent.subtype == "tombstone":
                    raise SlackError("thread_not_found")
                if parent.is_reply:
                    thread_ts = parent.thread_ts
            message = Message(
                channel=channel.id,
                ts=self.next_ts(),
                user=user.id,
                text=text,
                blocks=blocks or [],
                attachments=attachments or [],
                thread_ts=thread_ts,
                bot_id=user.bot_id,
                app_id=user.app_id,
                metadata=metadata,
                subtype="file_share" if files else None,
                files=files or [],
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
            )
            self.messages[(channel.id, message.ts)] = message
            if thread_ts is not None:
                parent = self.messages[(channel.id, thread_ts)]
                if parent.thread_ts is None:
                    parent.thread_ts = parent.ts
                parent.reply_ts.append(message.ts)
            self.emit(self.message_event(message, reply_broadcast=reply_broadcast))
            return message

    def update(
        self,
        message: Message,
        editor: User,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        with self.lock:
            previous = self.message_object(message)
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = blocks
            if metadata is not None:
                message.metadata = metadata
            message.edited = {"user": editor.id, "ts": self.next_ts()}
            self.emit(
                {
                    "type": "message",
                    "subtype": "message_changed",
                    "hidden": True,
                    "channel": message.channel,
                    "channel_type": self.channel_type(self.channels[message.channel]),
                    "ts": self.next_ts(),
                    "event_ts": self.next_ts(),
                    "message": _without_reply_users(self.message_object(message)),
                    "previous_message": _without_reply_users(previous),
                }
            )
            return message

    def delete(self, message: Message) -> None:
        with self.lock:
            previous = self.message_object(message)
            if message.reply_ts and not message.is_reply:
                # A parent with replies stays as a tombstone so the thread survives.
                message.subtype = "tombstone"
                message.text = "This message was deleted."
                message.blocks = []
            else:
                del self.messages[(message.channel, message.ts)]
                if message.is_reply and message.thread_ts is not None:
                    parent = self.messages.get((message.channel, message.thread_ts))
                    if parent is not None:
                        parent.reply_ts.remove(message.ts)
            self.emit(
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "hidden": True,
                    "channel": message.channel,
                    "channel_type": self.channel_type(self.channels[message.channel]),
                    "ts": self.next_ts(),
                    "event_ts": self.next_ts(),
                    "deleted_ts": message.ts,
                    "previous_message": _without_reply_users(previous),
                }
            )

    def get_message(self, channel_id: str, ts: str) -> Message:
        message = self.messages.get((channel_id, ts))
        if message is None:
            raise SlackError("message_not_found")
        return message

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        parent = self.get_message(channel_id, ts)
        root = parent
        if parent.is_reply and parent.thread_ts is not None:
            root = self.get_message(channel_id, parent.thread_ts)
        return [root, *(self.messages[(channel_id, reply)] for reply in root.reply_ts)]

    def history(self, channel_id: str) -> list[Message]:
        """Top-level messages (and broadcasts), newest first, as conversations.history has it."""
        return sorted(
            (m for (c, _), m in self.messages.items() if c == channel_id and not m.is_reply),
            key=lambda m: float(m.ts),
            reverse=True,
        )

    # reactions ------------------------------------------------------------------------------

    def react(self, message: Message, user: User, name: str) -> None:
        with self.lock:
            users = message.reactions.setdefault(name, [])
            if user.id in users:
                raise SlackError("already_reacted")
            users.append(user.id)
            self.emit(self.reaction_event("reaction_added", message, user, name))

    def unreact(self, message: Message, user: User, name: str) -> None:
        with self.lock:
            users = message.reactions.get(name, [])
            if user.id not in users:
                raise SlackError("no_reaction")
            users.remove(user.id)
            if not users:
                del message.reactions[name]
            self.emit(self.reaction_event("reaction_removed", message, user, name))

    # triggers -------------------------------------------------------------------------------

    def issue_trigger(self, user: User) -> str:
        with self.lock:
            trigger = Trigger(
                id=f"{next(self._ids)}.{self.team_id}.{self.new_id('x')[2:].lower()}",
                user_id=user.id,
                issued_at=time.monotonic(),
            )
            self.triggers[trigger.id] = trigger
            return trigger.id

    def use_trigger(self, trigger_id: str) -> Trigger:
        with self.lock:
            trigger = self.triggers.get(trigger_id)
            if trigger is None:
                raise SlackError(
                    "invalid_arguments",
                    response_metadata={"messages": ["[ERROR] invalid `trigger_id`"]},
                )
            if trigger.used or time.monotonic() - trigger.issued_at > self.trigger_lifetime:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            return trigger

    # events ---------------------------------------------------------------------------------

    def subscribe(self, listener: EventListener) -> None:
        self.listeners.append(listener)

    def emit(self, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(event)

    @staticmethod
    def channel_type(channel: Channel) -> str:
        if channel.is_im:
            return "im"
        return "group" if channel.is_private else "channel"

    def message_event(self, message: Message, *, reply_broadcast: bool = False) -> dict[str, Any]:
        """The message as a ``message`` event carries it: the message and where it was posted."""
        body = self.message_object(message, reply_broadcast=reply_broadcast)
        # Events name the app only inside bot_profile (recorded samples, and
        # GenericMessageEvent in Slack's TypeScript types).
        body.pop("app_id", None)
        body["channel"] = message.channel
        body["channel_type"] = self.channel_type(self.channels[message.channel])
        body["event_ts"] = message.ts
        return body

    def message_object(self, message: Message, *, reply_broadcast: bool = False) -> dict[str, Any]:
        """The message itself, as nested in edits, deletions, interactions and API answers."""
        body: dict[str, Any] = {
            "type": "message",
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
        }
        if not message.files:
            body["team"] = self.team_id  # file shares carry no team (recorded samples)
        if message.blocks:
            body["blocks"] = message.blocks
        if message.attachments:
            body["attachments"] = message.attachments
        if message.subtype:
            body["subtype"] = message.subtype
        if reply_broadcast:
            body["subtype"] = "thread_broadcast"
        if message.bot_id:
            body["bot_id"] = message.bot_id
            body["app_id"] = message.app_id
            body["bot_profile"] = self.bot_profile(self.users[message.user])
        if message.thread_ts is not None:
            body["thread_ts"] = message.thread_ts
            if message.is_reply:
                body["parent_user_id"] = self.messages[(message.channel, message.thread_ts)].user
            else:
                body.update(self.thread_summary(message))
        if message.metadata is not None:
            body["metadata"] = message.metadata
        if message.files:
            body["files"] = message.files
        if message.edited is not None:
            body["edited"] = message.edited
        if message.reactions:
            body["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in message.reactions.items()
            ]
        return body

    def thread_summary(self, root: Message) -> dict[str, Any]:
        replies = [self.messages[(root.channel, ts)] for ts in root.reply_ts]
        users = list(dict.fromkeys(reply.user for reply in replies))
        summary: dict[str, Any] = {
            "reply_count": len(replies),
            "reply_users_count": len(users),
            "reply_users": users[:5],
        }
        if replies:
            summary["latest_reply"] = replies[-1].ts
        return summary

    def bot_profile(self, bot: User) -> dict[str, Any]:
        """The bot profile messages carry; only chat.postMessage's echo adds ``user_id``."""
        return {
            "id": bot.bot_id,
            "deleted": False,
            "name": bot.real_name,
            "updated": int(self.clock.wall()),
            "app_id": bot.app_id,
            "icons": {
                "image_36": "https://a.slack-edge.com/bot_36.png",
                "image_48": "https://a.slack-edge.com/bot_48.png",
                "image_72": "https://a.slack-edge.com/bot_72.png",
            },
            "team_id": self.team_id,
        }

    def reaction_event(self, kind: str, message: Message, user: User, name: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": user.id,
            "reaction": name,
            "item_user": message.user,
            "item": {"type": "message", "channel": message.channel, "ts": message.ts},
            "event_ts": self.next_ts(),
        }


def _without_reply_users(message: dict[str, Any]) -> dict[str, Any]:
    """Edit and deletion events summarise a thread by counts only (recorded samples)."""
    return {key: value for key, value in message.items() if key != "reply_users"}
