"""The ports the core talks through; ``bot/`` and ``jira_sync/`` implement them.

Errors are the core's own, so the relays can decide on retries without knowing a vendor:
``RateLimitedError`` (wait ``retry_after`` seconds), ``UnavailableError`` (transient: retry with
backoff), ``UnknownOutcomeError`` (the write may have happened: look it up before retrying) and
``RejectedError`` (permanent: retrying cannot help). ``PacedError`` is a ``RateLimitedError``
raised before the call was made: the port's own pacing asks to come back in ``retry_after``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


class PortError(Exception):
    """A failure talking to Slack or Jira."""


RateLimitScope = Literal["account", "endpoint", "subject"]
"""What a rate limit covers: every call to the service ("account"), calls to the one endpoint
that answered ("endpoint"), or writes to the one thing written to, such as an issue
("subject")."""


class RateLimitedError(PortError):
    """The service asks us to wait ``retry_after`` seconds.

    ``service`` names the service that said so, where the port knows it ("slack", "jira"): a
    relay that pauses a whole target for its account-wide limits pauses it only for its own
    service's answers (a Slack 429 met while carrying out a Jira row is not Jira's limit).
    ``scope`` says which of the service's limits it was, where the service tells (Jira Cloud
    names it in ``RateLimit-Reason``); without word, the whole account's.
    """

    def __init__(
        self,
        retry_after: float,
        detail: str = "",
        *,
        service: str | None = None,
        scope: RateLimitScope = "account",
    ) -> None:
        super().__init__(f"rate limited for {retry_after:g} s {detail}".strip())
        self.retry_after = retry_after
        self.service = service
        self.scope: RateLimitScope = scope


class PacedError(RateLimitedError):
    """Not sent: the port paces its calls to the service's budget, and this one's turn comes
    in ``retry_after`` seconds (it may be well under a second). Nothing was attempted."""


class UnavailableError(PortError):
    """Transient: a 5xx, a refused or reset connection."""


class UnknownOutcomeError(PortError):
    """A write timed out: it may or may not have happened."""


class RejectedError(PortError):
    """The service refused the request for good (bad input, missing permission, gone)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class Person:
    """Someone in Slack, as far as the sync needs them: what to call them, how to find them
    in another system."""

    id: str
    name: str
    email: str | None
    is_bot: bool = False


@dataclass(frozen=True)
class ChatMessage:
    channel: str
    ts: str
    user: str | None
    text: str
    thread_ts: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    is_private: bool
    is_im: bool
    is_member: bool


class ChatPort(Protocol):
    """What the core needs from Slack."""

    def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post a message; its ts. Never unfurls, never pings beyond explicit user mentions."""

    def update(
        self,
        channel: str,
        ts: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None: ...

    def post_ephemeral(self, channel: str, user: str, text: str) -> None: ...

    def open_dm(self, user: str) -> str:
        """The id of the bot's DM with ``user`` (replies there carry this id, not the user's)."""

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        """Show ``view`` as the user's App Home."""

    def message(self, channel: str, ts: str) -> ChatMessage | None:
        """The message, or None if it does not exist (any more) or cannot be seen."""

    def thread(self, channel: str, ts: str) -> list[ChatMessage]:
        """The thread's messages, parent first."""

    def find_tagged(self, channel: str, thread_ts: str | None, tag: str) -> str | None:
        """The ts of the bot's message carrying ``tag`` in its metadata, if it was posted."""

    def channel(self, channel: str) -> ChannelInfo | None: ...

    def channel_id(self, name: str) -> str | None:
        """The id of the channel called ``name`` (without '#'), if the bot can see it."""

    def members(self, channel: str) -> set[str]: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def person(self, user: str) -> Person | None:
        """Name and email of ``user``, or None if there is no such user."""

    def user_by_email(self, email: str) -> str | None:
        """The id of the (human) user with ``email``, if there is one."""
