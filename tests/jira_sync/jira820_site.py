"""jira820 on loopback, a record of what the port sends it, and the fixtures of its tests.

The tests (``test_jira_port_jira820_*.py``) run ``JiraTrackerPort`` (Server flavour) against
``jira820``, a Jira Data Center 8.20 mock written elsewhere, served by uvicorn on loopback.

Every ``TrackerPort`` operation runs through the port as Deskhand builds it (:func:`connect`, a
bearer token, a timeout, no retries). jira820 is a second witness besides our fake: where both
accept what the port sends, the port is not merely fitted to the fake.

Setting: project ``IT``; jira820's own workflow (``Open``, ``In Progress``, ``In Review``,
``Done``, ``Reopened``; any status reaches any other; entering ``Done`` shows a screen with a
resolution); people ``deskhand`` (jira820's ``current_user``, so ``/myself`` and the author of
every comment made over REST) and ``bob``. jira820 does no authentication and makes
``current_user`` the author of every comment whoever calls (see
``tests/sandbox/jira/test_against_jira820.py``); naming the API user ``deskhand`` makes that
coincide with what Jira does for the port's own writes.

Where jira820 falls short of Atlassian's documentation the port is not loosened. A missing
endpoint makes the test of the contract an ``xfail(strict=True)`` that names the error it
fails with; a behaviour that differs has a ``test_gap_*`` asserting what jira820 does and
saying what Jira does instead. Either fails once jira820 changes, so the gap gets revisited.

The gaps (each a jira820 shortcoming, none a port bug):

1. No ``GET /rest/api/2/issue/{key}/comment/{id}`` (jira820 routes only PUT and DELETE there:
   405). Jira has "Get comment" (200, or 404 for a missing issue or comment), so
   ``comment_state`` cannot read a comment, nor say None for a deleted or missing one.
2. A comment's ``visibility`` is dropped: the role-restricted internal note is stored and listed
   as a public comment. Jira stores the visibility and lists it with the comment.
3. Comment ``properties`` are dropped, so a JSM internal note (``sd.public.comment``) is stored
   public. Jira keeps the properties of a created comment ("Optional on create and update").
4. ``/user/search?username=`` matches names and display names only, not e-mail addresses, so
   ``account_for_email`` finds no one. Jira DC's ``username`` parameter matches "username, name
   or e-mail address".
5. Assigning a user who does not exist succeeds (jira820 makes one up, e-mail and all). Jira
   answers 400 when "the user is not found".
6. Any priority name is accepted (listed with id ``"0"``). Jira answers 400 for a value that is
   not one of the field's allowed values.
7. A field the transition screen marks required (jira820's own ``Done`` screen: the
   resolution) is not enforced: without it jira820 moves the issue and fills ``Done``. Jira
   answers 400 naming the field and leaves the issue where it was.
8. An issue's ``updated`` never moves: it is the store's date at 09:00, whatever changes. Jira
   sets it to the time of the last change, which the sync's newer-than guards compare.
9. Posting a remote link again with the same ``globalId`` updates it (right) but answers 201
   both times; Jira answers 201 when it creates the link and 200 when it updates one.

Skipped when jira820 (or its uvicorn) is not installed.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from deskhand.tracker import IssueRef, ticket_label
from jira_sync.jira_port import JiraTrackerPort, connect

jira820 = pytest.importorskip("jira820")
uvicorn = pytest.importorskip("uvicorn")
jira820_config = pytest.importorskip("jira820.config")
jira820_store = pytest.importorskip("jira820.store")

BOT = "deskhand"
TOKEN = "sandbox-token"
PEOPLE = {BOT: "Deskhand", "bob": "Bob Builder"}
REST = "/rest/api/2"


class Jira820Site:
    """jira820 with an empty store for project ``IT``, on a loopback port of its own.

    The store stays in reach for what REST cannot set up on jira820 (a comment by someone else).
    """

    def __init__(self) -> None:
        config = jira820_config.Config(project_key="IT", current_user=BOT)
        self.store: Any = jira820_store.Store(config, seed=False)
        for name, display in PEOPLE.items():
            self.store.users[name] = {"name": name, "displayName": display}
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)  # connections wait in the backlog until uvicorn accepts them
        app = jira820.make_app(store=self.store)
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> Jira820Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()

    def get(self, path: str, **params: str) -> Any:
        """A REST v2 read, outside the port, to see what jira820 holds."""
        response = requests.get(f"{self.url}{REST}{path}", params=params, timeout=5)
        response.raise_for_status()
        return response.json()


@dataclass(frozen=True)
class Sent:
    """One request the port's client sent, and jira820's status for it."""

    method: str
    path: str
    """Below ``/rest/api/2``, without the query."""
    query: dict[str, list[str]]
    json: Any
    status: int


class Wire:
    """Records every request of the port's client (a response hook on its session)."""

    def __init__(self, port: JiraTrackerPort) -> None:
        self.sent: list[Sent] = []
        port.client._session.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        parts = urlsplit(str(request.url))
        body = request.body
        payload = json.loads(body) if isinstance(body, str | bytes) and body else None
        self.sent.append(
            Sent(
                method=str(request.method),
                path=parts.path.removeprefix(REST),
                query=parse_qs(parts.query),
                json=payload,
                status=response.status_code,
            )
        )

    def to(self, method: str, path: str) -> list[Sent]:
        return [s for s in self.sent if s.method == method and s.path == path]


@pytest.fixture
def site() -> Iterator[Jira820Site]:
    with Jira820Site() as started:
        yield started


@pytest.fixture
def port(site: Jira820Site) -> JiraTrackerPort:
    """The port on jira820 as Deskhand builds it for Server: a bearer token (which jira820
    ignores), a timeout and no retries. Overrides the fake's ``port`` of this directory."""
    return connect(site.url, "server", BOT, TOKEN, 5)


@pytest.fixture
def wire(port: JiraTrackerPort) -> Wire:
    return Wire(port)


def create(port: JiraTrackerPort, ticket: int = 42, summary: str = "Printer on fire") -> IssueRef:
    return port.create_issue(
        "IT", "Task", summary, "Reported in Slack", ["deskhand", ticket_label(ticket)], {}
    )


def listed_comments(site: Jira820Site, key: str, **params: str) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = site.get(f"/issue/{key}/comment", **params)["comments"]
    return comments
