"""Slack → Jira, first step: a ticket of a team with a Jira project gets exactly one issue,
labelled with the ticket, and its cards show the key (issue 5), on Jira Cloud and Server."""

from __future__ import annotations

import pytest

from sandbox.faults import Fault, FaultKind
from tests.e2e.conftest import Running
from tests.waiting import DEADLINE

JIRA_CONFIG = """\
slack:
  request_channels: [help]
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
    jira: {project: IT, issue_type: Task}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage}
jira:
  url: https://replaced-by-the-sandbox.example
  account: replaced@example.com
  timeout_seconds: 1
"""


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


def test_a_ticket_gets_one_labelled_issue_and_its_cards_show_the_key(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "VPN is down\nsince 9am")
    slack.user("bob").react(question, "ticket")
    running.settle()

    [ticket] = running.tickets()
    assert ticket.jira_key is not None
    issues = running.world.jira.state.issues
    assert list(issues) == [ticket.jira_key]
    issue = issues[ticket.jira_key]
    assert issue.summary == "[IT-1] VPN is down"
    assert set(issue.labels) == {"deskhand", f"deskhand-{ticket.id}"}
    assert "Deskhand ticket IT-1" in (issue.description or "")
    [triage] = slack.bot_posts("#it-triage")
    assert ticket.jira_key in str(triage.blocks)
    assert f"/browse/{ticket.jira_key}" in str(triage.blocks)


def test_a_create_that_timed_out_after_succeeding_is_found_not_repeated(
    running: Running,
) -> None:
    # Answered only long after Deskhand's 1 s timeout, so even a Deskhand held up on a loaded
    # machine finds no answer and must look the issue up by its label.
    lost = Fault(FaultKind.SUCCEED_THEN_TIMEOUT, delay=60.0)
    running.world.jira.faults.add("POST /issue", lost)
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "Laptop will not charge")
    slack.user("bob").react(question, "ticket")
    running.settle()
    assert running.deskhand.wait_idle(DEADLINE)
    [ticket] = running.tickets()
    assert list(running.world.jira.state.issues) == [ticket.jira_key]
    creates = [r for r in running.world.jira.requests if r.route == "POST /issue"]
    assert len(creates) == 1
