"""The core's ChatPort on Slack's Web API (slack_sdk's WebClient).

Slack's answers become the core's errors: 429 → RateLimitedError (with Retry-After), 5xx and
connection failures → UnavailableError, a write that timed out → UnknownOutcomeError (the
relay looks for the tagged message before trying again), other errors → RejectedError.

Every call is paced here to Slack's published budget (:mod:`bot.slack_pacing`: per method by
its tier, posts per channel): a call whose turn has not come is not made and raises
PacedError with the seconds until its turn, so the relay or the inbox worker comes back for
it then while other channels and methods keep flowing.
"""

from __future__ import annotations

import threading
import time
import urllib.error
from collections.abc import Callable, Hashable, Iterator
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack_pacing import SlackPacer
from deskhand.ports import (
    ChannelInfo,
    ChatMessage,
    PacedError,
    Person,
    RateLimitedError,
    RejectedError,
    UnavailableError,
    UnknownOutcomeError,
)

PAGE = 200
PERMALINKS_KEPT = 20_000
PEOPLE_TTL = 600.0
"""Seconds a looked-up person is remembered: names and emails rarely change."""
CHANNEL_TTL = 60.0
"""Seconds a channel's ``conversations.info`` is remembered. What Deskhand reads there (name,
privacy) changes rarely, but privacy decides what triage may see, so not for long; a call
that finds the channel gone or closed to the bot forgets it at once."""
CHANNELS_KEPT = 10_000
CHANNEL_GONE = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"}
)
"""Errors of a call on a channel after which what is remembered about it is wrong."""


