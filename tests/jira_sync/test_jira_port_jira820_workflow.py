"""The port on jira820: moving an issue through the workflow by status name."""

from __future__ import annotations

from jira_sync.jira_port import JiraTrackerPort
from tests.jira_sync.jira820_site import Jira820Site, Wire, create

# The fixtures, imported under their own names so pytest finds them here; this ``port``
# (on jira820) overrides the fake's ``port`` of tests/jira_sync/conftest.py.
from tests.jira_sync.jira820_site import port as port
from tests.jira_sync.jira820_site import site as site
from tests.jira_sync.jira820_site import wire as wire


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
