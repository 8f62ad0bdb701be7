"""The same client-level checks against the fake (Server flavour) and ``jira820`` side by side.

``jira820`` (PyPI, MIT) is a Jira Data Center 8.20.8 mock written elsewhere: a FastAPI app
served here by uvicorn on loopback. Its workflow and seed data are its own (statuses ``Open``,
``To Done``…), so the shared checks pick transitions by status category, not by name. Every
difference found is a bug in one of the two and has its own ``test_difference_*`` below that
says which side is wrong and why (with the Jira documentation's reasoning); each asserts both
sides, so a fix on either side makes it fail and get revisited. Skipped when jira820 (and its
uvicorn) are not installed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import jira
import pytest
import requests

from sandbox.jira import JiraFake
from tests.sandbox.jira.conftest import connect, make_fake

jira820 = pytest.importorskip("jira820")
uvicorn = pytest.importorskip("uvicorn")
jira820_config = pytest.importorskip("jira820.config")
jira820_store = pytest.importorskip("jira820.store")

LOGIN = ("deskhand", "sandbox-token")
ISSUE = {"project": {"key": "IT"}, "issuetype": {"name": "Task"}, "summary": "Printer on fire"}


class Jira820Server:
    """jira820 with an empty store for project ``IT``, on a loopback port of its own."""

    def __init__(self) -> None:
        store = jira820_store.Store(jira820_config.Config(project_key="IT"), seed=False)
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)  # connections wait in the backlog until uvicorn accepts them
        config = uvicorn.Config(jira820.make_app(store=store), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> Jira820Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()


@pytest.fixture
def fake_server() -> Iterator[JiraFake]:
    with make_fake("server") as started:
        yield started


@pytest.fixture
def other() -> Iterator[Jira820Server]:
    with Jira820Server() as started:
        yield started


def client_for(url: str) -> Any:
    return jira.JIRA(server=url, basic_auth=LOGIN, timeout=5, max_retries=0)


@pytest.fixture(params=["fake", "jira820"])
def either(request: pytest.FixtureRequest) -> Any:
    """A connected client to the fake (Server flavour) or to jira820."""
    if request.param == "fake":
        return connect(request.getfixturevalue("fake_server"))
    return client_for(request.getfixturevalue("other").url)


def to_category(client: Any, issue: Any, category: str) -> dict[str, Any]:
    return next(
        t for t in client.transitions(issue) if t["to"]["statusCategory"]["key"] == category
    )


# -- the shared checks ------------------------------------------------------------------------


def test_create_and_get(either: Any) -> None:
    issue = either.create_issue(fields=ISSUE | {"description": "Smoke", "labels": ["hw"]})
    assert issue.key == "IT-1"
    again = either.issue("IT-1")
    assert again.id == issue.id
    assert (again.fields.summary, again.fields.description) == ("Printer on fire", "Smoke")
    assert again.fields.labels == ["hw"]
    assert again.fields.status.statusCategory.key == "new"
    assert again.fields.resolution is None
    with pytest.raises(jira.JIRAError) as caught:
        either.issue("IT-99")
    assert caught.value.status_code == 404


def test_comment_round_trip(either: Any) -> None:
    issue = either.create_issue(fields=ISSUE)
    comment = either.add_comment(issue, "Have you tried turning it off?")
    assert comment.body == "Have you tried turning it off?"
    listed = either.comments(issue)
    assert [(c.id, c.body) for c in listed] == [(comment.id, comment.body)]
    comment.delete()
    assert either.comments(issue) == []


def test_transition_to_done_and_back(either: Any) -> None:
    issue = either.create_issue(fields=ISSUE)
    done = to_category(either, issue, "done")
    either.transition_issue(issue, done["id"], fields={"resolution": {"name": "Won't Do"}})
    resolved = either.issue(issue.key)
    assert resolved.fields.status.statusCategory.key == "done"
    assert resolved.fields.resolution.name == "Won't Do"
    assert resolved.fields.resolutiondate is not None
    back = next(t for t in either.transitions(issue) if t["to"]["statusCategory"]["key"] != "done")
    either.transition_issue(issue, back["id"])
    reopened = either.issue(issue.key)
    assert reopened.fields.resolution is None
    assert reopened.fields.status.statusCategory.key != "done"


def test_search(either: Any) -> None:
    for summary in ("Printer on fire", "Mouse missing", "Printer jammed"):
        either.create_issue(fields=ISSUE | {"summary": summary})
    found = either.search_issues("project = IT ORDER BY key ASC")
    assert [i.key for i in found] == ["IT-1", "IT-2", "IT-3"]
    assert found[0].fields.summary == "Printer on fire"
    assert either.search_issues("project = IT AND key = IT-2")[0].fields.summary == (
        "Mouse missing"
    )


# -- the differences, each a bug on the side named -----------------------------------------


def test_difference_anonymous_writes_jira820_is_wrong(
    fake_server: JiraFake, other: Jira820Server
) -> None:
    """Jira DC answers an unauthenticated REST call with 401 (the REST API docs'
    "Authentication" section: anonymous access only where an admin granted it, and never
    "Create Issues" by default); jira820 does no authentication at all."""
    body: dict[str, Any] = {"fields": ISSUE}
    assert (
        requests.post(f"{fake_server.url}/rest/api/2/issue", json=body, timeout=5).status_code
        == 401
    )
    assert requests.post(f"{other.url}/rest/api/2/issue", json=body, timeout=5).status_code == 201


def test_difference_reporter_and_comment_author_jira820_is_wrong(
    fake_server: JiraFake, other: Jira820Server
) -> None:
    """Jira makes the caller the reporter (when none is given) and the comment author (REST
    docs of POST /issue and POST /issue/{key}/comment); jira820 always uses its configured
    ``current_user`` (``admin``), whoever calls."""
    results = []
    for client in (connect(fake_server), client_for(other.url)):
        issue = client.create_issue(fields=ISSUE)
        comment = client.add_comment(issue, "mine")
        results.append((client.issue(issue.key).fields.reporter.name, comment.author.name))
    assert results == [("deskhand", "deskhand"), ("admin", "admin")]


def test_difference_unknown_jql_field_jira820_is_wrong(
    fake_server: JiraFake, other: Jira820Server
) -> None:
    """Jira rejects JQL naming a field that does not exist with 400 ("Field 'x' does not exist
    or you do not have permission to view it."); jira820 ignores the clause it cannot read and
    returns every issue, which would make a mistyped query look like a match."""
    fake, mock = connect(fake_server), client_for(other.url)
    for client in (fake, mock):
        client.create_issue(fields=ISSUE)
    with pytest.raises(jira.JIRAError) as caught:
        fake.search_issues("projcet = IT")
    assert caught.value.status_code == 400
    assert [i.key for i in mock.search_issues("projcet = IT")] == ["IT-1"]


def test_difference_summary_limit_jira820_is_wrong(
    fake_server: JiraFake, other: Jira820Server
) -> None:
    """Jira limits the summary to 255 characters and answers 400 with
    ``errors.summary``; jira820 stores any length."""
    long = ISSUE | {"summary": "x" * 256}
    with pytest.raises(jira.JIRAError) as caught:
        connect(fake_server).create_issue(fields=long)
    assert caught.value.status_code == 400
    assert len(client_for(other.url).create_issue(fields=long).fields.summary) == 256


def test_difference_resolution_in_changelog_jira820_is_wrong(
    fake_server: JiraFake, other: Jira820Server
) -> None:
    """Resolving an issue records both the status and the resolution change in its history
    (Jira's changelog, as in every recorded ``issue_resolved`` webhook); jira820 records the
    status only."""
    fields_changed = []
    for client in (connect(fake_server), client_for(other.url)):
        issue = client.create_issue(fields=ISSUE)
        done = to_category(client, issue, "done")
        client.transition_issue(issue, done["id"], fields={"resolution": {"name": "Done"}})
        history = client.issue(issue.key, expand="changelog").changelog.histories[-1]
        fields_changed.append(sorted(item.field for item in history.items))
    assert fields_changed == [["resolution", "status"], ["status"]]


def test_difference_self_links_jira820_is_wrong(
    fake_server: JiraFake, other: Jira820Server
) -> None:
    """Jira's ``self`` links are absolute URLs under the base URL (every example in the REST
    docs); jira820 gives site-relative paths, which a client cannot follow as they are."""
    fake, mock = connect(fake_server), client_for(other.url)
    fake.create_issue(fields=ISSUE)
    mock.create_issue(fields=ISSUE)
    assert fake.issue("IT-1").fields.reporter.self.startswith(fake_server.url)
    assert mock.issue("IT-1").fields.reporter.self.startswith("/rest/api/2/user")


def test_difference_get_one_comment_jira820_is_wrong(
    fake_server: JiraFake, other: Jira820Server
) -> None:
    """Jira has ``GET /rest/api/2/issue/{key}/comment/{id}`` (REST docs: "Get comment"), which
    the client's ``comment()`` calls and ``Comment.update()`` reloads with; jira820 routes only
    PUT and DELETE there (405), so editing a comment through the client fails on jira820."""
    statuses = []
    for client in (connect(fake_server), client_for(other.url)):
        issue = client.create_issue(fields=ISSUE)
        comment = client.add_comment(issue, "one")
        try:
            statuses.append(client.comment(issue.key, comment.id).body)
        except jira.JIRAError as exc:
            statuses.append(exc.status_code)
    assert statuses == ["one", 405]
