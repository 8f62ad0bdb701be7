"""HTTP mode: Bolt under Flask at ``/slack/events``, for gunicorn or any WSGI server."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler

from bot.app import EVENTS_PATH
from bot.events_ingest import EventsIngest

__all__ = ["EVENTS_PATH", "flask_app"]


def flask_app(app: App, ingest: EventsIngest | None = None) -> Flask:
    """A WSGI app that hands Slack's deliveries (events, interactions, commands) to ``app``,
    event deliveries by way of ``ingest``, the fast path, when given (see
    :mod:`bot.events_ingest`)."""
    web = Flask("deskhand")
    handler = SlackRequestHandler(app)
    if ingest is not None:
        web.wsgi_app = ingest.wrap(web.wsgi_app)  # type: ignore[method-assign, assignment]

    @web.post(EVENTS_PATH)
    def slack_events() -> Any:
        return handler.handle(request)

    @web.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok", 200

    return web
