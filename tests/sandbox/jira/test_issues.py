"""Issues through the real client: create, read, edit, delete, and Jira's error answers."""

from __future__ import annotations

from typing import Any

import jira
import pytest

from sandbox.jira import JiraFake
from tests.sandbox.jira.conftest import connect, error_json, new_issue, raw_session


def test_server_info_names_the_flavour(fake: JiraFake, client: Any) -> None:
    info = client.server_info()
    assert info["deploymentType"] == ("Cloud" if fake.flavour == "cloud" else "Server")
    assert info["baseUrl"] == fake.url
    assert client._is_cloud is (fake.flavour == "cloud")


def test_server_token_auth_works(server: JiraFake) -> None:
    client = connect(server, token=True)
    assert client.myself()["name"] == "deskhand"
    assert server.requests[-1].headers["Authorization"] == "Bearer"


def test_unauthenticated_request_gets_401_in_jira_shape(fake: JiraFake) -> None:
    response = raw_session().get(f"{fake.url}/rest/api/2/myself", auth=("bob", "wrong"))
    assert response.status_code == 401
    assert response.json() == {
        "errorMessages": [
            "You are not authenticated. Authentication required to perform this operation."
        ],
        "errors": {},
    }


def test_create_get_edit_delete(fake: JiraFake, client: Any) -> None:
    issue = new_issue(client, description="h2. Broken\n*bold*", labels=["deskhand"])
    assert issue.key == "IT-1"
    assert issue.id.isdigit()
    assert issue.fields.status.name == "To Do"
    assert issue.fields.reporter.displayName == "Deskhand"
    assert issue.fields.description == "h2. Broken\n*bold*"
    assert issue.raw["self"] == f"{fake.url}/rest/api/2/issue/{issue.id}"

    issue.update(
        fields={
            "summary": "Printer fixed?",
            "priority": {"name": "High"},
            "customfield_10051": "L2",
            "labels": ["deskhand", "l2"],
        }
    )
    issue.update(update={"labels": [{"add": "vip"}, {"remove": "l2"}]})
    fetched = client.issue("IT-1", expand="changelog")
    assert fetched.fields.summary == "Printer fixed?"
    assert fetched.fields.priority.name == "High"
    assert fetched.fields.customfield_10051 == "L2"
    assert fetched.fields.labels == ["deskhand", "vip"]
    changed = {item.field for h in fetched.changelog.histories for item in h.items}
    assert {"summary", "priority", "labels", "Support level"} <= changed

    fetched.delete()
    with pytest.raises(jira.JIRAError) as caught:
        client.issue("IT-1")
    assert caught.value.status_code == 404


def test_timestamps_look_like_jira(client: Any) -> None:
    issue = new_issue(client)
    created = issue.fields.created
    assert len(created) == len("2021-01-17T12:34:00.000+0000")
    assert created[10] == "T"
    assert created[19] == "."
    assert created[-5] in "+-"


def test_fields_parameter_selects_fields(client: Any) -> None:
    new_issue(client)
    issue = client.issue("IT-1", fields="summary,labels")
    assert set(issue.raw["fields"]) == {"summary", "labels"}


def test_unknown_field_is_not_on_screen(client: Any) -> None:
    with pytest.raises(jira.JIRAError) as caught:
        new_issue(client, customfield_99999="x")
    assert caught.value.status_code == 400
    assert error_json(caught) == {
        "errorMessages": [],
        "errors": {
            "customfield_99999": "Field 'customfield_99999' cannot be set. It is not on the "
            "appropriate screen, or unknown."
        },
    }


def test_missing_issue_is_404_in_jira_shape(client: Any) -> None:
    with pytest.raises(jira.JIRAError) as caught:
        client.issue("IT-404")
    assert caught.value.status_code == 404
    assert error_json(caught) == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }


def test_summary_over_255_is_refused(client: Any) -> None:
    with pytest.raises(jira.JIRAError) as caught:
        new_issue(client, summary="x" * 256)
    assert caught.value.status_code == 400
    assert error_json(caught)["errors"] == {"summary": "Summary must be less than 255 characters."}
    new_issue(client, summary="x" * 255)


def test_a_bad_field_changes_nothing(client: Any) -> None:
    issue = new_issue(client)
    with pytest.raises(jira.JIRAError):
        issue.update(fields={"summary": "changed", "priority": {"name": "Bogus"}})
    assert client.issue(issue.key).fields.summary == "Printer on fire"


def test_properties_round_trip(client: Any) -> None:
    issue = new_issue(client)
    first = client.add_issue_property(issue.key, "deskhand", {"ticket": "HELP-1"})
    second = client.add_issue_property(issue.key, "deskhand", {"ticket": "HELP-2"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert client.issue_property(issue.key, "deskhand").value.ticket == "HELP-2"
    assert [p.key for p in client.issue_properties(issue.key)] == ["deskhand"]
    with pytest.raises(jira.JIRAError) as caught:
        client.issue_property(issue.key, "missing")
    assert caught.value.status_code == 404


def test_remote_links(client: Any) -> None:
    issue = new_issue(client)
    link = client.add_remote_link(
        issue.key,
        {"url": "https://slack.example/archives/C1/p1", "title": "Slack thread"},
        globalId="deskhand:HELP-1",
    )
    client.add_remote_link(
        issue.key,
        {"url": "https://slack.example/archives/C1/p2", "title": "Moved thread"},
        globalId="deskhand:HELP-1",
    )
    links = client.remote_links(issue.key)
    assert [(x.id, x.object.title) for x in links] == [(link.id, "Moved thread")]
    assert client.remote_link(issue.key, link.id).globalId == "deskhand:HELP-1"


def test_metadata_endpoints(fake: JiraFake, client: Any) -> None:
    assert [p.name for p in client.priorities()][:3] == ["Highest", "High", "Medium"]
    assert [p.key for p in client.projects()] == ["IT"]
    assert "Support level" in {f["name"] for f in client.fields()}
    if fake.flavour == "server":
        types = client.project_issue_types("IT")
        assert "Task" in {t.name for t in types}
        fields = client.project_issue_fields("IT", types[0].id)
        assert "summary" in {f.fieldId for f in fields}
