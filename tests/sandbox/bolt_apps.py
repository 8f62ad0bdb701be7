"""Stock Bolt apps wired to a SlackFake, as any Slack app would be: the sandbox's first client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from sandbox.httpserver import LoopbackServer
from sandbox.slack.fake import SlackFake
from tests.waiting import DEADLINE


@dataclass
class Heard:
    """What the app's listeners received, with a condition to wait on instead of sleeping."""

    events: list[dict[str, Any]] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, body: dict[str, Any]) -> None:
        with self.changed:
            self.events.append(body["event"])
            self.event_ids.append(body["event_id"])
            self.changed.notify_all()

    def texts(self) -> list[str]:
        return [str(event.get("text")) for event in self.events]

    def wait_for(self, count: int, timeout: float = DEADLINE) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.events) >= count, timeout=timeout)

    def types(self) -> list[str]:
        return [str(e.get("subtype") or e["type"]) for e in self.events]


def echo_app(fake: SlackFake) -> tuple[App, Heard]:
    """A Bolt app that records every message and reaction event it hears."""
    app = App(
        client=WebClient(base_url=fake.api_url, token=fake.bot_token),
        signing_secret=fake.signing_secret,
    )
    heard = Heard()

    @app.event("message")
    def on_message(body: dict[str, Any]) -> None:
        heard.add(body)

    @app.event("reaction_added")
    def on_reaction(body: dict[str, Any]) -> None:
        heard.add(body)

    return app, heard


@contextmanager
def socket_mode(fake: SlackFake, app: App) -> Iterator[SocketModeHandler]:
    server = fake.deliver_socket_mode()
    handler = SocketModeHandler(app, app_token=fake.app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    assert server.wait_for_connection(DEADLINE)
    try:
        yield handler
    finally:
        handler.close()  # type: ignore[no-untyped-call]


@contextmanager
def http_mode(fake: SlackFake, app: App) -> Iterator[LoopbackServer]:
    """Serve ``app`` at /slack/events with Bolt's Flask adapter, and point the fake at it."""
    flask_app = Flask("bolt-under-test")
    handler = SlackRequestHandler(app)

    @flask_app.route("/slack/events", methods=["POST"])
    def events() -> Any:
        return handler.handle(request)

    with LoopbackServer(flask_app) as server:
        fake.deliver_http(f"{server.url}/slack/events")
        yield server
