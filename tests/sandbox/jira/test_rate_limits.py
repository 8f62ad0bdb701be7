"""The fake Jira's opt-in rate limits (used by the storm benchmark): off by default, a burst
budget per endpoint and method, a write budget per issue, armed faults answered first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.faults import Fault, FaultKind
from sandbox.jira import JiraFake
from sandbox.jira.rate_limits import BURST_REASON, PER_ISSUE_REASON, Budget, JiraRateLimits
from tests.jira_fixtures import make_fake, raw_session

SLOW = 0.001
"""Refill per second: nothing comes back within a test."""


@pytest.fixture
def limited() -> Iterator[tuple[JiraFake, JiraRateLimits]]:
    fake = make_fake("cloud")
    limits = JiraRateLimits(
        fake.clock, endpoint=Budget(SLOW, burst=3), issue_writes=Budget(SLOW, burst=1)
    ).install(fake)
    with fake.start():
        yield fake, limits


def create(fake: JiraFake, summary: str) -> str:
    answer = raw_session().post(
        f"{fake.url}/rest/api/2/issue",
        json={
            "fields": {"project": {"key": "IT"}, "issuetype": {"name": "Task"}, "summary": summary}
        },
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


def test_without_limits_installed_nothing_is_limited(cloud: JiraFake) -> None:
    session = raw_session()
    statuses = {
        session.get(f"{cloud.url}/rest/api/2/myself", timeout=5).status_code for _ in range(30)
    }
    assert statuses == {200}


def test_an_endpoints_burst_is_answered_with_429_and_its_reason(
    limited: tuple[JiraFake, JiraRateLimits],
) -> None:
    fake, limits = limited
    session = raw_session()
    answers = [session.get(f"{fake.url}/rest/api/2/myself", timeout=5) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["RateLimit-Reason"] == BURST_REASON
    assert float(answers[-1].headers["Retry-After"]) > 0
    # Another endpoint has a bucket of its own.
    assert session.get(f"{fake.url}/rest/api/2/serverInfo", timeout=5).status_code == 200
    assert limits.limited == {BURST_REASON: 1, PER_ISSUE_REASON: 0}


def test_writes_to_one_issue_share_a_budget_of_their_own(
    limited: tuple[JiraFake, JiraRateLimits],
) -> None:
    fake, limits = limited
    first, second = create(fake, "one"), create(fake, "two")
    session = raw_session()

    def edit(key: str) -> int:
        url = f"{fake.url}/rest/api/2/issue/{key}"
        return session.put(url, json={"fields": {"summary": "edited"}}, timeout=5).status_code

    assert edit(first) == 204
    assert edit(first) == 429  # the issue's budget, not the endpoint's (which has room)
    assert edit(second) == 204
    assert limits.limited[PER_ISSUE_REASON] == 1


def test_an_armed_fault_is_answered_before_the_limits(
    limited: tuple[JiraFake, JiraRateLimits],
) -> None:
    fake, limits = limited
    fake.faults.add("GET /myself", Fault(FaultKind.SERVER_ERROR, status=503))
    assert raw_session().get(f"{fake.url}/rest/api/2/myself", timeout=5).status_code == 503
    assert limits.limited == {BURST_REASON: 0, PER_ISSUE_REASON: 0}
