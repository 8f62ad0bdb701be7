"""Jira webhook bodies and REST representations into ``JiraIssueSeen`` / ``JiraCommentSeen``.

The bodies the fake Jira builds for changes made by a person (Cloud, Server and the old
Server format without ``issue_event_type_name``) and REST representations; the recorded real
bodies of the shared test data are in ``test_inbound_recorded.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from deskhand.events import JiraCommentSeen, JiraIssueSeen
from jira_sync.inbound import (
    comment_from_rest,
    events_from_webhook,
    issue_from_rest,
    issue_key_from_url,
    normalise_time,
)
from sandbox.jira import JiraDriver, JiraFake
from sandbox.jira.model import Issue
from sandbox.jira.render import Renderer
from sandbox.jira.webhook_payloads import PayloadBuilder, Webhook
from tests.jira_fixtures import make_fake

HOST = "https://jira.example.com"


def at(timestamp: float) -> str:
    """The fake's epoch seconds as the parser writes times (UTC, milliseconds)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


# -- bodies built by the fake ---------------------------------------------------------------------


class Recorder:
    """Every webhook body the fake would send, in order, built as ``WebhookSender`` builds them."""

    def __init__(self, fake: JiraFake, *, server_format: bool) -> None:
        self.fake = fake
        self.server_format = server_format
        self.webhooks: list[Webhook] = []
        fake.subscribe(self._on_change)

    def _on_change(self, change: str, issue: Issue, extra: Mapping[str, Any]) -> None:
        builder = PayloadBuilder(self.fake.state, HOST, server_format=self.server_format)
        self.webhooks.extend(builder.build(change, issue, extra))

    def take(self) -> list[Webhook]:
        taken, self.webhooks = self.webhooks, []
        # What the receiver sees: the body after a JSON round trip.
        return [Webhook(w.event, json.loads(json.dumps(w.body))) for w in taken]


@dataclass
class Site:
    fake: JiraFake
    recorder: Recorder
    bob: JiraDriver

    @property
    def server(self) -> bool:
        return self.fake.flavour == "server"

    def account(self, name: str) -> str:
        user = self.fake.state.user(name)
        return user.name if self.server else user.account_id


@pytest.fixture(
    params=[("cloud", False), ("server", False), ("server", True)],
    ids=["cloud", "server", "old-server"],
)
def site(request: pytest.FixtureRequest) -> Site:
    flavour, server_format = request.param
    fake = make_fake(flavour)
    recorder = Recorder(fake, server_format=server_format)
    return Site(fake, recorder, JiraDriver(fake).user("bob"))


def events_of(webhooks: list[Webhook]) -> list[tuple[str, list[Any]]]:
    return [(w.event, events_from_webhook(w.body)) for w in webhooks]


def test_created_assigned_moved_and_reprioritised_issue(site: Site) -> None:
    site.bob.create("IT", "Printer on fire")
    issue = site.fake.state.issue("IT-1")
    assert events_of(site.recorder.take()) == [
        (
            "jira:issue_created",
            [
                JiraIssueSeen(
                    issue_key="IT-1",
                    updated=at(issue.updated),
                    actor=site.account("bob"),
                    status="To Do",
                    priority="Medium",
                    assignee=None,
                )
            ],
        )
    ]

    site.bob.assign("IT-1", "alice")
    site.bob.transition("IT-1", "In Progress")
    site.bob.edit("IT-1", priority={"name": "Highest"})
    seen = [events for _, events in events_of(site.recorder.take())]
    assert all(len(events) == 1 for events in seen)
    assigned, moved, raised = (events[0] for events in seen)
    assert (assigned.assignee, assigned.assignee_name, assigned.assignee_email) == (
        site.account("alice"),
        "Alice Agent",
        "alice@example.com",
    )
    assert (moved.status, moved.assignee) == ("In Progress", site.account("alice"))
    assert (raised.priority, raised.status) == ("Highest", "In Progress")
    assert raised.updated == at(site.fake.state.issue("IT-1").updated)
    assert {e.actor for e in (assigned, moved, raised)} == {site.account("bob")}
    assert not any(e.deleted for e in (assigned, moved, raised))


