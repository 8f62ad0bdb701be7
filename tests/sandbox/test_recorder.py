"""The suite-wide recorder catches requests that Slack or Atlassian do not document."""

from __future__ import annotations

from pathlib import Path

import requests
from jira import JIRA
from slack_sdk import WebClient

from sandbox.world import SandboxWorld
from tests.contracts.recorder import undocumented_requests
from tests.contracts.slack import SlackContract


def jira_client(world: SandboxWorld) -> JIRA:
    return JIRA(
        server=world.jira.url,
        basic_auth=(world.jira.bot.email, world.jira.api_token),
        timeout=5,
        max_retries=0,
    )


def test_documented_requests_pass(sandbox_world: SandboxWorld) -> None:
    slack = WebClient(base_url=sandbox_world.slack.api_url, token=sandbox_world.slack.bot_token)
    slack.chat_postMessage(channel="#help", text="hello", unfurl_links=False)
    jira = jira_client(sandbox_world)
    issue = jira.create_issue(project="IT", summary="VPN", issuetype={"name": "Task"})
    jira.add_comment(issue, "looking")
    assert len(sandbox_world.slack.web.calls) == 1
    assert any(r.route == "POST /issue" for r in sandbox_world.jira.requests)


def test_undocumented_slack_arguments_and_jira_paths_are_reported(
    shared_testdata: Path,
) -> None:
    with SandboxWorld() as world:
        slack = WebClient(base_url=world.slack.api_url, token=world.slack.bot_token)
        slack.api_call("chat.postMessage", json={"channel": "#help", "text": "x", "colour": "red"})
        requests.get(
            f"{world.jira.url}/rest/api/2/issue/IT-1/secrets",
            auth=(world.jira.bot.email or "", world.jira.api_token),
            timeout=5,
        )
    problems = undocumented_requests(world, SlackContract(shared_testdata))
    assert any("chat.postMessage" in line and "colour" in line for line in problems), problems
    assert any(line.startswith("Jira GET /rest/api/2/issue/IT-1/secrets") for line in problems)
