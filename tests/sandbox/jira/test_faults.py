"""Each fault kind as the real client sees it."""

from __future__ import annotations

import jira
import pytest
import requests

from sandbox.faults import Fault, FaultKind
from sandbox.jira import JiraFake
from tests.jira_fixtures import giving_up_after
from tests.sandbox.jira.conftest import connect, error_json, error_response, new_issue
from tests.waiting import eventually

HANG = 60.0
"""Real seconds a timing-out fake holds the request: far past the client's 0.3 s, so a client
held up on a loaded machine still finds no answer when it looks."""


def test_rate_limit_has_retry_after_and_reason(cloud: JiraFake) -> None:
    client = connect(cloud)
    cloud.faults.add(
        "POST /issue",
        Fault(FaultKind.RATE_LIMIT, retry_after=2.5, reason="jira-per-issue-on-write"),
    )
    with pytest.raises(jira.JIRAError) as caught:
        new_issue(client)
    assert caught.value.status_code == 429
    assert error_response(caught).headers["Retry-After"] == "3"
    assert error_response(caught).headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert cloud.state.issues == {}
    assert new_issue(client).key == "IT-1"


def test_server_error(fake: JiraFake) -> None:
    client = connect(fake)
    new_issue(client)
    fake.faults.add("GET /issue/{key}", Fault(FaultKind.SERVER_ERROR, status=502))
    with pytest.raises(jira.JIRAError) as caught:
        client.issue("IT-1")
    assert caught.value.status_code == 502
    assert error_json(caught)["errorMessages"] == ["Internal server error."]


def test_timeout_raises_read_timeout(cloud: JiraFake) -> None:
    client = connect(cloud)
    cloud.faults.add("GET /search/jql", Fault(FaultKind.TIMEOUT, delay=HANG))
    with giving_up_after(client, 0.3), pytest.raises(requests.exceptions.ReadTimeout):
        client.search_issues("project = IT")


def test_reset_raises_connection_error(cloud: JiraFake) -> None:
    client = connect(cloud)
    cloud.faults.add("POST /issue/{key}/comment", Fault(FaultKind.RESET))
    new_issue(client)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.add_comment("IT-1", "hello")
    assert cloud.state.issue("IT-1").comments == []


def test_succeed_then_timeout_leaves_exactly_one_issue(cloud: JiraFake) -> None:
    client = connect(cloud)
    cloud.faults.add("POST /issue", Fault(FaultKind.SUCCEED_THEN_TIMEOUT, delay=HANG))
    with giving_up_after(client, 0.3), pytest.raises(requests.exceptions.ReadTimeout):
        new_issue(client, labels=["deskhand-HELP-1"])
    # The client gave up on its own clock, which says nothing of how far the fake has got.
    assert eventually(lambda: cloud.state.issues != {})
    assert [i.key for i in cloud.state.issues.values()] == ["IT-1"]


def test_wildcard_fault_hits_any_route(server: JiraFake) -> None:
    client = connect(server)
    server.faults.add("*", Fault(FaultKind.SERVER_ERROR, status=503, times=1))
    with pytest.raises(jira.JIRAError) as caught:
        client.myself()
    assert caught.value.status_code == 503
    assert client.myself()["name"] == "deskhand"
