"""``deskhand run`` refuses to start with one line, and a non-zero status, when Slack refuses
a token, Slack or the database cannot be reached; and what a running one logs about its
configuration and its reloads."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deskhand.startup import EXIT_CONFIG, EXIT_UNAVAILABLE
from sandbox.world import SandboxWorld
from tests.e2e.conftest import eventually
from tests.e2e.test_run_command import free_port, write_config
from tests.waiting import DEADLINE


@contextmanager
def refused_port() -> Iterator[int]:
    """A local port that is bound and never listens: connecting is refused at once, and no
    other test can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def run(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deskhand", "run", "--config", str(config)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def tokens(world: SandboxWorld, **overrides: str) -> dict[str, str]:
    return {
        "DESKHAND_SLACK_BOT_TOKEN": world.slack.bot_token,
        "DESKHAND_SLACK_APP_TOKEN": world.slack.app_token,
        "DESKHAND_SLACK_SIGNING_SECRET": world.slack.signing_secret,
        **overrides,
    }


def assert_one_line_failure(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The last line on stderr says why, nothing else says it again, and no traceback."""
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "is running" not in result.stdout
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_a_bot_token_slack_refuses_stops_the_start(tmp_path: Path, mode: str) -> None:
    with SandboxWorld() as world:
        config = tmp_path / "config.yaml"
        write_config(config, world, mode, free_port())
        result = run(config, tokens(world, DESKHAND_SLACK_BOT_TOKEN="xoxb-wrong"))
        line = assert_one_line_failure(result, EXIT_CONFIG)
        assert line.startswith("Slack refused DESKHAND_SLACK_BOT_TOKEN (invalid_auth)"), line
        assert [call.method for call in world.slack.web.calls] == ["auth.test"]
    assert not (tmp_path / "deskhand.db").exists()  # nothing was started


def test_an_app_token_slack_refuses_stops_the_start(tmp_path: Path) -> None:
    with SandboxWorld() as world:
        config = tmp_path / "config.yaml"
        write_config(config, world, "socket", free_port())
        world.slack.deliver_socket_mode()
        result = run(config, tokens(world, DESKHAND_SLACK_APP_TOKEN="xapp-wrong"))
        line = assert_one_line_failure(result, EXIT_CONFIG)
        assert line.startswith("Slack refused DESKHAND_SLACK_APP_TOKEN (invalid_auth)"), line
        assert "Failed to retrieve WSS URL" not in result.stderr
        assert len(world.slack.web.calls_to("apps.connections.open")) == 1


def test_slack_out_of_reach_stops_the_start(tmp_path: Path) -> None:
    with SandboxWorld() as world:
        config = tmp_path / "config.yaml"
        write_config(config, world, "socket", free_port())
        with refused_port() as port:
            nowhere = f"http://127.0.0.1:{port}/api/"
            config.write_text(config.read_text().replace(world.slack.api_url, nowhere))
            result = run(config, tokens(world))
    line = assert_one_line_failure(result, EXIT_UNAVAILABLE)
    assert line.startswith(f"cannot reach Slack at {nowhere}: "), line
    assert f"slack.api_url in {config}" in line


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_an_unreachable_database_stops_the_start(tmp_path: Path, mode: str) -> None:
    with SandboxWorld() as world:
        config = tmp_path / "config.yaml"
        write_config(config, world, mode, free_port())
        with refused_port() as port:
            url = f"postgresql://nobody:hush@127.0.0.1:{port}/deskhand"
            text = config.read_text().replace(f"sqlite:///{tmp_path / 'deskhand.db'}", url)
            config.write_text(text)
            result = run(config, tokens(world))
    line = assert_one_line_failure(result, EXIT_UNAVAILABLE)
    assert line.startswith("cannot open the database postgresql://nobody:***@127.0.0.1:"), line
    assert "Connection refused" in line
    assert f"check database.url in {config}" in line
    assert "hush" not in result.stderr


def test_a_running_deskhand_names_its_config_file_and_logs_a_good_reload_as_info(
    tmp_path: Path,
) -> None:
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "vpn.yaml").write_text(
        "recipes:\n"
        "  - name: vpn\n"
        "    trigger: ticket.created\n"
        "    conditions: {text: {keywords: [vpn]}}\n"
        "    actions: [{set_priority: high}]\n"
    )
    with SandboxWorld() as world:
        config = tmp_path / "tok.yaml"
        write_config(config, world, "socket", free_port())
        text = config.read_text().replace(
            "  - {name: IT, key_prefix: IT, triage_channel: it-triage}\n",
            "  - {name: IT, key_prefix: IT, triage_channel: it-triage, jira: {project: IT}}\n",
        )
        text += f"jira: {{url: '{world.jira.url}', account: '{world.jira.bot.email}'}}\n"
        text += "recipes: {paths: [recipes]}\n"
        config.write_text(text)
        server = world.slack.deliver_socket_mode()
        log = tmp_path / "run.log"
        env = {key: value for key, value in os.environ.items() if key != "DESKHAND_JIRA_TOKEN"}
        with log.open("w") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "deskhand", "run", "--config", str(config)],
                env={**env, **tokens(world)},
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )
        try:
            assert server.wait_for_connection(DEADLINE)
            assert eventually(lambda: "is running in Socket Mode" in log.read_text())
            process.send_signal(signal.SIGHUP)
            assert eventually(lambda: "recipes: loaded" in log.read_text())
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(DEADLINE)
    output = log.read_text()
    assert f"WARNING deskhand.serve: {config} has a jira section but DESKHAND_JIRA_TOKEN" in output
    [reloaded] = [line for line in output.splitlines() if "recipes: loaded" in line]
    assert " INFO deskhand.serve: recipes: loaded 1 recipe" in reloaded, reloaded
