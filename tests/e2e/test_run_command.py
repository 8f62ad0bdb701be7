"""``deskhand run`` as an admin runs it: a separate process, configured by file and
environment, serving the sandbox's Slack over Socket Mode or HTTP until SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sandbox.world import SandboxWorld
from tests.e2e.conftest import eventually
from tests.waiting import DEADLINE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(path: Path, world: SandboxWorld, mode: str, port: int) -> None:
    path.write_text(
        f"""\
slack:
  mode: {mode}
  api_url: {world.slack.api_url}
  request_channels: [help]
teams:
  - {{name: IT, key_prefix: IT, triage_channel: it-triage}}
database:
  url: sqlite:///{path.parent / "deskhand.db"}
http:
  host: 127.0.0.1
  port: {port}
"""
    )


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_run_serves_slack_until_terminated(tmp_path: Path, mode: str) -> None:
    with SandboxWorld() as world:
        port = free_port()
        config = tmp_path / "config.yaml"
        write_config(config, world, mode, port)
        env = {
            **os.environ,
            "DESKHAND_SLACK_BOT_TOKEN": world.slack.bot_token,
            "DESKHAND_SLACK_APP_TOKEN": world.slack.app_token,
            "DESKHAND_SLACK_SIGNING_SECRET": world.slack.signing_secret,
        }
        if mode == "socket":
            server = world.slack.deliver_socket_mode()
        process = subprocess.Popen(
            [sys.executable, "-m", "deskhand", "run", "--config", str(config)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            if mode == "socket":
                assert server.wait_for_connection(DEADLINE)
            else:
                assert eventually(lambda: _healthy(port)), "gunicorn never answered"
                world.slack.deliver_http(f"http://127.0.0.1:{port}/slack/events")
            slack = world.slack.driver
            question = slack.user("alice").post("#help", "Printer on floor 2 is jammed")
            slack.user("bob").react(question, "ticket")
            assert eventually(lambda: len(slack.bot_posts("#it-triage")) == 1)
            assert "IT-1" in slack.bot_posts("#it-triage")[0].text
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=DEADLINE)
        assert process.returncode == 0, output


def _healthy(port: int) -> bool:
    """Whether gunicorn answers yet. Until its worker has booted, a request may be refused or
    sit unanswered in the listen queue; either is "not yet"."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
    except requests.RequestException:
        return False


def test_run_with_a_jira_token_creates_the_issue(tmp_path: Path) -> None:
    with SandboxWorld() as world:
        config = tmp_path / "config.yaml"
        write_config(config, world, "socket", free_port())
        text = config.read_text().replace(
            "  - {name: IT, key_prefix: IT, triage_channel: it-triage}\n",
            "  - {name: IT, key_prefix: IT, triage_channel: it-triage, jira: {project: IT}}\n",
        )
        text += (
            f"jira: {{url: '{world.jira.url}', flavour: {world.jira.flavour}, "
            f"account: '{world.jira.bot.email}', timeout_seconds: 5}}\n"
        )
        config.write_text(text)
        env = {
            **os.environ,
            "DESKHAND_SLACK_BOT_TOKEN": world.slack.bot_token,
            "DESKHAND_SLACK_APP_TOKEN": world.slack.app_token,
            "DESKHAND_JIRA_TOKEN": world.jira.api_token,
        }
        server = world.slack.deliver_socket_mode()
        process = subprocess.Popen(
            [sys.executable, "-m", "deskhand", "run", "--config", str(config)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert server.wait_for_connection(DEADLINE)
            slack = world.slack.driver
            question = slack.user("alice").post("#help", "Monitor is blank")
            slack.user("bob").react(question, "ticket")
            assert eventually(lambda: len(world.jira.state.issues) == 1)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=DEADLINE)
        assert process.returncode == 0, output
        [issue] = world.jira.state.issues.values()
        assert issue.summary == "[IT-1] Monitor is blank"
