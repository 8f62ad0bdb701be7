"""ACCEPTANCE 7 through the sandbox: Jira answers a comment write with 429 and
``Retry-After: 7``. Deskhand waits at least that long before writing to Jira again, the write
then lands once, and Slack's side (acks, cards, notices) goes on meanwhile."""

from __future__ import annotations

import pytest

from sandbox.faults import Fault, FaultKind
from sandbox.jira.rest import RecordedRequest
from tests.e2e.conftest import Running, eventually
from tests.e2e.test_jira_sync_out import JIRA_CONFIG

COMMENT = "POST /issue/{key}/comment"
RETRY_AFTER = 7  # real seconds, as Jira's header says them


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport() -> str:
    return "http"


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


def comment_writes(running: Running) -> list[RecordedRequest]:
    return [r for r in running.world.jira.requests if r.route == COMMENT]


def test_a_429_with_retry_after_7_holds_jira_writes_7_seconds_while_slack_flows(
    running: Running,
) -> None:
    world = running.world
    slack = world.slack.driver
    question = slack.user("alice").post("#help", "VPN is down")
    slack.user("bob").react(question, "ticket")
    running.settle()
    [triage] = slack.bot_posts("#it-triage")
    [ticket] = running.tickets()
    assert ticket.jira_key is not None
    issue = world.jira.state.issue(ticket.jira_key)

    sandbox_seconds = RETRY_AFTER * world.clock.speed  # the header is in real seconds
    world.jira.faults.add(COMMENT, Fault(FaultKind.RATE_LIMIT, retry_after=sandbox_seconds))
    slack.user("alice").reply(question, "It says error 809")
    assert eventually(lambda: [r.status for r in comment_writes(running)] == [429])
    [refused] = comment_writes(running)
    assert refused.response_headers.get("Retry-After") == str(RETRY_AFTER)

    # Meanwhile in Slack: bob claims the ticket; the card and the requester hear of it at once.
    updates_before = len(world.slack.web.calls_to("chat.update"))
    slack.user("bob").click(triage, "claim")
    assert eventually(lambda: any("Bob is now working" in m.text for m in slack.thread(question)))
    claimed_at = max(c.at for c in world.slack.web.calls_to("chat.update")[updates_before:])

    assert eventually(lambda: len(comment_writes(running)) == 2, timeout=RETRY_AFTER + 20)
    running.settle()
    first, landed = comment_writes(running)
    assert first is refused
    assert landed.status == 201
    assert landed.at - refused.at >= RETRY_AFTER - 0.1  # waited as told
    assert refused.at < claimed_at < landed.at  # Slack did not wait with it
    copies = [c.body for c in issue.comments]
    assert copies == ["*Alice* wrote in Slack:\nIt says error 809"]  # once
