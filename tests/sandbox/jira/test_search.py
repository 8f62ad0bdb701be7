"""Search on both flavours: paging styles, the JQL subset, and minute-precision dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jira
import pytest

from sandbox.jira import JiraFake
from tests.sandbox.jira.conftest import connect, error_json, make_fake, new_issue, raw_session


def test_cloud_pages_with_next_page_token(cloud: JiraFake) -> None:
    client = connect(cloud)
    for n in range(7):
        new_issue(client, summary=f"issue {n}")
    first = client.search_issues("project = IT ORDER BY key ASC", maxResults=3)
    assert [i.key for i in first] == ["IT-1", "IT-2", "IT-3"]
    assert first.nextPageToken
    everything = client.search_issues("project = IT ORDER BY key ASC", maxResults=0)
    assert [i.key for i in everything] == [f"IT-{n}" for n in range(1, 8)]
    pages = [r for r in cloud.requests if r.route == "GET /search/jql"]
    assert all("total" not in (r.response or {}) for r in pages)
    assert pages[-1].response["isLast"] is True


def test_cloud_post_search_and_default_fields(cloud: JiraFake) -> None:
    client = connect(cloud)
    new_issue(client)
    result = client.enhanced_search_issues("key in (IT-1)", use_post=True, json_result=True)
    assert result["issues"][0]["fields"]["summary"] == "Printer on fire"
    bare = raw_session().get(f"{cloud.url}/rest/api/3/search/jql", params={"jql": "project = IT"})
    assert bare.json()["issues"] == [
        {
            "expand": bare.json()["issues"][0]["expand"],
            "id": "10001",
            "self": f"{cloud.url}/rest/api/3/issue/10001",
            "key": "IT-1",
        }
    ]


def test_cloud_old_search_is_gone(cloud: JiraFake) -> None:
    response = raw_session().get(f"{cloud.url}/rest/api/2/search", params={"jql": "project = IT"})
    assert response.status_code == 410
    assert "/rest/api/3/search/jql" in response.json()["errorMessages"][0]


def test_server_pages_with_start_at_and_total(server: JiraFake) -> None:
    client = connect(server)
    for n in range(5):
        new_issue(client, summary=f"issue {n}")
    page = client.search_issues("project = IT ORDER BY key DESC", startAt=2, maxResults=2)
    assert [i.key for i in page] == ["IT-3", "IT-2"]
    assert page.total == 5
    posted = client.search_issues("project = IT", maxResults=False, use_post=True)
    assert len(posted) == 5
    response = raw_session().get(f"{server.url}/rest/api/2/search/jql", params={"jql": "x = 1"})
    assert response.status_code == 404


def test_jql_labels_keys_and_status(fake: JiraFake, client: Any) -> None:
    new_issue(client, labels=["vpn"])
    new_issue(client, labels=["printer", "vip"])
    new_issue(client)
    client.transition_issue("IT-3", "In Progress")
    assert [i.key for i in _search(client, "labels = vip")] == ["IT-2"]
    assert {i.key for i in _search(client, "labels in (vpn, printer)")} == {"IT-1", "IT-2"}
    assert [i.key for i in _search(client, 'key in (IT-1, IT-3) AND status = "In Progress"')] == [
        "IT-3"
    ]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = IT OR labels = x", "Expecting either 'AND' or 'ORDER BY'"),
        ("summary ~ printer", "Field 'summary' does not exist"),
        ('updated >= "2024-01-01 10:00:30"', "Date value '2024-01-01 10:00:30'"),
        ("key in (IT-99)", "An issue with key 'IT-99' does not exist"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ],
)
def test_unsupported_jql_is_400_in_jira_shape(client: Any, jql: str, message: str) -> None:
    new_issue(client)
    with pytest.raises(jira.JIRAError) as caught:
        _search(client, jql)
    assert caught.value.status_code == 400
    body = error_json(caught)
    assert body["errors"] == {}
    assert message in body["errorMessages"][0]


def test_updated_has_minute_precision_in_the_account_time_zone() -> None:
    """A Berlin account's ``updated >= "…HH:mm"`` means Berlin time, to the minute."""
    zone = ZoneInfo("Europe/Berlin")
    with make_fake("cloud", account_timezone="Europe/Berlin") as fake:
        client = connect(fake)
        issue = new_issue(client)
        stamp = datetime.fromtimestamp(fake.state.issue(issue.key).updated, zone)
        minute = stamp.strftime("%Y-%m-%d %H:%M")
        next_minute = datetime.fromtimestamp(stamp.timestamp() + 60, zone).strftime(
            "%Y-%m-%d %H:%M"
        )
        utc_minute = datetime.fromtimestamp(stamp.timestamp(), ZoneInfo("UTC")).strftime(
            "%Y-%m-%d %H:%M"
        )
        assert [i.key for i in _search(client, f'updated >= "{minute}"')] == ["IT-1"]
        assert _search(client, f'updated >= "{next_minute}"') == []
        assert [i.key for i in _search(client, f'updated = "{minute}"')] == ["IT-1"]
        # The same wall time read as UTC would be an hour or two off: no match.
        assert utc_minute != minute
        assert _search(client, f'updated = "{utc_minute}"') == []
        assert issue.fields.created[-5:] in ("+0100", "+0200")


def _search(client: Any, jql: str) -> list[Any]:
    return list(client.search_issues(jql, maxResults=0))
