"""Secrets come from DESKHAND_* variables and never show in a repr or a dump."""

from __future__ import annotations

import pytest

from deskhand.config import Secrets


def test_secrets_are_read_from_the_environment_and_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESKHAND_SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("DESKHAND_JIRA_TOKEN", "jira-very-secret")
    secrets = Secrets()
    assert secrets.slack_bot_token is not None
    assert secrets.slack_bot_token.get_secret_value() == "xoxb-very-secret"
    for shown in (repr(secrets), str(secrets), secrets.model_dump_json()):
        assert "very-secret" not in shown


def test_missing_secrets_are_named_for_the_features_in_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "JIRA_TOKEN"):
        monkeypatch.delenv(f"DESKHAND_{name}", raising=False)
    monkeypatch.setenv("DESKHAND_SLACK_BOT_TOKEN", "xoxb-1")
    secrets = Secrets()
    assert secrets.missing_for(socket_mode=False, jira=False) == ["DESKHAND_SLACK_SIGNING_SECRET"]
    assert secrets.missing_for(socket_mode=True, jira=True) == [
        "DESKHAND_SLACK_SIGNING_SECRET",
        "DESKHAND_SLACK_APP_TOKEN",
        "DESKHAND_JIRA_TOKEN",
    ]


def test_secrets_in_config_yaml_are_refused() -> None:
    from deskhand.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"slack\.bot_token: unknown key"):
        parse_config(
            "slack: {bot_token: xoxb-1}\n"
            "teams: [{name: IT, key_prefix: IT, triage_channel: it-triage}]\n"
        )
