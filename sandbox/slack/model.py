"""The workspace's records: people and bots, channels, messages, views, triggers, tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None
    tz: str = "UTC"
    is_bot: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    deleted: bool = False


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    created: int = 0
    creator: str = ""
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    metadata: dict[str, Any] | None = None
    subtype: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    reply_ts: list[str] = field(default_factory=list)
    edited: dict[str, str] | None = None
    unfurl_links: bool = True
    unfurl_media: bool = True

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class View:
    id: str
    team_id: str
    app_id: str
    bot_id: str
    user_id: str
    body: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    state: dict[str, Any] = field(default_factory=lambda: {"values": {}})


@dataclass
class Trigger:
    id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class Token:
    value: str
    kind: str
    """'bot', 'user' or 'app' (xapp- tokens only open Socket Mode connections)."""
    user_id: str | None = None
