"""``JiraTrackerPort`` through the real ``jira`` client against the fake Jira, both flavours."""

from __future__ import annotations

import pytest

from deskhand.ports import RejectedError
from deskhand.tracker import IssueRef, TrackerPort, ticket_label
from jira_sync.errors import TEXT_LIMIT
from jira_sync.jira_port import JiraTrackerPort
from sandbox.jira import JiraFake

LONG = "".join(f"line {n:05d} of a very long Slack thread\n" for n in range(1_100))


def create(port: TrackerPort, ticket: int = 42, summary: str = "Printer on fire") -> IssueRef:
    return port.create_issue(
        "IT", "Task", summary, "Reported in Slack", ["deskhand", ticket_label(ticket)], {}
    )


def test_create_then_find_by_label(fake: JiraFake, port: JiraTrackerPort) -> None:
    ref = create(port, ticket=42)
    assert ref == IssueRef("IT-1", fake.state.issue("IT-1").id, f"{fake.url}/browse/IT-1")
    stored = fake.state.issue("IT-1")
    assert (stored.summary, stored.description) == ("Printer on fire", "Reported in Slack")
    assert stored.labels == ["deskhand", "deskhand-42"]

    assert port.find_by_label("IT", ticket_label(42)) == ref
    assert port.find_by_label("IT", "deskhand-43") is None
    searches = [r for r in fake.requests if r.route and "/search" in r.route]
    expected = "/search/jql" if fake.flavour == "cloud" else "/search"
    assert {r.route.split(" ")[1] for r in searches if r.route} == {expected}
    sent = searches[0].json or {k: v[0] for k, v in searches[0].query.items()}
    assert sent["jql"].startswith('project = "IT" AND labels = "deskhand-42"')


def test_find_by_label_returns_the_oldest_of_duplicates(port: JiraTrackerPort) -> None:
    first = create(port)
    create(port)
    assert port.find_by_label("IT", "deskhand-42") == first


def test_extra_fields_and_issue_url(fake: JiraFake, port: JiraTrackerPort) -> None:
    ref = port.create_issue("IT", "Bug", "Mouse", "", ["deskhand"], {"customfield_10050": "HELP-7"})
    assert fake.state.issue(ref.key).custom["customfield_10050"] == "HELP-7"
    assert fake.state.issue(ref.key).issue_type.name == "Bug"
    assert port.issue_url("IT-9") == f"{fake.url}/browse/IT-9"


def test_summary_is_one_line_within_255(fake: JiraFake, port: JiraTrackerPort) -> None:
    ref = create(port, summary="VPN down\n" + "x" * 300)
    summary = fake.state.issue(ref.key).summary
    assert len(summary) == 255
    assert summary.startswith("VPN down xxx")
    assert summary.endswith("…")


def test_long_bodies_are_truncated_with_a_note(fake: JiraFake, port: JiraTrackerPort) -> None:
    body = "y" * 40_000
    ref = port.create_issue("IT", "Task", "Long", body, ["deskhand"], {})
    comment_id = port.add_comment(
        ref.key, body, internal=False, service_desk=False, visibility=None
    )
    issue = fake.state.issue(ref.key)
    for text in (issue.description or "", issue.comments[0].body):
        assert len(text) == TEXT_LIMIT
        assert text.startswith("y" * 32_000)
        assert "Truncated by Deskhand: the text had 40,000 characters" in text

    port.update_comment(ref.key, comment_id, LONG)
    edited = fake.state.issue(ref.key).comments[0].body
    assert len(edited) <= TEXT_LIMIT
    assert edited.startswith(LONG[:30_000])
    assert [r.status for r in fake.requests if r.method != "GET"] == [201, 201, 200]


