"""The configuration ``deskhand sandbox`` writes: the user's file, pointed at the sandbox."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from deskhand.config import load_config
from deskhand.config.schema import JiraFlavour, SlackMode
from deskhand.sandbox_config import SandboxEndpoints, sandbox_config
from tests.conftest import ROOT

ENDPOINTS = SandboxEndpoints(
    slack_api_url="http://127.0.0.1:4001/api/",
    database_url="sqlite:////tmp/sandbox-scratch/deskhand.db",
    http_port=4003,
    jira_url="http://127.0.0.1:4002",
    jira_flavour="cloud",
    jira_account="deskhand-bot@example.com",
    jira_fallback="deskhand-bot@example.com",
)


def write(source: Path, destination: Path, endpoints: SandboxEndpoints = ENDPOINTS) -> str:
    text = sandbox_config(source, destination, endpoints)
    destination.write_text(text)
    return text


def test_the_repositorys_config_pointed_at_the_sandbox(tmp_path: Path) -> None:
    destination = tmp_path / "elsewhere" / "sandbox-config.yaml"
    destination.parent.mkdir()
    text = write(ROOT / "config.yaml", destination)
    written, original = load_config(destination), load_config(ROOT / "config.yaml")
    assert written.slack.mode is SlackMode.SOCKET
    assert written.slack.api_url == "http://127.0.0.1:4001/api/"
    assert written.database.url == "sqlite:////tmp/sandbox-scratch/deskhand.db"
    assert (written.http.host, written.http.port, written.http.public_url) == (
        "127.0.0.1",
        4003,
        None,
    )
    assert written.jira is not None
    assert original.jira is not None
    assert (written.jira.url, written.jira.account, written.jira.fallback_account) == (
        "http://127.0.0.1:4002",
        "deskhand-bot@example.com",
        "deskhand-bot@example.com",
    )
    # From another folder, the recipes are still the repository's.
    assert written.recipes.paths == [str(ROOT / "recipes" / "builtin")]
    # Everything else is the user's, comments included.
    assert written.teams == original.teams
    assert written.jira.status_map == original.jira.status_map
    assert written.slack.request_channels == original.slack.request_channels
    assert "# :ticket: on a message makes it a ticket" in text
    assert text.startswith("# Written by `deskhand sandbox` from config.yaml")


def test_http_mode_and_a_server_flavour_are_rewritten(tmp_path: Path) -> None:
    source = tmp_path / "config.yaml"
    source.write_text(
        "slack: {mode: http, request_channels: [help]}\n"
        "teams:\n"
        "  - {name: IT, key_prefix: IT, triage_channel: it-triage, jira: {project: IT}}\n"
        "jira: {url: 'https://jira.example.com', flavour: cloud, account: me@example.com}\n"
        "http: {public_url: 'https://deskhand.example.com', port: 3000}\n"
    )
    server = dataclasses.replace(ENDPOINTS, jira_flavour="server", jira_account="deskhand")
    write(source, tmp_path / "out.yaml", server)
    written = load_config(tmp_path / "out.yaml")
    assert written.jira is not None
    assert written.slack.mode is SlackMode.SOCKET
    assert (written.jira.flavour, written.jira.account) == (JiraFlavour.SERVER, "deskhand")
    assert written.jira.fallback_account is None  # the source has none
    assert written.http.public_url is None


def test_sections_left_to_their_defaults_are_added(tmp_path: Path) -> None:
    source = tmp_path / "config.yaml"
    source.write_text("teams:\n  - {name: IT, key_prefix: IT, triage_channel: it-triage}\n")
    write(source, tmp_path / "sandbox-config.yaml")
    written = load_config(tmp_path / "sandbox-config.yaml")
    assert written.slack.api_url == "http://127.0.0.1:4001/api/"
    assert written.database.url == "sqlite:////tmp/sandbox-scratch/deskhand.db"
    assert written.jira is None  # no Jira to point at
