"""``JiraTrackerPort`` (Server flavour) against ``jira820``, a Jira Data Center 8.20 mock written
elsewhere, served by uvicorn on loopback.

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
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from deskhand.ports import RejectedError
from deskhand.tracker import IssueRef, ticket_label
from jira_sync.errors import TEXT_LIMIT
from jira_sync.jira_port import JiraTrackerPort, connect

jira820 = pytest.importorskip("jira820")
uvicorn = pytest.importorskip("uvicorn")
jira820_config = pytest.importorskip("jira820.config")
jira820_store = pytest.importorskip("jira820.store")

BOT = "deskhand"
TOKEN = "sandbox-token"
PEOPLE = {BOT: "Deskhand", "bob": "Bob Builder"}
REST = "/rest/api/2"
SLACK_THREAD = "https://example.slack.com/archives/C1/p1"

NO_GET_COMMENT = pytest.mark.xfail(
    strict=True,
    raises=RejectedError,
    reason="jira820: no GET /issue/{key}/comment/{id} (405), which comment_state reads",
)


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


# -- issues ------------------------------------------------------------------------------------


def test_create_issue_cuts_the_summary_and_description_and_keeps_the_labels(
    site: Jira820Site, port: JiraTrackerPort
) -> None:
    """jira820 stores any summary length (a known difference), so what it holds shows the cut
    was the port's."""
    ref = port.create_issue(
        "IT", "Task", "VPN down\n" + "x" * 300, "y" * 40_000, ["deskhand", ticket_label(42)], {}
    )
    raw = site.get(f"/issue/{ref.key}")
    assert ref == IssueRef("IT-1", raw["id"], f"{site.url}/browse/IT-1")
    fields = raw["fields"]
    assert len(fields["summary"]) == 255
    assert fields["summary"].startswith("VPN down xxx")
    assert fields["summary"].endswith("…")
    description = fields["description"]
    assert len(description) == TEXT_LIMIT
    assert description.startswith("y" * 32_000)
    assert "Truncated by Deskhand: the text had 40,000 characters" in description
    assert fields["labels"] == ["deskhand", "deskhand-42"]
    assert (fields["issuetype"]["name"], fields["status"]["name"]) == ("Task", "Open")


def test_create_issue_passes_extra_fields(site: Jira820Site, port: JiraTrackerPort) -> None:
    ref = port.create_issue("IT", "Bug", "Mouse", "", ["deskhand"], {"priority": {"name": "High"}})
    fields = site.get(f"/issue/{ref.key}")["fields"]
    assert (fields["issuetype"]["name"], fields["priority"]["name"]) == ("Bug", "High")
    assert port.issue_url("IT-9") == f"{site.url}/browse/IT-9"


def test_find_by_label_finds_the_oldest_issue_with_the_label(
    port: JiraTrackerPort, wire: Wire
) -> None:
    first = create(port, ticket=42)
    create(port, ticket=42)
    create(port, ticket=43)
    assert port.find_by_label("IT", ticket_label(42)) == first
    assert port.find_by_label("IT", ticket_label(44)) is None
    assert port.find_by_label("OPS", ticket_label(42)) is None
    searches = wire.to("GET", "/search")
    assert len(searches) == 3
    assert all(s.status == 200 for s in searches)
    assert searches[0].query["jql"] == [
        'project = "IT" AND labels = "deskhand-42" ORDER BY created ASC'
    ]


def test_issue_state_reads_status_priority_and_assignee(port: JiraTrackerPort) -> None:
    key = create(port).key
    port.assign(key, "bob")
    state = port.issue_state(key)
    assert state is not None
    assert (state.status, state.priority, state.assignee, state.assignee_email) == (
        "Open",
        "Medium",
        "bob",
        "bob@example.com",
    )
    assert datetime.strptime(state.updated, "%Y-%m-%dT%H:%M:%S.%f%z").tzinfo is not None


def test_issue_state_is_none_for_a_missing_issue(port: JiraTrackerPort, wire: Wire) -> None:
    create(port)
    assert port.issue_state("IT-99") is None
    assert [s.status for s in wire.to("GET", "/issue/IT-99")] == [404]


def test_gap_issue_updated_never_moves(port: JiraTrackerPort) -> None:
    """Gap 8: Jira sets ``updated`` to the time of each change; jira820 keeps its store's date
    at 09:00 whatever happens, so the sync's newer-than guards cannot be exercised here."""
    key = create(port).key
    before = port.issue_state(key)
    assert before is not None
    port.set_priority(key, "High")
    port.add_comment(key, "on it", internal=False, service_desk=False, visibility=None)
    assert port.transition_to(key, "In Progress", resolution=None)
    after = port.issue_state(key)
    assert after is not None
    assert (after.status, after.priority) == ("In Progress", "High")  # the changes happened
    assert after.updated == before.updated  # Jira: later than before.updated
    assert before.updated.endswith("T09:00:00.000+0000")