def test_comment_kinds(fake: JiraFake, port: JiraTrackerPort) -> None:
    key = create(port).key
    port.add_comment(key, "public", internal=False, service_desk=True, visibility=None)
    port.add_comment(key, "jsm note", internal=True, service_desk=True, visibility=None)
    port.add_comment(
        key, "role note", internal=True, service_desk=False, visibility=("role", "Developers")
    )
    public, jsm, role = fake.state.issue(key).comments
    assert (public.body, public.internal, public.visibility) == ("public", False, None)
    assert (jsm.internal, jsm.visibility) == (True, None)
    assert jsm.properties == {"sd.public.comment": {"internal": True}}
    assert (role.internal, role.visibility) == (False, {"type": "role", "value": "Developers"})


def test_internal_note_without_a_way_to_hide_it_is_refused(
    fake: JiraFake, port: JiraTrackerPort
) -> None:
    key = create(port).key
    with pytest.raises(RejectedError) as caught:
        port.add_comment(key, "secret", internal=True, service_desk=False, visibility=None)
    assert caught.value.code == "no-internal-visibility"
    assert fake.state.issue(key).comments == []


def test_update_comment_keeps_it_internal(fake: JiraFake, port: JiraTrackerPort) -> None:
    key = create(port).key
    comment_id = port.add_comment(key, "v1", internal=True, service_desk=True, visibility=None)
    port.update_comment(key, comment_id, "v2")
    (comment,) = fake.state.issue(key).comments
    assert (comment.id, comment.body, comment.internal) == (comment_id, "v2", True)


def test_transitions(fake: JiraFake, port: JiraTrackerPort) -> None:
    key = create(port).key
    assert port.transition_to(key, "in progress", resolution="Done")
    issue = fake.state.issue(key)
    assert (issue.status, issue.resolution) == ("In Progress", None)

    assert port.transition_to(key, "Done", resolution="Won't Do")
    assert (issue.status, issue.resolution) == ("Done", "Won't Do")
    assert port.transition_to(key, "Done", resolution="Done")
    assert issue.resolution == "Won't Do"
    posts = len([r for r in fake.requests if r.method == "POST"])
    assert not port.transition_to(key, "No such status", resolution=None)
    assert len([r for r in fake.requests if r.method == "POST"]) == posts
    assert issue.status == "Done"
    # Matched by the target status, not the transition's name ("Reopen").
    assert port.transition_to(key, "To Do", resolution=None)
    reopened = fake.state.issue(key)
    assert (reopened.status, reopened.resolution) == ("To Do", None)


def test_transition_missing_its_required_resolution_is_rejected(
    fake: JiraFake, port: JiraTrackerPort
) -> None:
    key = create(port).key
    with pytest.raises(RejectedError) as caught:
        port.transition_to(key, "Done", resolution=None)
    assert caught.value.code == "400"
    assert "Resolution is required" in str(caught.value)
    assert fake.state.issue(key).status == "To Do"


def test_assign_uses_the_flavours_identifier(fake: JiraFake, port: JiraTrackerPort) -> None:
    key = create(port).key
    bob = fake.state.user("bob")
    account = bob.account_id if fake.flavour == "cloud" else "bob"
    port.assign(key, account)
    assert fake.state.issue(key).assignee == "bob"
    sent = [r for r in fake.requests if r.route == "PUT /issue/{key}/assignee"]
    field = "accountId" if fake.flavour == "cloud" else "name"
    assert sent[-1].json == {field: account}
    assert not [r for r in fake.requests if r.route == "GET /user/search"]

    port.assign(key, None)
    assert fake.state.issue(key).assignee is None
    with pytest.raises(RejectedError) as caught:
        port.assign(key, "nobody")
    assert caught.value.code == "400"


def test_set_priority(fake: JiraFake, port: JiraTrackerPort) -> None:
    key = create(port).key
    port.set_priority(key, "High")
    priority = fake.state.issue(key).priority
    assert priority is not None
    assert priority.name == "High"
    with pytest.raises(RejectedError):
        port.set_priority(key, "Apocalyptic")
    assert fake.state.issue(key).priority == priority
