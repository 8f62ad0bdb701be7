"""Secrets come from the environment only, never from ``config.yaml`` and never into a log."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Secrets(BaseSettings):
    """Tokens read from ``DESKHAND_*`` variables; ``SecretStr`` keeps them out of reprs."""

    model_config = SettingsConfigDict(env_prefix="DESKHAND_", extra="ignore", frozen=True)

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_signing_secret_previous: SecretStr | None = None
    jira_token: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None
    jira_webhook_secret_previous: SecretStr | None = None

    def missing_for(self, *, socket_mode: bool, jira: bool) -> list[str]:
        """Names of the variables a run with these features needs but lacks."""
        needed = ["slack_bot_token", "slack_signing_secret"]
        if socket_mode:
            needed.append("slack_app_token")
        if jira:
            needed.append("jira_token")
        return [f"DESKHAND_{name.upper()}" for name in needed if getattr(self, name) is None]
