"""The Flask app: routing under ``/rest/api/{2,3,latest}``, auth, faults and request recording.

Handlers live in ``routes_issues`` and ``routes_site``; each is registered with its route
template (``POST /issue/{key}/comment``), which is also the key a test arms a fault with.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from sandbox.faults import Fault, FaultKind, reset_connection
from sandbox.jira.errors import NOT_AUTHENTICATED, JiraError
from sandbox.jira.model import User
from sandbox.jira.render import Renderer

if TYPE_CHECKING:
    from sandbox.jira.fake import JiraFake

RECORDED_HEADERS = ("Content-Type", "Accept", "User-Agent", "X-Atlassian-Token")
VERSIONS = ("2", "3", "latest")


@dataclass
class RecordedRequest:
    method: str
    path: str
    route: str | None
    """The fault key, e.g. ``POST /issue/{key}/comment``; None for unknown paths."""
    query: dict[str, list[str]]
    json: Any
    headers: dict[str, str]
    status: int = 0
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)
    """When the request arrived (Unix time)."""


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """What a handler needs: the caller, a renderer for its API version, the request parts."""

    fake: JiraFake
    actor: User
    render: Renderer
    body: Any
    args: dict[str, list[str]]

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.args.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise JiraError(
                400, [f"The value '{raw}' is not a valid number for '{name}'."]
            ) from exc

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise JiraError(400, ["Can not deserialize the request body: a JSON object is needed."])
        return self.body


Handler = Callable[..., Reply]


def _json_response(reply: Reply) -> Response:
    if reply.body is None:
        response = Response(status=reply.status)
    else:
        response = Response(
            json.dumps(reply.body), status=reply.status, mimetype="application/json"
        )
    for name, value in reply.headers.items():
        response.headers[name] = value
    return response


class JiraApp:
    """Builds the Flask app for one fake and records every request it sees."""

    def __init__(self, fake: JiraFake) -> None:
        self.fake = fake
        self.flask = Flask("sandbox.jira")
        self.flask.config["PROPAGATE_EXCEPTIONS"] = True
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self.flask.register_error_handler(HTTPException, self._http_error)
        self.flask.add_url_rule(
            "/rest/applinks/latest/listApplicationlinks",
            "applinks",
            lambda: self._dispatch("GET /applinks", lambda ctx: Reply(body=[]), {}),
        )

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        """Register ``handler(ctx, **path_params)`` for ``method`` and ``template``."""
        rule = "/rest/api/<any('2', '3', latest):version>" + template.replace("{", "<").replace(
            "}", ">"
        )
        key = f"{method} {template}"

        def register(handler: Handler) -> Handler:
            def view(version: str, **params: str) -> Response:
                return self._dispatch(key, handler, params, version)

            self.flask.add_url_rule(rule, key, view, methods=[method])
            return handler

        return register

    def _record(self, key: str | None) -> RecordedRequest:
        headers = {n: request.headers[n] for n in RECORDED_HEADERS if n in request.headers}
        auth = request.headers.get("Authorization")
        if auth:
            headers["Authorization"] = auth.split(" ", 1)[0]
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            route=key,
            query={k: request.args.getlist(k) for k in request.args},
            json=request.get_json(silent=True),
            headers=headers,
        )
        with self._lock:
            self.requests.append(record)
        return record

    def _authenticate(self) -> User | None:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "bearer":
            name = self.fake.tokens.get(credential.strip())
            return self.fake.state.users.get(name) if name else None
        if scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(credential).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            for user in self.fake.state.users.values():
                if login in (user.name, user.email) and self.fake.tokens.get(secret) == user.name:
                    return user
        return None

    def _dispatch(
        self,
        key: str,
        handler: Handler,
        params: dict[str, str],
        version: str = "latest",
    ) -> Response:
        record = self._record(key)
        reply = self._reply(key, handler, params, version, record)
        record.status = reply.status
        record.response = reply.body
        record.response_headers = dict(reply.headers)
        return _json_response(reply)

    def _reply(
        self,
        key: str,
        handler: Handler,
        params: dict[str, str],
        version: str,
        record: RecordedRequest,
    ) -> Reply:
        actor = self._authenticate()
        if actor is None:
            return Reply(
                401,
                JiraError(401, [NOT_AUTHENTICATED]).body(),
                {"WWW-Authenticate": 'Basic realm="protected-area"'},
            )
        fault = self.fake.faults.take(key)
        if fault is not None and fault.kind != FaultKind.SUCCEED_THEN_TIMEOUT:
            return self._fail(fault)
        host = request.host_url.rstrip("/")
        ctx = Ctx(
            self.fake,
            actor,
            Renderer(self.fake.state, host, version, actor.time_zone),
            record.json,
            record.query,
        )
        try:
            reply = handler(ctx, **params)
        except JiraError as exc:
            reply = Reply(exc.status, exc.body())
        if fault is not None:
            time.sleep(fault.delay)
        return reply

    def _fail(self, fault: Fault) -> Reply:
        if fault.kind == FaultKind.RATE_LIMIT:
            headers = {"Retry-After": self.fake.clock.retry_after_header(fault.retry_after)}
            if fault.reason:
                headers["RateLimit-Reason"] = fault.reason
            return Reply(429, JiraError(429, ["Rate limit exceeded."]).body(), headers)
        if fault.kind == FaultKind.TIMEOUT:
            time.sleep(fault.delay)
            return Reply(504, JiraError(504, ["Gateway timeout."]).body())
        if fault.kind == FaultKind.RESET:
            reset_connection(request.environ)
        return Reply(fault.status, JiraError(fault.status, ["Internal server error."]).body())

    def _http_error(self, exc: HTTPException) -> Response:
        """Unknown paths and methods answer in Jira's error shape too."""
        self._record(None).status = exc.code or 500
        message = "null for uri: " + request.url if exc.code == 404 else str(exc.description)
        return _json_response(Reply(exc.code or 500, JiraError(exc.code or 500, [message]).body()))