def test_comment_created_edited_and_deleted(site: Site) -> None:
    site.bob.create("IT", "VPN down")
    site.recorder.take()

    comment = site.bob.comment("IT-1", "Have you tried *turning it off*?")
    created = events_of(site.recorder.take())
    # comment_created names the issue on Cloud only; Server's body has no issue (and its
    # comment's self URL names the issue by id), so the key is unknown there.
    key_in_comment_event = "" if site.server else "IT-1"
    expected = JiraCommentSeen(
        issue_key="IT-1",
        comment_id=comment.id,
        updated=at(comment.updated),
        author=site.account("bob"),
        author_name="Bob Builder",
        body="Have you tried *turning it off*?",
        internal=False,
    )
    issue_state = JiraIssueSeen(
        issue_key="IT-1",
        updated=at(site.fake.state.issue("IT-1").updated),
        actor=site.account("bob"),
        status="To Do",
        priority="Medium",
        assignee=None,
    )
    assert created == [
        ("comment_created", [_with_key(expected, key_in_comment_event)]),
        ("jira:issue_updated", [issue_state, expected]),
    ]

    edited_comment = site.bob.edit_comment("IT-1", comment.id, "Fixed now.")
    edited = events_of(site.recorder.take())
    changed = _changed(expected, body="Fixed now.", updated=at(edited_comment.updated))
    assert edited == [
        ("comment_updated", [_with_key(changed, key_in_comment_event)]),
        ("jira:issue_updated", [issue_state, changed]),
    ]

    site.bob.delete_comment("IT-1", comment.id)
    deleted_webhooks = site.recorder.take()
    deleted = events_of(deleted_webhooks)
    assert [event for event, _ in deleted] == ["comment_deleted", "jira:issue_updated"]
    (gone,) = deleted[0][1]
    assert isinstance(gone, JiraCommentSeen)
    assert (gone.comment_id, gone.deleted, gone.issue_key) == (
        comment.id,
        True,
        key_in_comment_event,
    )
    # A deletion is newer than the comment's last edit: it happened at the webhook's time.
    sent_at = at(deleted_webhooks[0].body["timestamp"] / 1000)
    assert gone.updated == max(sent_at, changed.updated)
    # issue_updated (issue_comment_deleted) does not say which comment went: the issue only.
    assert [type(e) for e in deleted[1][1]] == [JiraIssueSeen]


def test_internal_comments(site: Site) -> None:
    site.bob.create("IT", "Laptop")
    site.recorder.take()
    site.bob.comment("IT-1", "Agents only: reimage it", internal=True)
    bob = site.fake.state.user("bob")
    site.fake.state.add_comment(
        bob, "IT-1", "Admins only", visibility={"type": "role", "value": "Administrators"}
    )
    first, _, second, _ = (events for _, events in events_of(site.recorder.take()))
    # Cloud marks a JSM internal comment with jsdPublic: false. Server's webhook carries no
    # such flag (the poller reads the comment's properties instead, see below).
    assert first[0].internal is not site.server
    assert second[0].internal is True


def test_deleted_issue(site: Site) -> None:
    site.bob.create("IT", "Old request")
    site.recorder.take()
    site.fake.state.delete_issue(site.fake.state.user("bob"), "IT-1")
    ((event, (seen,)),) = events_of(site.recorder.take())
    assert event == "jira:issue_deleted"
    assert isinstance(seen, JiraIssueSeen)
    assert (seen.issue_key, seen.deleted, seen.actor) == ("IT-1", True, site.account("bob"))


def _with_key(event: JiraCommentSeen, key: str) -> JiraCommentSeen:
    return JiraCommentSeen.from_payload(event.payload() | {"issue_key": key})


def _changed(event: JiraCommentSeen, **values: Any) -> JiraCommentSeen:
    return JiraCommentSeen.from_payload(event.payload() | values)


# -- REST representations -------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_rest_issue_and_comments(flavour: str) -> None:
    fake = make_fake(flavour, account_timezone="Australia/Lord_Howe")
    bob = JiraDriver(fake).user("bob")
    issue = bob.create("IT", "Monitor flickers")
    bob.assign("IT-1", "alice")
    public = bob.comment("IT-1", "On it")
    internal = bob.comment("IT-1", "Driver bug", internal=True)
    render = Renderer(fake.state, HOST, "2", "Australia/Lord_Howe")

    rest_issue = render.issue(fake.state.issue("IT-1"), ["updated", "status", "priority"])
    rest_issue["fields"]["assignee"] = render.user_named("alice")
    assert rest_issue["fields"]["updated"][-5:] in ("+1030", "+1100")
    alice = fake.state.user("alice")
    assert issue_from_rest(rest_issue) == JiraIssueSeen(
        issue_key="IT-1",
        updated=at(issue.updated),
        actor=None,
        status="To Do",
        priority="Medium",
        assignee=alice.account_id if flavour == "cloud" else "alice",
        assignee_name="Alice Agent",
        assignee_email="alice@example.com",
    )

    current = fake.state.issue("IT-1")
    seen = [
        comment_from_rest("IT-1", render.comment(current, c, properties=True))
        for c in (public, internal)
    ]
    assert [(c.comment_id, c.body, c.internal) for c in seen] == [
        (public.id, "On it", False),
        (internal.id, "Driver bug", True),
    ]
    assert seen[0].updated == at(public.updated)
    bob_user = fake.state.user("bob")
    expected_author = bob_user.account_id if flavour == "cloud" else "bob"
    assert [(c.author, c.author_name) for c in seen] == [(expected_author, "Bob Builder")] * 2


