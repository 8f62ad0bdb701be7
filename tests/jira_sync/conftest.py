"""The Jira port against the sandbox's fake Jira, on both flavours."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jira_sync.jira_port import JiraTrackerPort, connect
from sandbox.jira import JiraFake
from tests.sandbox.jira.conftest import make_fake


def port_for(fake: JiraFake, *, timeout: float = 5) -> JiraTrackerPort:
    """The port as Deskhand builds it: Cloud by email + API token, Server by bearer token."""
    return connect(fake.url, fake.flavour, fake.bot.email, fake.api_token, timeout)


@pytest.fixture(params=["cloud", "server"])
def fake(request: pytest.FixtureRequest) -> Iterator[JiraFake]:
    with make_fake(request.param) as started:
        yield started


@pytest.fixture
def cloud() -> Iterator[JiraFake]:
    with make_fake("cloud") as started:
        yield started


@pytest.fixture
def port(fake: JiraFake) -> JiraTrackerPort:
    return port_for(fake)