# -- priority and assignee ------------------------------------------------------------------


def test_set_priority(port: JiraTrackerPort, wire: Wire) -> None:
    key = create(port).key
    port.set_priority(key, "High")
    state = port.issue_state(key)
    assert state is not None
    assert state.priority == "High"
    (sent,) = wire.to("PUT", f"/issue/{key}")
    assert (sent.json, sent.status) == ({"fields": {"priority": {"name": "High"}}}, 204)


def test_gap_unknown_priority_is_accepted(site: Jira820Site, port: JiraTrackerPort) -> None:
    """Gap 6: Jira refuses a priority that is not one of the field's allowed values (400, which
    the port raises as ``RejectedError``); jira820 stores any name, with the id ``"0"``."""
    key = create(port).key
    port.set_priority(key, "Apocalyptic")  # Jira: RejectedError("400")
    priority = site.get(f"/issue/{key}", fields="priority")["fields"]["priority"]
    assert (priority["name"], priority["id"]) == ("Apocalyptic", "0")


def test_assign_and_unassign_by_username(port: JiraTrackerPort, wire: Wire) -> None:
    key = create(port).key
    port.assign(key, "bob")
    assigned = port.issue_state(key)
    assert assigned is not None
    assert assigned.assignee == "bob"
    port.assign(key, None)
    unassigned = port.issue_state(key)
    assert unassigned is not None
    assert (unassigned.assignee, unassigned.assignee_email) == (None, None)
    sent = wire.to("PUT", f"/issue/{key}/assignee")
    assert [(s.json, s.status) for s in sent] == [({"name": "bob"}, 204), ({"name": None}, 204)]
    assert not wire.to("GET", "/user/search")  # no lookup before assigning


def test_gap_assigning_a_user_who_does_not_exist_is_accepted(port: JiraTrackerPort) -> None:
    """Gap 5: Jira answers 400 to ``PUT /issue/{key}/assignee`` when "the user is not found"
    (the port raises ``RejectedError``); jira820 assigns the name and invents the person."""
    key = create(port).key
    port.assign(key, "nobody")  # Jira: RejectedError("400")
    state = port.issue_state(key)
    assert state is not None
    assert (state.assignee, state.assignee_email) == ("nobody", "nobody@example.com")


# -- comments ----------------------------------------------------------------------------------


def test_add_public_comment(site: Jira820Site, port: JiraTrackerPort, wire: Wire) -> None:
    key = create(port).key
    comment_id = port.add_comment(
        key, "Have you tried turning it off?", internal=False, service_desk=False, visibility=None
    )
    (sent,) = wire.to("POST", f"/issue/{key}/comment")
    assert (sent.json, sent.status) == ({"body": "Have you tried turning it off?"}, 201)
    (listed,) = listed_comments(site, key)
    assert (listed["id"], listed["body"], listed["author"]["name"]) == (
        comment_id,
        "Have you tried turning it off?",
        BOT,
    )
    assert "visibility" not in listed


def test_long_comment_is_truncated_with_a_note(site: Jira820Site, port: JiraTrackerPort) -> None:
    key = create(port).key
    port.add_comment(key, "z" * 40_000, internal=False, service_desk=False, visibility=None)
    (listed,) = listed_comments(site, key)
    assert len(listed["body"]) == TEXT_LIMIT
    assert listed["body"].startswith("z" * 32_000)
    assert "Truncated by Deskhand: the text had 40,000 characters" in listed["body"]


