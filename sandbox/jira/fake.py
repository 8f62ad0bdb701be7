"""``JiraFake``: the sandbox Jira, its state, faults, recorded requests and a loopback server."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from sandbox.clock import Clock
from sandbox.faults import FaultPlan
from sandbox.httpserver import LoopbackServer, Startable
from sandbox.jira import routes_issues, routes_site
from sandbox.jira.model import CustomField, Project, User, Workflow
from sandbox.jira.rest import JiraApp, RecordedRequest
from sandbox.jira.state import ChangeListener, Flavour, JiraState

DEFAULT_CUSTOM_FIELDS = (
    CustomField("customfield_10050", "Deskhand ticket"),
    CustomField("customfield_10051", "Support level"),
)


class JiraFake(Startable):
    """A stateful Jira Cloud or Server/Data Center that the real ``jira`` client works against.

    The API user (``bot``) authenticates with Basic ``(bot_email or bot_name, api_token)`` or
    with Bearer ``api_token``; its time zone (``account_timezone``) is the one JQL dates and
    rendered timestamps use, as in Jira.
    """

    def __init__(
        self,
        flavour: Flavour = "cloud",
        clock: Clock | None = None,
        account_timezone: str = "UTC",
        *,
        bot_name: str = "deskhand",
        bot_email: str = "deskhand-bot@example.com",
        api_token: str = "sandbox-token",  # noqa: S107 - a sandbox credential, not a secret
        projects: Iterable[tuple[str, str]] = (("IT", "IT Help"),),
        workflow: Workflow | None = None,
        custom_fields: Iterable[CustomField] = DEFAULT_CUSTOM_FIELDS,
    ) -> None:
        if flavour not in ("cloud", "server"):
            raise ValueError(f"flavour must be 'cloud' or 'server', not {flavour!r}")
        self.clock = clock or Clock()
        self.state = JiraState(
            flavour=flavour, clock=self.clock, workflow=workflow, custom_fields=custom_fields
        )
        self.faults = FaultPlan()
        self.tokens: dict[str, str] = {}
        self.bot = self.add_user(bot_name, bot_email, "Deskhand", account_timezone, token=api_token)
        self.api_token = api_token
        for number, (key, name) in enumerate(projects):
            self.add_project(key, name, project_id=str(10_000 + number))
        self._app = JiraApp(self)
        routes_site.register(self._app)
        routes_issues.register(self._app)
        self._server: LoopbackServer | None = None

    @property
    def flavour(self) -> Flavour:
        return self.state.flavour

    @property
    def wsgi_app(self) -> Any:
        return self._app.flask

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._app.requests

    def add_user(
        self,
        name: str,
        email: str,
        display_name: str,
        time_zone: str = "UTC",
        *,
        token: str | None = None,
    ) -> User:
        """Add a person; with ``token`` they can also call the REST API."""
        user = self.state.add_user(User(name, email, display_name, time_zone))
        if token is not None:
            self.tokens[token] = name
        return user

    def add_project(
        self, key: str, name: str, *, project_id: str | None = None, lead: str | None = None
    ) -> Project:
        ident = project_id or str(10_000 + len(self.state.projects))
        return self.state.add_project(Project(ident, key, name, lead=lead))

    def subscribe(self, listener: ChangeListener) -> None:
        """Call ``listener(event, issue_snapshot, extra)`` after every change (for webhooks)."""
        self.state.subscribe(listener)

    # -- serving ------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is None:
            self._server = LoopbackServer(self.wsgi_app).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Jira is not started")
        return self._server.url
