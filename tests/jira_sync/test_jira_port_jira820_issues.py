"""The port on jira820: creating, finding and reading issues, their priority and assignee."""

from __future__ import annotations

from datetime import datetime

from deskhand.tracker import IssueRef, ticket_label
from jira_sync.errors import TEXT_LIMIT
from jira_sync.jira_port import JiraTrackerPort
from tests.jira_sync.jira820_site import Jira820Site, Wire, create

# The fixtures, imported under their own names so pytest finds them here; this ``port``
# (on jira820) overrides the fake's ``port`` of tests/jira_sync/conftest.py.
from tests.jira_sync.jira820_site import port as port
from tests.jira_sync.jira820_site import site as site
from tests.jira_sync.jira820_site import wire as wire


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
