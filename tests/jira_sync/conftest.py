"""The Jira adapter's tests: the port on the fake Jira (``fake``, ``cloud`` and ``server`` come
from ``tests/jira_fixtures.py``), and a migrated SQLite database for the inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from deskhand.inbox import Inbox
from jira_sync.jira_port import JiraTrackerPort, connect
from sandbox.jira import JiraFake
from storage.engine import make_engine
from storage.migrate import upgrade

pytest.register_assert_rewrite("tests.jira_sync.sites")


def port_for(fake: JiraFake, *, timeout: float = 5) -> JiraTrackerPort:
    """The port as Deskhand builds it: Cloud by email + API token, Server by bearer token."""
    return connect(fake.url, fake.flavour, fake.bot.email, fake.api_token, timeout)


@pytest.fixture
def port(fake: JiraFake) -> JiraTrackerPort:
    return port_for(fake)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    """A SQLite database migrated to the latest revision."""
    upgrade(sqlite_url)
    made = make_engine(sqlite_url)
    yield made
    made.dispose()


@pytest.fixture
def inbox(engine: Engine) -> Inbox:
    return Inbox(engine)
