"""The ``jira`` client's failures become the core's port errors; text limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from deskhand.ports import RateLimitedError, RejectedError, UnavailableError, UnknownOutcomeError
from deskhand.tracker import ticket_label
from jira_sync.errors import fit_body, fit_summary, retry_after
from jira_sync.jira_port import connect
from sandbox.faults import Fault, FaultKind
from sandbox.jira import JiraFake
from tests.jira_fixtures import giving_up_after
from tests.jira_sync.conftest import port_for
from tests.jira_sync.test_jira_port import create
from tests.waiting import eventually

HANG = 60.0
"""Real seconds a timing-out fake holds the request: far past the port's timeout, so a port
held up on a loaded machine still finds no answer when it looks."""


def test_rate_limit_carries_retry_after(fake: JiraFake) -> None:
    port = port_for(fake)
    fake.faults.add("POST /issue", Fault(FaultKind.RATE_LIMIT, retry_after=7, reason="burst"))
    with pytest.raises(RateLimitedError) as caught:
        create(port)
    assert caught.value.retry_after == 7.0
    assert fake.state.issues == {}
    assert create(port).key == "IT-1"


@pytest.mark.parametrize(
    ("reason", "scope"),
    [
        ("jira-burst-based", "endpoint"),
        ("jira-per-issue-on-write", "subject"),
        ("jira-quota-global-based", "account"),
        (None, "account"),  # Server and Data Center name no reason
    ],
)
def test_a_429_says_what_its_limit_covers(fake: JiraFake, reason: str | None, scope: str) -> None:
    port = port_for(fake)
    fake.faults.add("POST /issue", Fault(FaultKind.RATE_LIMIT, retry_after=3, reason=reason))
    with pytest.raises(RateLimitedError) as caught:
        create(port)
    assert (caught.value.scope, caught.value.service) == (scope, "jira")


def test_server_error_is_unavailable(fake: JiraFake) -> None:
    port = port_for(fake)
    key = create(port).key
    fake.faults.add("POST /issue/{key}/comment", Fault(FaultKind.SERVER_ERROR, status=503))
    with pytest.raises(UnavailableError):
        port.add_comment(key, "hi", internal=False, service_desk=False, visibility=None)
    assert [r.status for r in fake.requests if r.route == "POST /issue/{key}/comment"] == [503]


def test_connection_reset_is_unavailable(fake: JiraFake) -> None:
    port = port_for(fake)
    fake.faults.add("GET /search/jql", Fault(FaultKind.RESET))
    fake.faults.add("GET /search", Fault(FaultKind.RESET))
    with pytest.raises(UnavailableError):
        port.find_by_label("IT", "deskhand-1")


def test_refusals_are_rejected(fake: JiraFake) -> None:
    port = port_for(fake)
    with pytest.raises(RejectedError) as caught:
        port.create_issue("NOPE", "Task", "x", "", [], {})
    assert caught.value.code == "400"
    with pytest.raises(RejectedError) as missing:
        port.add_comment("IT-99", "hi", internal=False, service_desk=False, visibility=None)
    assert missing.value.code == "404"


def test_wrong_token_is_rejected_at_connect(fake: JiraFake) -> None:
    with pytest.raises(RejectedError) as caught:
        connect(fake.url, fake.flavour, fake.bot.email, "wrong", timeout=5)
    assert caught.value.code == "401"


def test_create_timing_out_after_success_is_unknown_then_found(fake: JiraFake) -> None:
    """ACCEPTANCE 6: after an unknown outcome the tag lookup finds the one issue."""
    port = port_for(fake)
    fake.faults.add("POST /issue", Fault(FaultKind.SUCCEED_THEN_TIMEOUT, delay=HANG))
    with giving_up_after(port.client, 1), pytest.raises(UnknownOutcomeError):
        create(port, ticket=42)
    # The port gave up on its own clock, which says nothing of how far Jira has got.
    assert eventually(lambda: fake.state.issues != {})
    found = port.find_by_label("IT", ticket_label(42))
    assert found is not None
    assert [i.key for i in fake.state.issues.values()] == [found.key] == ["IT-1"]
    assert len([r for r in fake.requests if r.route == "POST /issue"]) == 1


def test_read_timing_out_is_unavailable(cloud: JiraFake) -> None:
    port = port_for(cloud)
    cloud.faults.add("GET /issue/{key}", Fault(FaultKind.TIMEOUT, delay=HANG))
    with giving_up_after(port.client, 0.5), pytest.raises(UnavailableError):
        port.transition_to("IT-1", "Done", resolution=None)


def test_fit_body_counts_like_jira() -> None:
    assert fit_body("short") == "short"
    emoji = "🔥" * 20_000  # 40,000 UTF-16 code units: Jira counts Java characters
    fitted = fit_body(emoji)
    assert len(fitted.encode("utf-16-le")) // 2 <= 32_767
    assert fitted.startswith("🔥" * 16_000)
    assert "\ud83d" not in fitted
    assert fit_body("x" * 32_767) == "x" * 32_767


def test_fit_summary() -> None:
    assert fit_summary("  two\nlines  ") == "two lines"
    assert len(fit_summary("z" * 255)) == 255
    assert fit_summary("z" * 256) == "z" * 254 + "…"


def test_retry_after_forms() -> None:
    def response(value: str | None) -> requests.Response:
        made = requests.Response()
        if value is not None:
            made.headers["Retry-After"] = value
        return made

    assert retry_after(response("7")) == 7.0
    assert retry_after(response(None)) == 5.0
    assert retry_after(response("soon")) == 5.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 <= retry_after(response(later)) <= 60
