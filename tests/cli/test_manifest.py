"""The Slack app manifest asks for the fewest scopes the configured features need."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.config import parse_config
from deskhand.manifest import build_manifest
from tests.conftest import ROOT

BASE = """\
teams:
  - {name: IT, key_prefix: IT, triage_channel: it-triage}
"""
JIRA = "jira: {url: 'https://x.atlassian.net', account: bot@x.com}\n"


def scopes(text: str) -> set[str]:
    return set(build_manifest(parse_config(text))["oauth_config"]["scopes"]["bot"])


def test_cli_prints_the_manifest_as_json() -> None:
    result = CliRunner().invoke(app, ["manifest", "--config", str(ROOT / "config.yaml")])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["slash_commands"][0]["command"] == "/helpdesk"
    shortcut = manifest["features"]["shortcuts"][0]
    assert shortcut["type"] == "message"
    assert shortcut["name"] == "Create ticket"
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "message.channels",
        "message.groups",
        "message.im",
        "reaction_added",
    }


def test_minimal_configuration_gets_the_base_scopes_only() -> None:
    assert scopes(BASE + "slack: {dm_intake: false}\n") == {
        "channels:history",
        "channels:read",
        "chat:write",
        "commands",
        "groups:history",
        "groups:read",
        "im:write",
        "reactions:read",
        "users:read",
    }


def test_each_feature_adds_only_its_own_scopes() -> None:
    base = scopes(BASE + "slack: {dm_intake: false}\n")
    assert scopes(BASE) - base == {"im:history"}
    assert scopes(BASE + "slack: {dm_intake: false}\n" + JIRA) - base == {"users:read.email"}


def test_no_admin_or_write_scopes_beyond_chat() -> None:
    everything = scopes(BASE + JIRA)
    assert not {scope for scope in everything if scope.endswith(":write")} - {
        "chat:write",
        "im:write",
    }
    assert not any(scope.startswith("admin") for scope in everything)


def test_http_mode_sets_request_urls_and_turns_socket_mode_off() -> None:
    manifest = build_manifest(
        parse_config(
            BASE + "slack: {mode: http}\nhttp: {public_url: 'https://desk.example.com/'}\n"
        )
    )
    assert manifest["settings"]["socket_mode_enabled"] is False
    url = "https://desk.example.com/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["features"]["slash_commands"][0]["url"] == url
