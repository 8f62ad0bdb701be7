"""``SlackFake``: a workspace, its Web API on loopback, and delivery to the app under test."""

from __future__ import annotations

from typing import Self

from sandbox.clock import Clock
from sandbox.httpserver import LoopbackServer, Startable
from sandbox.slack.delivery import EventRouter, Transport
from sandbox.slack.driver import SlackDriver
from sandbox.slack.http_delivery import HttpDelivery
from sandbox.slack.signing import Signing
from sandbox.slack.socket_mode import SocketModeServer
from sandbox.slack.state import SANDBOX_SIGNING_SECRET, Workspace
from sandbox.slack.web_api import WebApi


class SlackFake(Startable):
    """A running fake Slack.

    ``api_url`` is what ``WebClient(base_url=…)`` takes. Events and interactions reach the app
    through :meth:`deliver_http` (Events API to a request URL, signed) or
    :meth:`deliver_socket_mode` (``apps.connections.open`` hands out a local WebSocket URL).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        rate_limits: bool = True,
        signing_secret: str = SANDBOX_SIGNING_SECRET,
    ) -> None:
        self.clock = clock or Clock()
        self.workspace = Workspace(clock=self.clock)
        self.web = WebApi(self.workspace, rate_limits=rate_limits)
        self.router = EventRouter(self.workspace)
        self.signing_secret = signing_secret
        self.driver = SlackDriver(self)
        self.socket_mode: SocketModeServer | None = None
        self.http: HttpDelivery | None = None
        self._server = LoopbackServer(self.web.app)

    @property
    def api_url(self) -> str:
        return f"{self._server.url}/api/"

    @property
    def bot_token(self) -> str:
        return self.workspace.bot_token

    @property
    def app_token(self) -> str:
        return self.workspace.app_token

    def deliver_http(self, request_url: str, *, signing: Signing = Signing.VALID) -> HttpDelivery:
        """Send events, interactions and commands to ``request_url`` as Slack's HTTP would."""
        self._close_transport()
        self.http = HttpDelivery(request_url, self.signing_secret, self.clock, signing=signing)
        self.router.transport = self.http
        return self.http

    def deliver_socket_mode(self) -> SocketModeServer:
        """Serve Socket Mode; the app connects through ``apps.connections.open``."""
        self._close_transport()
        self.socket_mode = SocketModeServer(self.workspace, self.clock).start()
        self.router.transport = self.socket_mode
        return self.socket_mode

    def transport(self) -> Transport:
        if self.router.transport is None:
            raise RuntimeError("no delivery set up: call deliver_http() or deliver_socket_mode()")
        return self.router.transport

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._close_transport()
        self._server.stop()

    def _close_transport(self) -> None:
        if self.router.transport is not None:
            self.router.transport.close()
        self.router.transport = None
        self.http = None
        self.socket_mode = None
