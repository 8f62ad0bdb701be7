"""``deskhand sandbox`` serves both fakes, seeded from config.yaml, until interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from jira import JIRA
from slack_sdk import WebClient

from tests.conftest import ROOT


def test_sandbox_prints_urls_that_the_stock_clients_use() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "deskhand", "sandbox", "--config", str(ROOT / "config.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        found: dict[str, str] = {}
        for line in process.stdout:
            name, _, value = line.strip().partition("=")
            if name in ("SLACK_API_URL", "JIRA_URL"):
                found[name] = value
            if len(found) == 2:
                break
        assert set(found) == {"SLACK_API_URL", "JIRA_URL"}, process.stderr
        slack = WebClient(base_url=found["SLACK_API_URL"], token="xoxb-sandbox-bot")
        channels = {
            name: slack.conversations_info(channel=f"#{name}")["channel"]
            for name in ("help", "help-it", "it-requests", "it-triage", "hr-triage")
        }
        assert channels["it-triage"]["is_private"] is True
        assert channels["help"]["is_private"] is False
        jira = JIRA(
            server=found["JIRA_URL"],
            basic_auth=("deskhand-bot@example.com", "sandbox-token"),
            timeout=5,
            max_retries=0,
        )
        assert [project.key for project in jira.projects()] == ["IT"]
        assert jira.server_info()["deploymentType"] == "Cloud"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "sandbox stopped" in output
