"""Vendor-neutral events: what the adapters turn Slack and Jira deliveries into.

Each is stored in the inbox as a plain dict (``payload()``) under its kind, and rebuilt for
the handler (``from_payload``), so the core never reads a vendor's payload.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Event:
    KIND: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in payload.items() if key in names})


@dataclass(frozen=True)
class ReactionAdded(Event):
    """Someone put an emoji on a message."""

    KIND: ClassVar[str] = "reaction_added"
    user: str
    emoji: str
    channel: str
    ts: str
    item_user: str | None = None


@dataclass(frozen=True)
class CardAction(Event):
    """Someone pressed a button or chose in a menu on one of a ticket's cards."""

    KIND: ClassVar[str] = "card_action"
    user: str
    ticket_id: int
    action: str
    """The action id (see bot/ids.py): claim, assign, set_status, close_ticket, …"""
    value: str | None
    channel: str | None
    """Where the card is, for an ephemeral answer."""
    ref: str = ""
    """The delivery's own id (Slack's trigger_id), naming what the click causes."""


@dataclass(frozen=True)
class ThreadReply(Event):
    """A person replied in a thread (the requester's, or a triage card's)."""

    KIND: ClassVar[str] = "thread_reply"
    user: str
    channel: str
    ts: str
    thread_ts: str
    text: str
    files: list[str] = dataclasses.field(default_factory=list)
    """Links to files shared with the reply."""


@dataclass(frozen=True)
class HomeOpened(Event):
    """Someone opened Deskhand's App Home."""

    KIND: ClassVar[str] = "home_opened"
    user: str


@dataclass(frozen=True)
class RequestSubmitted(Event):
    """Someone filled and submitted the request form (the /helpdesk modal), already checked."""

    KIND: ClassVar[str] = "request_submitted"
    user: str
    team: str
    title: str
    description: str
    priority: str
    service: str | None
    fields: dict[str, str]
    """Form answers by field id: text, an option, a user id or an ISO date."""
    channel: str | None
    """Where the command was run, for a confirmation there if the DM fails."""
    ref: str
    """The submission's own id (view id and hash): one ticket per submission."""


@dataclass(frozen=True)
class MessageShortcut(Event):
    """Someone used the "Create ticket" shortcut on a message."""

    KIND: ClassVar[str] = "message_shortcut"
    user: str
    channel: str
    ts: str
    ref: str = ""


@dataclass(frozen=True)
class DirectMessage(Event):
    """A top-level message someone sent the bot in their DM with it."""

    KIND: ClassVar[str] = "direct_message"
    user: str
    channel: str
    ts: str


@dataclass(frozen=True)
class ChannelMessage(Event):
    """A top-level message by a person in a channel the bot is in."""

    KIND: ClassVar[str] = "channel_message"
    user: str
    channel: str
    ts: str
    text: str = ""
    """The message as posted (what ``message.posted`` recipes read)."""


@dataclass(frozen=True)
class DmTicketRequested(Event):
    """Someone pressed "Create ticket" under their DM to the bot."""

    KIND: ClassVar[str] = "dm_ticket_requested"
    user: str
    channel: str
    ts: str
    """The DM message to make a ticket of."""
    ref: str = ""


@dataclass(frozen=True)
class ReplyToRequester(Event):
    """An agent used "Reply to requester" on a message in a triage thread: send its text to
    the requester's thread as a public reply."""

    KIND: ClassVar[str] = "reply_to_requester"
    user: str
    """Who used the shortcut."""
    channel: str
    ts: str
    thread_ts: str | None
    text: str
    ref: str = ""


@dataclass(frozen=True)
class JiraIssueSeen(Event):
    """Jira's state of an issue as a webhook or the poller saw it.

    The core applies it only where it is newer (``updated``) than the last state it applied and
    differs from the ticket, so duplicates, reordered webhooks and the poller's overlapping
    windows change nothing twice.
    """

    KIND: ClassVar[str] = "jira_issue_seen"
    issue_key: str
    updated: str
    """Jira's ``fields.updated``, ISO 8601 with an offset."""
    actor: str | None
    """Who made the change (Cloud account id, Server username); None when polled."""
    status: str | None
    """The status's name."""
    priority: str | None
    """The priority's name."""
    assignee: str | None
    """Cloud account id or Server username; None when unassigned."""
    assignee_name: str | None = None
    assignee_email: str | None = None
    deleted: bool = False
    """The issue was deleted in Jira."""


@dataclass(frozen=True)
class JiraCommentSeen(Event):
    """A comment of an issue as a webhook or the poller saw it (created, edited or deleted)."""

    KIND: ClassVar[str] = "jira_comment_seen"
    issue_key: str
    comment_id: str
    updated: str
    """The comment's ``updated``, ISO 8601 with an offset."""
    author: str | None
    """Cloud account id or Server username of the comment's author."""
    author_name: str
    body: str
    """Jira wiki markup, as written."""
    internal: bool
    """A JSM internal comment (``jsdPublic: false``) or one restricted by a visibility."""
    deleted: bool = False


@dataclass(frozen=True)
class ThreadReplyChanged(Event):
    """A person edited or deleted their reply in a thread."""

    KIND: ClassVar[str] = "thread_reply_changed"
    channel: str
    ts: str
    """The reply's own ts (it stays the same through edits)."""
    text: str | None
    """The new text; None when the reply was deleted."""
    edited_ts: str | None = None
    """Slack's ``edited.ts`` of this version, to order edits."""
