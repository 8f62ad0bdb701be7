"""``deskhand sandbox`` serves both fakes, seeded from config.yaml, until interrupted, and
writes a configuration for ``deskhand run`` that points at them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from jira import JIRA
from slack_sdk import WebClient

from deskhand.config import load_config
from tests.conftest import ROOT
from tests.processes import OutputLines
from tests.waiting import DEADLINE

RUN_COMMAND = "DESKHAND_SLACK_BOT_TOKEN="
"""How the printed ``deskhand run`` command line starts (after the config is written)."""


def sandbox(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """``deskhand sandbox`` for the repository's config.yaml, in ``tmp_path``."""
    return subprocess.Popen(
        [sys.executable, "-m", "deskhand", "sandbox", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", "DESKHAND_CONFIG": str(ROOT / "config.yaml")},
    )


def test_sandbox_writes_a_config_whose_urls_the_stock_clients_use(tmp_path: Path) -> None:
    process = sandbox(tmp_path)
    output = OutputLines(process)
    try:
        command = output.wait_for(lambda line: line.strip().startswith(RUN_COMMAND)).strip()
        assert command.endswith(" deskhand run -c sandbox-config.yaml")
        config = load_config(tmp_path / "sandbox-config.yaml")
        assert config.jira is not None
        slack = WebClient(base_url=config.slack.api_url, token="xoxb-sandbox-bot")
        channels = {
            name: slack.conversations_info(channel=f"#{name}")["channel"]
            for name in ("help", "help-it", "it-requests", "it-triage", "hr-triage")
        }
        assert channels["it-triage"]["is_private"] is True
        assert channels["help"]["is_private"] is False
        assert slack.apps_connections_open(app_token="xapp-sandbox-app")["url"].startswith(
            "ws://127.0.0.1:"
        )  # Socket Mode is on
        jira = JIRA(
            server=config.jira.url,
            basic_auth=(config.jira.account, "sandbox-token"),
            timeout=5,
            max_retries=0,
        )
        assert [project.key for project in jira.projects()] == ["IT"]
        assert jira.server_info()["deploymentType"] == "Cloud"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
    assert process.returncode == 0
    assert "sandbox stopped" in output.until_end()


def test_a_bad_jira_flavour_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deskhand", "sandbox", "--jira-flavour", "bogus"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "DESKHAND_CONFIG": str(ROOT / "config.yaml")},
        timeout=DEADLINE,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "--jira-flavour must be cloud or server, not 'bogus'\n"
    assert result.stdout == ""
    assert not (tmp_path / "sandbox-config.yaml").exists()


def test_the_server_flavour_is_what_the_written_config_says(tmp_path: Path) -> None:
    process = sandbox(tmp_path, "--jira-flavour", "server")
    output = OutputLines(process)
    try:
        output.wait_for(lambda line: line.strip().startswith(RUN_COMMAND))
        config = load_config(tmp_path / "sandbox-config.yaml")
        assert config.jira is not None
        assert (config.jira.flavour.value, config.jira.account) == ("server", "deskhand")
        jira = JIRA(server=config.jira.url, token_auth="sandbox-token", timeout=5, max_retries=0)
        assert jira.server_info()["deploymentType"] == "Server"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
    assert process.returncode == 0


def test_config_and_write_config_options_work_from_another_folder(tmp_path: Path) -> None:
    """``-c`` names the source file (recipes relative to it); ``--write-config`` where to write."""
    written = tmp_path / "out" / "try.yaml"
    written.parent.mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskhand",
            "sandbox",
            "-c",
            str(ROOT / "config.yaml"),
            "--write-config",
            str(written),
        ],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DESKHAND_CONFIG"} | {"COLUMNS": "200"},
    )
    output = OutputLines(process)
    try:
        command = output.wait_for(lambda line: line.strip().startswith(RUN_COMMAND)).strip()
        assert command.endswith(f" deskhand run -c {written}")
        config = load_config(written)
        assert config.slack.mode == "socket"
        assert all(Path(path).is_absolute() for path in config.recipes.paths)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
    assert process.returncode == 0