def test_gap_comment_visibility_is_dropped(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    """Gap 2: the port sends the documented ``visibility`` and jira820 answers 201, but stores
    and lists the note as a public comment. Jira keeps the visibility (or refuses a role the
    caller is not in), so a role-restricted internal note never shows publicly there."""
    key = create(port).key
    comment_id = port.add_comment(
        key, "role note", internal=True, service_desk=False, visibility=("role", "Developers")
    )
    (sent,) = wire.to("POST", f"/issue/{key}/comment")
    assert sent.json == {"body": "role note", "visibility": {"type": "role", "value": "Developers"}}
    assert sent.status == 201
    (listed,) = listed_comments(site, key)
    assert (listed["id"], listed["body"]) == (comment_id, "role note")
    assert "visibility" not in listed  # Jira: {"type": "role", "value": "Developers"}


def test_gap_service_desk_internal_property_is_dropped(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    """Gap 3: a JSM internal note is a comment with the property ``sd.public.comment`` =
    ``{"internal": true}``; Jira keeps a created comment's ``properties`` and shows them with
    ``expand=properties``. jira820 (no JSM, no comment properties) drops them."""
    key = create(port).key
    port.add_comment(key, "jsm note", internal=True, service_desk=True, visibility=None)
    (sent,) = wire.to("POST", f"/issue/{key}/comment")
    assert sent.json == {
        "body": "jsm note",
        "properties": [{"key": "sd.public.comment", "value": {"internal": True}}],
    }
    (listed,) = listed_comments(site, key, expand="properties")
    assert listed["body"] == "jsm note"
    assert "properties" not in listed  # Jira: the sd.public.comment property


def test_internal_comment_without_visibility_is_refused(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    key = create(port).key
    sent_before = len(wire.sent)
    with pytest.raises(RejectedError) as caught:
        port.add_comment(key, "secret", internal=True, service_desk=False, visibility=None)
    assert caught.value.code == "no-internal-visibility"
    assert len(wire.sent) == sent_before  # refused before anything was sent
    assert listed_comments(site, key) == []


def test_update_comment_changes_only_the_body(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    key = create(port).key
    comment_id = port.add_comment(key, "v1", internal=False, service_desk=False, visibility=None)
    port.update_comment(key, comment_id, "v2")
    port.update_comment(key, comment_id, "w" * 40_000)
    sent = wire.to("PUT", f"/issue/{key}/comment/{comment_id}")
    assert [s.status for s in sent] == [200, 200]
    assert sent[0].json == {"body": "v2"}
    (listed,) = listed_comments(site, key)
    assert listed["id"] == comment_id
    assert len(listed["body"]) == TEXT_LIMIT
    assert listed["body"].startswith("w" * 32_000)


def test_find_comment_finds_only_its_own_with_the_same_body(
    site: Jira820Site, port: JiraTrackerPort
) -> None:
    key = create(port).key
    # jira820 makes current_user the author of every REST comment: bob's comes from its store.
    site.store.add_comment(key, "same words", author="bob")
    assert port.find_comment(key, "same words") is None  # bob's, not ours
    ours = port.add_comment(key, "same words", internal=False, service_desk=False, visibility=None)
    assert port.find_comment(key, "same words") == ours
    assert port.find_comment(key, "other words") is None
    long_id = port.add_comment(
        key, "q" * 40_000, internal=False, service_desk=False, visibility=None
    )
    assert port.find_comment(key, "q" * 40_000) == long_id  # compared as it was sent


@NO_GET_COMMENT
def test_comment_state_reads_the_comment(port: JiraTrackerPort) -> None:
    key = create(port).key
    comment_id = port.add_comment(key, "v1", internal=False, service_desk=False, visibility=None)
    port.update_comment(key, comment_id, "v2")
    state = port.comment_state(key, comment_id)
    assert state is not None
    assert (state.author, state.author_name, state.body, state.internal) == (
        BOT,
        "Deskhand",
        "v2",
        False,
    )


@NO_GET_COMMENT
def test_comment_state_is_none_for_a_deleted_or_missing_comment(
    site: Jira820Site, port: JiraTrackerPort
) -> None:
    key = create(port).key
    comment_id = port.add_comment(key, "gone", internal=False, service_desk=False, visibility=None)
    deleted = requests.delete(f"{site.url}{REST}/issue/{key}/comment/{comment_id}", timeout=5)
    assert deleted.status_code == 204
    assert port.comment_state(key, comment_id) is None
    assert port.comment_state(key, "999999") is None
    assert port.comment_state("IT-99", comment_id) is None


def test_gap_comment_state_gets_405(port: JiraTrackerPort, wire: Wire) -> None:
    """Gap 1, pinned: every ``comment_state`` call is the 405 of a route jira820 lacks, for a
    comment that exists as much as for one that does not (Jira: 200, or 404 → None)."""
    key = create(port).key
    comment_id = port.add_comment(key, "v1", internal=False, service_desk=False, visibility=None)
    for wanted in (comment_id, "999999"):
        with pytest.raises(RejectedError) as caught:
            port.comment_state(key, wanted)
        assert caught.value.code == "405"
    sent = [s for s in wire.sent if s.method == "GET" and "/comment/" in s.path]
    assert [(s.path, s.query, s.status) for s in sent] == [
        (f"/issue/{key}/comment/{comment_id}", {"expand": ["properties"]}, 405),
        (f"/issue/{key}/comment/999999", {"expand": ["properties"]}, 405),
    ]


# -- workflow ----------------------------------------------------------------------------------


def test_transition_to_by_status_name(site: Jira820Site, port: JiraTrackerPort, wire: Wire) -> None:
    key = create(port).key

    def status_and_resolution() -> tuple[str, str | None]:
        fields = site.get(f"/issue/{key}", fields="status,resolution")["fields"]
        return fields["status"]["name"], (fields["resolution"] or {}).get("name")

    assert port.transition_to(key, "in progress", resolution="Done")  # no resolution on the way
    assert status_and_resolution() == ("In Progress", None)
    assert port.transition_to(key, "Done", resolution="Won't Do")
    assert status_and_resolution() == ("Done", "Won't Do")
    posts = wire.to("POST", f"/issue/{key}/transitions")
    assert [(s.json, s.status) for s in posts] == [
        ({"transition": {"id": "21"}}, 204),
        ({"transition": {"id": "41"}, "fields": {"resolution": {"name": "Won't Do"}}}, 204),
    ]

    assert port.transition_to(key, "Done", resolution="Done")  # already there: nothing sent
    assert not port.transition_to(key, "Resolved", resolution=None)  # not in jira820's workflow
    assert not port.transition_to(key, "To Do", resolution=None)  # our fake's, not jira820's
    assert len(wire.to("POST", f"/issue/{key}/transitions")) == 2
    assert status_and_resolution() == ("Done", "Won't Do")

    # Matched by the target status, not the transition's name ("To Reopened").
    assert port.transition_to(key, "Reopened", resolution=None)
    assert status_and_resolution() == ("Reopened", None)


def test_gap_required_transition_field_is_not_enforced(
    site: Jira820Site, port: JiraTrackerPort
) -> None:
    """Gap 7: jira820's screen into ``Done`` marks the resolution required, yet a transition
    without it succeeds and jira820 fills ``Done``. Jira answers 400 naming the field (the
    port raises ``RejectedError``) and the issue stays where it was."""
    key = create(port).key
    offered = port.client.transitions(key, expand="transitions.fields")
    done = next(t for t in offered if t["to"]["name"] == "Done")
    assert done["fields"]["resolution"]["required"] is True
    assert port.transition_to(key, "Done", resolution=None)  # Jira: RejectedError("400")
    fields = site.get(f"/issue/{key}", fields="status,resolution")["fields"]
    assert (fields["status"]["name"], fields["resolution"]["name"]) == ("Done", "Done")


# -- people and links --------------------------------------------------------------------------


def test_me_is_the_session_user_asked_once(port: JiraTrackerPort, wire: Wire) -> None:
    assert port.me() == BOT
    assert port.me() == BOT
    assert [s.status for s in wire.to("GET", "/myself")] == [200]


def test_gap_user_search_does_not_match_email(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    """Gap 4: Jira DC's ``/user/search?username=`` matches "username, name or e-mail address",
    so the port finds bob by ``bob@example.com``; jira820 matches names only and finds no one,
    though bob is there with that address."""
    assert port.account_for_email("BOB@example.com") is None  # Jira: "bob"
    (sent,) = wire.to("GET", "/user/search")
    assert (sent.query["username"], sent.status) == (["BOB@example.com"], 200)
    by_name = site.get("/user/search", username="bob")
    assert [(u["name"], u["emailAddress"]) for u in by_name] == [("bob", "bob@example.com")]


def test_add_remote_link_twice_keeps_one_link(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    key = create(port).key
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    port.add_remote_link(key, SLACK_THREAD + "0", "Another thread")
    links = site.get(f"/issue/{key}/remotelink")
    assert [(link["object"]["url"], link["object"]["title"]) for link in links] == [
        (SLACK_THREAD, "Slack thread"),
        (SLACK_THREAD + "0", "Another thread"),
    ]
    assert all(link["globalId"].startswith("deskhand:") for link in links)
    assert links[0]["globalId"] != links[1]["globalId"]


def test_gap_remote_link_update_answers_201(port: JiraTrackerPort, wire: Wire) -> None:
    """Gap 9: the second POST with the same ``globalId`` updates the link (as Jira does), but
    jira820 answers 201 Created both times; Jira answers 200 for an update. The port does not
    depend on the status."""
    key = create(port).key
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    posts = wire.to("POST", f"/issue/{key}/remotelink")
    assert posts[0].json == posts[1].json
    assert [s.status for s in posts] == [201, 201]  # Jira: [201, 200]
