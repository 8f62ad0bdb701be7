"""What the app receives: which events it may see, and the record of every delivery attempt.

Slack delivers an event only when the app subscribes to it and can see where it happened: a
message or reaction in a channel the bot is a member of, a DM with the bot, the bot's own Home.
Transports (HTTP Events API, Socket Mode) implement :class:`Transport`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox.slack.envelopes import event_callback
from sandbox.slack.state import Workspace

RETRY_DELAYS = (0.0, 60.0, 300.0)
"""Slack retries a failed event delivery about immediately, after 1 minute and after 5."""
ACK_TIMEOUT = 3.0
"""Real seconds Slack waits for a 2xx (or a Socket Mode ack) before it counts a failure; not
scaled by the sandbox clock, because it is the app under test that must meet it."""


@dataclass
class Attempt:
    """One try at delivering one payload."""

    key: str
    """The event_id, or the interaction's kind and trigger."""
    retry_num: int
    outcome: str
    """'acked', 'http_timeout', 'http_error', 'connection_failed', 'dropped' or 'no_connection'."""
    status: int | None = None
    elapsed: float = 0.0
    at: float = field(default_factory=time.time)


@dataclass
class Reply:
    """The app's answer to an interaction or slash command (the ack's body)."""

    status: int
    body: Any
    elapsed: float


class Transport(Protocol):
    def deliver_event(self, envelope: dict[str, Any]) -> None:
        """Send an event_callback in the background, retrying as Slack does."""

    def deliver_interaction(self, kind: str, payload: dict[str, Any]) -> Reply:
        """Send an interaction ('interactive') or slash command ('slash_commands') and wait."""

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is in flight; False on timeout."""

    def close(self) -> None: ...


class InFlight:
    """Counts deliveries in flight so tests can wait for quiet instead of sleeping."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def begin(self) -> None:
        with self._idle:
            self._count += 1

    def end(self) -> None:
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout)


def _event_channel(event: dict[str, Any]) -> str | None:
    if "channel" in event and isinstance(event["channel"], str):
        return event["channel"]
    item = event.get("item")
    if isinstance(item, dict) and isinstance(item.get("channel"), str):
        return str(item["channel"])
    return None


def visible_to_app(workspace: Workspace, event: dict[str, Any]) -> bool:
    """Whether Slack would send this event to the app (bot scopes, channel membership)."""
    if event.get("type") == "app_home_opened":
        return True
    channel_id = _event_channel(event)
    if channel_id is None:
        return False
    channel = workspace.channels.get(channel_id)
    return channel is not None and workspace.bot.id in channel.members


class EventRouter:
    """Listens to the workspace and hands the app's events to the current transport."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.transport: Transport | None = None
        self.delivered: list[dict[str, Any]] = []
        self.hold: Callable[[dict[str, Any]], bool] | None = None
        """A test hook: return True to keep an event from being sent (lost by Slack)."""
        workspace.subscribe(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:
        if self.transport is None or not visible_to_app(self.workspace, event):
            return
        envelope = event_callback(self.workspace, event)
        self.delivered.append(envelope)
        if self.hold is not None and self.hold(envelope):
            return
        self.transport.deliver_event(envelope)
