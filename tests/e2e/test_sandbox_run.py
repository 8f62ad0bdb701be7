"""What the README's "The sandbox" walks a new user through: ``deskhand sandbox`` in one
terminal, the ``deskhand run`` command it prints in another, then acting as the sandbox's
people at its console until a ticket's card shows in the triage channel and its Jira issue
exists. Each is a separate process, driven only through what the sandbox prints and writes."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from jira import JIRA
from slack_sdk import WebClient

from deskhand.config import load_config
from tests.conftest import ROOT
from tests.processes import OutputLines
from tests.waiting import DEADLINE, eventually


def printed_command(line: str) -> tuple[dict[str, str], list[str]]:
    """The variables and the arguments of a ``NAME=value … deskhand run …`` line."""
    words = shlex.split(line)
    assignments = [word for word in words if "=" in word and word.startswith("DESKHAND_")]
    rest = words[len(assignments) :]
    return dict(word.split("=", 1) for word in assignments), rest


def test_deskhand_run_works_against_the_sandbox_it_is_pointed_at(tmp_path: Path) -> None:
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "deskhand", "sandbox"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", "DESKHAND_CONFIG": str(ROOT / "config.yaml")},
    )
    assert sandbox.stdin is not None
    console, sandbox_output = sandbox.stdin, OutputLines(sandbox)

    def type_in(command: str) -> None:
        console.write(command + "\n")
        console.flush()

    run: subprocess.Popen[str] | None = None
    try:
        line = sandbox_output.wait_for(lambda line: " deskhand run " in line)
        variables, arguments = printed_command(line)
        assert set(variables) == {
            "DESKHAND_SLACK_BOT_TOKEN",
            "DESKHAND_SLACK_APP_TOKEN",
            "DESKHAND_JIRA_TOKEN",
            "DESKHAND_JIRA_WEBHOOK_SECRET",
        }
        assert arguments == ["deskhand", "run", "-c", "sandbox-config.yaml"]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DESKHAND_")}
        run = subprocess.Popen(
            [sys.executable, "-m", *arguments],
            cwd=tmp_path,
            env={**environment, **variables},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        run_output = OutputLines(run)
        sandbox_output.wait_for(lambda line: line == "Deskhand connected over Socket Mode.")

        type_in("say alice #help Printer on floor 2 is jammed")
        posted = sandbox_output.wait_for(
            lambda line: line.endswith("] alice in #help: Printer on floor 2 is jammed")
        )
        number = posted.removeprefix("[").partition("]")[0]
        type_in(f"react bob {number} ticket")
        card = sandbox_output.wait_for(lambda line: "] deskhand in #it-triage: " in line)
        assert "IT-1" in card
        assert "Printer on floor 2 is jammed" in card

        # What the console printed is what the fake Slack and Jira hold.
        config = load_config(tmp_path / "sandbox-config.yaml")
        slack = WebClient(
            base_url=config.slack.api_url, token=variables["DESKHAND_SLACK_BOT_TOKEN"]
        )
        triage = slack.conversations_info(channel="#it-triage")["channel"]["id"]
        [message] = slack.conversations_history(channel=triage)["messages"]
        assert "IT-1" in message["text"]
        assert config.jira is not None
        jira = JIRA(
            server=config.jira.url,
            basic_auth=(config.jira.account, variables["DESKHAND_JIRA_TOKEN"]),
            timeout=5,
            max_retries=0,
        )
        assert eventually(lambda: len(jira.search_issues("project = IT")) == 1)
        [issue] = jira.search_issues("project = IT")
        assert issue.fields.summary == "[IT-1] Printer on floor 2 is jammed"
    finally:
        if run is not None:
            run.send_signal(signal.SIGTERM)
            run.wait(timeout=DEADLINE)
        type_in("quit")
        sandbox.wait(timeout=DEADLINE)
    assert run.returncode == 0, "\n".join(run_output.seen + run_output.until_end())
    assert sandbox.returncode == 0
    assert sandbox_output.until_end()[-1] == "sandbox stopped"
