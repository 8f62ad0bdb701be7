"""ACCEPTANCE 7 through the sandbox: Jira answers a comment write with 429 and
``Retry-After: 7``. The comment waits at least that long, then lands once, and Slack's side
(acks, cards, notices) goes on meanwhile. What else waits depends on the limit Jira names:
Jira Cloud's burst limit (``RateLimit-Reason: jira-burst-based``) is one endpoint's, so
another ticket's new issue (another endpoint) is created during the wait; a 429 that names no
limit, as Jira Server's, is taken as the whole account's, so the new issue waits too. (The
same ticket's own later writes always wait their turn: a ticket's changes reach Jira in
order.)"""

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


REASONS = {"cloud": "jira-burst-based", "server": None}


@pytest.fixture
def transport() -> str:
    return "http"


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


def comment_writes(running: Running) -> list[RecordedRequest]:
    return [r for r in running.world.jira.requests if r.route == COMMENT]


def creates(running: Running) -> list[RecordedRequest]:
    return [r for r in running.world.jira.requests if r.route == "POST /issue"]


def test_a_429_with_retry_after_7_holds_what_its_limit_covers_while_slack_flows(
    running: Running, jira_flavour: str
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
    reason = REASONS[jira_flavour]
    world.jira.faults.add(
        COMMENT, Fault(FaultKind.RATE_LIMIT, retry_after=sandbox_seconds, reason=reason)
    )
    slack.user("alice").reply(question, "It says error 809")
    assert eventually(lambda: [r.status for r in comment_writes(running)] == [429])
    [refused] = comment_writes(running)
    assert refused.response_headers.get("Retry-After") == str(RETRY_AFTER)

    # Meanwhile in Slack: bob claims the ticket (the card and the requester hear of it at
    # once) and makes a ticket of another question, whose issue Jira gets at another endpoint.
    updates_before = len(world.slack.web.calls_to("chat.update"))
    slack.user("bob").click(triage, "claim")
    assert eventually(lambda: any("Bob is now working" in m.text for m in slack.thread(question)))
    claimed_at = max(c.at for c in world.slack.web.calls_to("chat.update")[updates_before:])
    printer = slack.user("carol").post("#help", "Printer jammed")
    slack.user("bob").react(printer, "ticket")

    assert eventually(lambda: len(comment_writes(running)) == 2, timeout=RETRY_AFTER + 20)
    running.settle()
    first, landed = comment_writes(running)
    assert first is refused
    assert landed.status == 201
    assert landed.at - refused.at >= RETRY_AFTER - 0.1  # waited as told
    assert refused.at < claimed_at < landed.at  # Slack did not wait with it
    copies = [c.body for c in issue.comments]
    assert copies == ["*Alice* wrote in Slack:\nIt says error 809"]  # once
    [_, second] = creates(running)
    assert second.status == 201
    if reason == "jira-burst-based":  # one endpoint's limit: the other endpoint went on
        assert refused.at < second.at < landed.at
    else:  # no limit named: the whole account's, so Jira waited as a whole
        assert second.at - refused.at >= RETRY_AFTER - 0.1
