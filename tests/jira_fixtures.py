"""The fake Jira for tests, loaded suite-wide as a pytest plugin (see ``tests/conftest.py``).

Fixtures: ``fake`` (each flavour in turn), ``cloud``, ``server`` and ``client`` (the real
``jira`` client on ``fake``). Helpers: :func:`make_fake`, :func:`connect`, :func:`new_issue`,
:func:`giving_up_after` and the error accessors. A directory's own conftest may still
override a fixture here, e.g. with a faster clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jira
import pytest
import requests

from sandbox.jira import JiraFake

BOT_EMAIL = "deskhand-bot@example.com"
TOKEN = "sandbox-token"


def connect(fake: JiraFake, *, timeout: float = 5, token: bool = False) -> Any:
    """The real client as Deskhand builds it: a timeout and no silent retries."""
    if token:
        return jira.JIRA(server=fake.url, token_auth=TOKEN, timeout=timeout, max_retries=0)
    login = BOT_EMAIL if fake.flavour == "cloud" else "deskhand"
    return jira.JIRA(server=fake.url, basic_auth=(login, TOKEN), timeout=timeout, max_retries=0)


@contextmanager
def giving_up_after(client: Any, seconds: float) -> Iterator[None]:
    """Inside the block, ``client`` (a ``jira.JIRA``) gives up on an answer after ``seconds``:
    for a call a fault holds up. A client built with that short a timeout would also have
    asked ``/serverInfo`` under it while connecting, which a loaded machine can miss."""
    session = client._session  # jira's ResilientSession: one timeout for every request
    before = session.timeout
    session.timeout = seconds
    try:
        yield
    finally:
        session.timeout = before


def raw_session() -> requests.Session:
    session = requests.Session()
    session.auth = (BOT_EMAIL, TOKEN)
    return session


def make_fake(flavour: str, **kwargs: Any) -> JiraFake:
    """A fake Jira (not started) with two people besides the bot: bob and alice."""
    fake = JiraFake(flavour, **kwargs)  # type: ignore[arg-type]
    fake.add_user("bob", "bob@example.com", "Bob Builder", "Europe/Berlin")
    fake.add_user("alice", "alice@example.com", "Alice Agent", "America/New_York")
    return fake


def new_issue(client: Any, summary: str = "Printer on fire", **fields: Any) -> Any:
    return client.create_issue(
        fields={"project": {"key": "IT"}, "issuetype": {"name": "Task"}, "summary": summary}
        | fields
    )


def error_response(caught: pytest.ExceptionInfo[jira.JIRAError]) -> requests.Response:
    response = caught.value.response
    assert response is not None
    return response


def error_json(caught: pytest.ExceptionInfo[jira.JIRAError]) -> Any:
    return error_response(caught).json()


@pytest.fixture(params=["cloud", "server"])
def fake(request: pytest.FixtureRequest) -> Iterator[JiraFake]:
    with make_fake(request.param) as started:
        yield started


@pytest.fixture
def cloud() -> Iterator[JiraFake]:
    with make_fake("cloud") as started:
        yield started


@pytest.fixture
def server() -> Iterator[JiraFake]:
    with make_fake("server") as started:
        yield started


@pytest.fixture
def client(fake: JiraFake) -> Any:
    return connect(fake)
