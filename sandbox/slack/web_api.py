"""The Web API over HTTP: ``POST /api/<method>`` as ``slack_sdk.WebClient`` sends it.

Arguments come as form fields, a JSON body (with a Bearer token) or the query string; the token
as ``Authorization: Bearer`` or a ``token`` argument. Errors are HTTP 200 with ``ok: false``,
except rate limits: HTTP 429 with ``Retry-After``, as Slack answers them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from sandbox.faults import Fault, FaultKind, FaultPlan, reset_connection
from sandbox.slack import api_chat, api_conversations, api_people, api_views
from sandbox.slack.errors import SlackError
from sandbox.slack.rate_limits import RateLimiter
from sandbox.slack.state import Token, User, Workspace


@dataclass
class Call:
    """One Web API call as a handler sees it."""

    workspace: Workspace
    method: str
    args: dict[str, Any]
    token: Token
    caller: User | None

    def arg(self, name: str, *, required: bool = True) -> Any:
        value = self.args.get(name)
        if value in (None, "") and required:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
            )
        return value

    def json_arg(self, name: str) -> Any:
        """A structured argument (blocks, view, metadata): JSON text in forms, a value in JSON."""
        value = self.args.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise SlackError(
                    f"invalid_{name}" if name != "view" else "invalid_arguments"
                ) from None
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.args.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true", "yes")

    def user(self) -> User:
        if self.caller is None:
            raise SlackError("not_allowed_token_type")
        return self.caller


Handler = Callable[[Call], dict[str, Any]]


@dataclass
class RecordedCall:
    method: str
    args: dict[str, Any]
    token_kind: str | None
    ok: bool
    error: str | None
    status: int
    at: float = field(default_factory=time.time)


class WebApi:
    """The Web API of one workspace, with its rate limits, faults and a record of every call."""

    def __init__(self, workspace: Workspace, *, rate_limits: bool = True) -> None:
        self.workspace = workspace
        self.limiter = RateLimiter(workspace.clock, enabled=rate_limits)
        self.faults = FaultPlan()
        self.calls: list[RecordedCall] = []
        self._calls_lock = threading.Lock()
        self.methods: dict[str, Handler] = {}
        for module in (api_chat, api_conversations, api_people, api_views):
            module.register(self.methods)
        self.app = Flask("sandbox.slack")
        self.app.config["PROPAGATE_EXCEPTIONS"] = True  # lets a reset fault drop the connection
        self.app.add_url_rule("/api/<method>", "api", self._endpoint, methods=["GET", "POST"])

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def _endpoint(self, method: str) -> Response:
        args = _arguments()
        token, supplied = self._token(args)
        channel = args.get("channel")
        fault = (
            self.faults.take(f"{method}:{channel}", method) if channel else self.faults.take(method)
        )
        if fault is not None and fault.kind is not FaultKind.SUCCEED_THEN_TIMEOUT:
            return self._fault_response(fault, method, args, token)
        status, body, headers = self._handle(method, args, token, supplied=supplied)
        # Recorded when carried out: a call that hangs afterwards keeps its place among the
        # calls made meanwhile (a retry, a lookup), and tests can wait for it to be done.
        self._record(method, args, token, body, status)
        if fault is not None:  # succeed, then make the client give up waiting
            time.sleep(fault.delay)
        return Response(json.dumps(body), status, headers, mimetype="application/json")

    def _handle(
        self, method: str, args: dict[str, Any], token: Token | None, *, supplied: bool
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(HTTP status, body, headers) of one call."""
        handler = self.methods.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        if token is None:
            return 200, {"ok": False, "error": "invalid_auth" if supplied else "not_authed"}, {}
        if (token.kind == "app") != (method == "apps.connections.open"):
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        channel = args.get("channel") if method == "chat.postMessage" else None
        wait = self.limiter.check(method, channel)
        if wait:
            retry_after = self.workspace.clock.retry_after_header(wait)
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after}
        caller = self.workspace.users.get(token.user_id) if token.user_id else None
        try:
            with self.workspace.lock:
                result = handler(Call(self.workspace, method, args, token, caller))
        except SlackError as error:
            return 200, error.body(), {}
        return 200, {"ok": True, **result}, {}

    def _token(self, args: dict[str, Any]) -> tuple[Token | None, bool]:
        """The caller's token, and whether one was supplied at all (else ``not_authed``)."""
        header = request.headers.get("Authorization", "")
        value = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        value = value or args.pop("token", None)
        return (self.workspace.tokens.get(value) if value else None), bool(value)

    def _fault_response(
        self, fault: Fault, method: str, args: dict[str, Any], token: Token | None
    ) -> Response:
        if fault.kind is FaultKind.RESET:
            self._record(method, args, token, {"ok": False, "error": "connection_reset"}, 0)
            reset_connection(request.environ)
        headers: dict[str, str] = {}
        if fault.kind is FaultKind.RATE_LIMIT:
            status, error = 429, "ratelimited"
            headers["Retry-After"] = self.workspace.clock.retry_after_header(fault.retry_after)
        elif fault.kind is FaultKind.TIMEOUT:
            time.sleep(fault.delay)
            status, error = 504, "request_timeout"
        else:
            status, error = fault.status, "internal_error"
        body = {"ok": False, "error": error}
        self._record(method, args, token, body, status)
        return Response(json.dumps(body), status, headers, mimetype="application/json")

    def _record(
        self,
        method: str,
        args: dict[str, Any],
        token: Token | None,
        body: dict[str, Any],
        status: int,
    ) -> None:
        with self._calls_lock:
            self.calls.append(
                RecordedCall(
                    method=method,
                    args=args,
                    token_kind=token.kind if token else None,
                    ok=bool(body.get("ok")),
                    error=body.get("error"),
                    status=status,
                )
            )


def _arguments() -> dict[str, Any]:
    args: dict[str, Any] = dict(request.args.items())
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            args.update(body)
    else:
        args.update(request.form.items())
    return args