class SlackChatPort:
    def __init__(
        self,
        client: WebClient,
        *,
        pacer: SlackPacer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.clock = clock
        self.pacer = pacer or SlackPacer(clock)
        self._channel_ids: dict[str, str] = {}
        self._ids_lock = threading.Lock()
        self._people: dict[str, tuple[float, Person | None]] = {}
        self._permalinks: dict[tuple[str, str], str] = {}
        self._channels: dict[str, tuple[float, ChannelInfo]] = {}

    # writes ----------------------------------------------------------------------------------

    def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        tag = ((metadata or {}).get("event_payload") or {}).get("tag")
        request = (channel, thread_ts, str(tag) if tag is not None else hash(text))
        response = self._call(
            "chat.postMessage",
            request,
            lambda: self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            ),
            write=True,
            channel=channel,
        )
        assert response is not None
        return str(response["ts"])

    def update(
        self,
        channel: str,
        ts: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._call(
            "chat.update",
            (channel, ts),
            lambda: self.client.chat_update(
                channel=channel, ts=ts, text=text, blocks=blocks, metadata=metadata
            ),
            write=True,
            channel=channel,
        )

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call(
            "chat.postEphemeral",
            (channel, user, hash(text)),
            lambda: self.client.chat_postEphemeral(channel=channel, user=user, text=text),
            write=True,
            channel=channel,
        )

    def open_dm(self, user: str) -> str:
        response = self._call(
            "conversations.open", user, partial(self.client.conversations_open, users=user)
        )
        assert response is not None
        return str(response["channel"]["id"])

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        self._call(
            "views.publish",
            user,
            partial(self.client.views_publish, user_id=user, view=view),
            write=True,
        )

    # reads -----------------------------------------------------------------------------------

    def message(self, channel: str, ts: str) -> ChatMessage | None:
        # reactions.get returns any one message, a thread reply too, by channel and ts.
        response = self._call(
            "reactions.get",
            (channel, ts),
            lambda: self.client.reactions_get(channel=channel, timestamp=ts, full=False),
            channel=channel,
            missing=("message_not_found", "channel_not_found"),
        )
        return _message(channel, response["message"]) if response is not None else None

    def thread(self, channel: str, ts: str) -> list[ChatMessage]:
        pages = self._pages(
            "conversations.replies",
            self.client.conversations_replies,
            channel=channel,
            ts=ts,
            include_all_metadata=True,
        )
        return [_message(channel, m) for page in pages for m in page["messages"]]

    def find_tagged(self, channel: str, thread_ts: str | None, tag: str) -> str | None:
        if thread_ts is not None:
            candidates = self.thread(channel, thread_ts)
        else:
            response = self._call(
                "conversations.history",
                channel,
                partial(
                    self.client.conversations_history,
                    channel=channel,
                    limit=PAGE,
                    include_all_metadata=True,
                ),
                channel=channel,
            )
            assert response is not None
            candidates = [_message(channel, m) for m in response["messages"]]
        for message in candidates:
            payload = (message.metadata or {}).get("event_payload") or {}
            if payload.get("tag") == tag:
                return message.ts
        return None

    def channel(self, channel: str) -> ChannelInfo | None:
        """The channel's name and privacy; remembered for ``CHANNEL_TTL`` (every reaction in
        a storm asks about its channel). A channel not found is not remembered: the bot may
        be invited any moment."""
        with self._ids_lock:
            entry = self._channels.get(channel)
        if entry is not None and self.clock() - entry[0] <= CHANNEL_TTL:
            return entry[1]
        response = self._call(
            "conversations.info",
            channel,
            lambda: self.client.conversations_info(channel=channel),
            missing=("channel_not_found",),
        )
        if response is None:
            self.forget_channel(channel)
            return None
        info = _channel(response["channel"])
        with self._ids_lock:
            self._channels.pop(channel, None)
            if len(self._channels) >= CHANNELS_KEPT:
                self._channels.pop(next(iter(self._channels)))  # the oldest
            self._channels[channel] = (self.clock(), info)
        return info

    def forget_channel(self, channel: str) -> None:
        """Drop what is remembered about ``channel`` (renamed, made private, bot removed)."""
        with self._ids_lock:
            self._channels.pop(channel, None)

    def channel_id(self, name: str) -> str | None:
        name = name.lstrip("#")
        with self._ids_lock:
            if name in self._channel_ids:
                return self._channel_ids[name]
        pages = self._pages(
            "conversations.list",
            self.client.conversations_list,
            types="public_channel,private_channel",
            exclude_archived=True,
        )
        ids = {c["name"]: c["id"] for page in pages for c in page["channels"] if "name" in c}
        with self._ids_lock:
            self._channel_ids.update(ids)
        return ids.get(name)

    def members(self, channel: str) -> set[str]:
        pages = self._pages(
            "conversations.members", self.client.conversations_members, channel=channel
        )
        return {member for page in pages for member in page["members"]}

    def permalink(self, channel: str, ts: str) -> str | None:
        """A message's permalink; remembered, since it never changes (cards are rendered
        again on every retry, and each render wants the request's link)."""
        with self._ids_lock:
            known = self._permalinks.get((channel, ts))
        if known is not None:
            return known
        response = self._call(
            "chat.getPermalink",
            (channel, ts),
            lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts),
            missing=("message_not_found", "channel_not_found"),
        )
        if response is None:
            return None
        link = str(response["permalink"])
        with self._ids_lock:
            if len(self._permalinks) >= PERMALINKS_KEPT:
                self._permalinks.pop(next(iter(self._permalinks)))  # the oldest
            self._permalinks[(channel, ts)] = link
        return link

    # people ----------------------------------------------------------------------------------

    def person(self, user: str) -> Person | None:
        key = f"id:{user}"
        cached = self._remembered(key)
        if cached is not None:
            return cached[1]
        response = self._call(
            "users.info",
            user,
            lambda: self.client.users_info(user=user),
            missing=("user_not_found",),
        )
        found = _person(response["user"]) if response is not None else None
        self._remember(key, found)
        return found

    def user_by_email(self, email: str) -> str | None:
        key = f"email:{email.casefold()}"
        cached = self._remembered(key)
        if cached is not None:
            return cached[1].id if cached[1] is not None else None
        response = self._call(
            "users.lookupByEmail",
            key,
            lambda: self.client.users_lookupByEmail(email=email),
            missing=("users_not_found",),
        )
        found = _person(response["user"]) if response is not None else None
        self._remember(key, found)
        return found.id if found is not None else None

    def _remembered(self, key: str) -> tuple[float, Person | None] | None:
        with self._ids_lock:
            entry = self._people.get(key)
        if entry is None or self.clock() - entry[0] > PEOPLE_TTL:
            return None
        return entry

    def _remember(self, key: str, person: Person | None) -> None:
        with self._ids_lock:
            self._people[key] = (self.clock(), person)

    # pacing and errors -----------------------------------------------------------------------

    def _pages(
        self, method: str, call: Callable[..., SlackResponse], **arguments: Any
    ) -> Iterator[SlackResponse]:
        """Every page of a cursor-paginated read, each page paced as one call."""
        cursor: str | None = None
        named = tuple(sorted((k, str(v)) for k, v in arguments.items()))
        while True:
            response = self._call(
                method,
                (named, cursor),
                partial(call, limit=PAGE, cursor=cursor, **arguments),
                channel=arguments.get("channel"),
            )
            assert response is not None
            yield response
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def _call(
        self,
        method: str,
        request: Hashable,
        call: Callable[[], SlackResponse],
        *,
        write: bool = False,
        channel: str | None = None,
        missing: tuple[str, ...] = (),
    ) -> SlackResponse | None:
        """Make one Web API call when its turn comes, turning Slack's failures into the core's
        errors; an error code in ``missing`` means "not there" and gives None. ``request``
        names the call for the pacer: asked again, the same request gets the turn held for
        it. ``channel`` is the channel the call is about (posts are paced per channel; an
        error saying the channel is gone forgets what is remembered about it)."""
        wait = self.pacer.take(method, (method, request), channel=channel)
        if wait:
            raise PacedError(wait, f"pacing {method}", service="slack")
        try:
            return call()
        except SlackApiError as exc:
            status = exc.response.status_code
            code = str(exc.response.get("error", ""))
            if status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", "1"))
                self.pacer.pause(method, retry_after, channel=channel)
                raise RateLimitedError(retry_after, code, service="slack") from exc
            if status >= 500:
                raise UnavailableError(f"Slack answered {status}") from exc
            if channel is not None and code in CHANNEL_GONE:
                self.forget_channel(channel)
            if code in missing:
                return None
            raise RejectedError(code or f"http_{status}") from exc
        except TimeoutError as exc:
            if write:
                raise UnknownOutcomeError("Slack did not answer in time") from exc
            raise UnavailableError("Slack did not answer in time") from exc
        except (urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            if write and isinstance(reason, TimeoutError):
                raise UnknownOutcomeError("Slack did not answer in time") from exc
            raise UnavailableError(f"cannot reach Slack: {reason}") from exc


def _message(channel: str, body: dict[str, Any]) -> ChatMessage:
    return ChatMessage(
        channel=channel,
        ts=str(body["ts"]),
        user=body.get("user"),
        text=str(body.get("text", "")),
        thread_ts=body.get("thread_ts"),
        bot_id=body.get("bot_id"),
        subtype=body.get("subtype"),
        files=list(body.get("files") or []),
        metadata=body.get("metadata"),
    )


def _channel(body: dict[str, Any]) -> ChannelInfo:
    return ChannelInfo(
        id=str(body["id"]),
        name=str(body.get("name", "")),
        is_private=bool(body.get("is_private") or body.get("is_im")),
        is_im=bool(body.get("is_im")),
        is_member=bool(body.get("is_member", True)),
    )


def _person(body: dict[str, Any]) -> Person:
    profile = body.get("profile") or {}
    name = (
        profile.get("real_name")
        or body.get("real_name")
        or profile.get("display_name")
        or body.get("name")
        or body["id"]
    )
    return Person(
        id=str(body["id"]),
        name=str(name),
        email=profile.get("email") or None,
        is_bot=bool(body.get("is_bot")),
    )
