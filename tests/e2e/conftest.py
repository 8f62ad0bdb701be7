"""Deskhand running against the sandbox, over real HTTP and WebSocket, on both databases."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.http import EVENTS_PATH
from deskhand.config import Config, parse_config
from deskhand.config.schema import JiraFlavour
from deskhand.wiring import Deskhand, build
from sandbox.httpserver import LoopbackServer
from sandbox.world import SandboxWorld
from storage.models import Ticket
from tests.waiting import DEADLINE
from tests.waiting import eventually as eventually

CONFIG = """\
slack:
  request_channels: [help, help-private]
  emoji_creators: agents
teams:
  - {name: IT, key_prefix: IT, triage_channel: it-triage}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage}
"""


@dataclass
class Running:
    world: SandboxWorld
    deskhand: Deskhand
    web_url: str
    """Deskhand's HTTP side (Slack events in HTTP mode, Jira webhooks)."""

    def settle(self) -> None:
        """Wait until the sandbox has delivered everything and Deskhand has acted on it.

        Each wait ends as soon as all is quiet; the deadline only bounds a hang. Work paced
        at Slack's real rate (a storm at ``Clock(speed=1)``) takes seconds, more on a loaded
        machine, so the deadline is far longer than any of it."""
        transport = self.world.slack.transport()
        assert transport.wait_idle(DEADLINE)
        assert self.deskhand.wait_idle(DEADLINE)
        assert transport.wait_idle(DEADLINE)  # Deskhand's own posts come back as events
        assert self.deskhand.wait_idle(DEADLINE)

    def tickets(self) -> list[Ticket]:
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        with Session(self.deskhand.tickets.engine) as session:
            return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def config_for(world: SandboxWorld, text: str = CONFIG) -> Config:
    """``text`` pointed at the sandbox: its Slack, and its Jira when the text has a jira
    section (whose url, flavour and account the sandbox decides)."""
    config = parse_config(text)
    update: dict[str, Any] = {
        "slack": config.slack.model_copy(update={"api_url": world.slack.api_url})
    }
    if config.jira is not None:
        update["jira"] = config.jira.model_copy(
            update={
                "url": world.jira.url,
                "flavour": JiraFlavour(world.jira.flavour),
                "account": world.jira.bot.email,
            }
        )
    return config.model_copy(update=update)


@pytest.fixture(params=["socket", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    """Both of Slack's transports: Socket Mode and the Events API over HTTP."""
    return str(request.param)


@pytest.fixture
def config_text() -> str:
    """The configuration Deskhand runs with; a test module may override this fixture."""
    return CONFIG


@pytest.fixture
def extra_public_channels() -> list[str]:
    """Public channels (with the bot) to add to the sandbox; a module may override it."""
    return []


@pytest.fixture
def build_options() -> dict[str, Any]:
    """Extra arguments for ``deskhand.wiring.build``; a test module may override it."""
    return {}


@pytest.fixture
def running(
    sandbox_world: SandboxWorld,
    database_url: str,
    transport: str,
    config_text: str,
    extra_public_channels: list[str],
    build_options: dict[str, Any],
) -> Iterator[Running]:
    """Deskhand against the sandbox, on SQLite and PostgreSQL, over each transport."""
    ws = sandbox_world.slack.workspace
    ws.add_channel("hr-triage", private=True, members=[ws.bot])
    people = [ws.find_user(name) for name in ("alice", "bob")]
    ws.add_channel("help-private", private=True, members=[ws.bot, *filter(None, people)])
    for name in extra_public_channels:
        ws.add_channel(name, members=[ws.bot])
    with serving(sandbox_world, database_url, transport, config_text, **build_options) as running:
        yield running


@contextlib.contextmanager
def serving(
    world: SandboxWorld,
    database_url: str,
    transport: str,
    config_text: str = CONFIG,
    **build_options: Any,
) -> Iterator[Running]:
    """Deskhand built for ``world`` and connected to it over ``transport`` ('socket' or
    'http'), stopped again afterwards."""
    http = transport == "http"
    deskhand = build(
        config_for(world, config_text),
        bot_token=world.slack.bot_token,
        signing_secret=world.slack.signing_secret if http else None,
        database_url=database_url,
        jira_token=world.jira.api_token,
        **build_options,
    )
    deskhand.start()
    with contextlib.ExitStack() as stack:
        stack.callback(deskhand.stop)
        # The HTTP side runs in both transports: in Socket Mode it takes Jira's webhooks.
        server = stack.enter_context(LoopbackServer(deskhand.web_app()))
        if http:
            world.slack.deliver_http(f"{server.url}{EVENTS_PATH}")
        else:
            socket_server = world.slack.deliver_socket_mode()
            deskhand.connect_socket_mode(world.slack.app_token)
            assert socket_server.wait_for_connection(DEADLINE)
        yield Running(world, deskhand, server.url)
