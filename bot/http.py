"""HTTP mode: Bolt under Flask at ``/slack/events``, for gunicorn or any WSGI server."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler

EVENTS_PATH = "/slack/events"


def flask_app(app: App) -> Flask:
    """A WSGI app that hands Slack's deliveries (events, interactions, commands) to ``app``."""
    web = Flask("deskhand")
    handler = SlackRequestHandler(app)

    @web.post(EVENTS_PATH)
    def slack_events() -> Any:
        return handler.handle(request)

    @web.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok", 200

    return web