def test_rest_comment_internal_flags() -> None:
    base = {"id": "1", "updated": "2026-03-08T01:59:00.000-0500", "body": "x"}
    assert not comment_from_rest("IT-1", base).internal
    assert not comment_from_rest("IT-1", base | {"jsdPublic": True}).internal
    assert comment_from_rest("IT-1", base | {"jsdPublic": False}).internal
    assert comment_from_rest(
        "IT-1", base | {"visibility": {"type": "group", "value": "a"}}
    ).internal
    internal_property = {"key": "sd.public.comment", "value": {"internal": True}}
    assert comment_from_rest("IT-1", base | {"properties": [internal_property]}).internal
    public_property = {"key": "sd.public.comment", "value": {"internal": False}}
    assert not comment_from_rest("IT-1", base | {"properties": [public_property]}).internal


def test_rest_comment_without_author_and_with_an_adf_body() -> None:
    adf = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Hello "}]},
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "abc", "text": "@Bob"}},
                    {"type": "text", "text": " see above"},
                ],
            },
        ],
    }
    seen = comment_from_rest(
        "IT-3", {"id": "7", "created": "2026-01-01T00:00:00.000+0000", "body": adf}
    )
    assert (seen.author, seen.author_name) == (None, "")
    assert seen.body == "Hello \n@Bob see above"
    assert seen.updated == "2026-01-01T00:00:00.000+00:00"


def test_rest_representations_without_what_an_event_needs_are_refused() -> None:
    with pytest.raises(ValueError, match=r"issue\.key"):
        issue_from_rest({"fields": {"updated": "2026-01-01T00:00:00.000+0000"}})
    with pytest.raises(ValueError, match=r"fields\.updated"):
        issue_from_rest({"key": "IT-1", "fields": {}})
    with pytest.raises(ValueError, match=r"comment\.id"):
        comment_from_rest("IT-1", {"updated": "2026-01-01T00:00:00.000+0000"})
    with pytest.raises(ValueError, match="Jira time"):
        comment_from_rest("IT-1", {"id": "1", "updated": "yesterday"})
    with pytest.raises(ValueError, match="offset"):
        comment_from_rest("IT-1", {"id": "1", "updated": "2026-01-01T00:00:00.000"})


def test_times_are_normalised_to_utc() -> None:
    assert normalise_time("2019-02-15T19:11:18.321-0800") == "2019-02-16T03:11:18.321+00:00"
    assert normalise_time("2026-10-04T02:45:00.000+1100") == "2026-10-03T15:45:00.000+00:00"


def test_issue_key_from_a_comment_url() -> None:
    assert issue_key_from_url("https://x/rest/api/2/issue/IT-12/comment/10082") == "IT-12"
    assert issue_key_from_url("https://x/rest/api/2/issue/10013/comment/10082") == ""
    assert issue_key_from_url(None) == ""
    assert issue_key_from_url("https://x/rest/api/2/issue/IT-12") == ""


# -- ignored bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"webhookEvent": "jira:worklog_updated", "issue": {"key": "IT-1"}},
        {"webhookEvent": "worklog_created", "worklog": {"id": "1"}},
        {"webhookEvent": "sprint_started", "sprint": {"id": 3}},
        {"webhookEvent": "project_created", "project": {"key": "NEW"}},
        {"webhookEvent": "user_updated", "user": {"name": "bob"}},
        {"webhookEvent": "issuelink_created", "issueLink": {"id": 1}},
        {"timestamp": 1, "no": "event name"},
        {},
    ],
    ids=lambda body: str(body.get("webhookEvent", "none")),
)
def test_webhooks_deskhand_does_not_use_give_nothing(body: dict[str, Any]) -> None:
    assert events_from_webhook(body) == []


@pytest.mark.parametrize(
    "body",
    [
        {"webhookEvent": "jira:issue_updated"},
        {"webhookEvent": "jira:issue_updated", "issue": {"fields": {}}},
        {"webhookEvent": "jira:issue_created", "issue": {"key": "IT-1", "fields": {}}},
        {"webhookEvent": "comment_created", "comment": {"body": "no id"}},
        {"webhookEvent": "comment_deleted"},
    ],
)
def test_known_webhooks_missing_their_parts_are_logged_and_give_nothing(
    body: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="jira_sync.inbound"):
        assert events_from_webhook(body) == []
    assert "ignoring a Jira" in caplog.text


def test_an_issue_body_without_updated_takes_the_webhook_time() -> None:
    body = {
        "webhookEvent": "jira:issue_updated",
        "timestamp": 1_700_000_000_123,
        "issue": {"key": "IT-9", "fields": {"status": {"name": "Done"}}},
    }
    (seen,) = events_from_webhook(body)
    assert isinstance(seen, JiraIssueSeen)
    assert (seen.updated, seen.status) == ("2023-11-14T22:13:20.123+00:00", "Done")
