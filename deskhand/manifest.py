"""The Slack app manifest for a configuration, asking for the fewest scopes its features need.

Each scope is listed beside the feature that needs it, so removing a feature removes its
scopes. Reference: https://api.slack.com/reference/manifests and each method's "Required
scopes" in the Web API docs.
"""

from __future__ import annotations

from typing import Any

from deskhand.config.schema import Config, SlackMode

APP_NAME = "Deskhand"
SHORTCUT_CALLBACK_ID = "create_ticket_from_message"
REPLY_CALLBACK_ID = "reply_to_requester"

# Always needed: post and update cards (chat:write), slash command and shortcut (commands),
# read thread replies and reactions in public and private channels (channels:history,
# groups:history, reactions:read), see channel members to know the agents (channels:read,
# groups:read), show names (users:read), open DMs for confirmations (im:write).
_BASE_SCOPES = {
    "chat:write": "post and update ticket and triage cards",
    "commands": "the slash command and the 'Create ticket' shortcut",
    "channels:history": "thread replies in public request channels",
    "groups:history": "internal notes in the private triage channels",
    "reactions:read": "the ticket emoji",
    "channels:read": "channel names and privacy",
    "groups:read": "triage channel members are the team's agents",
    "users:read": "names on cards",
    "im:write": "confirmations in the requester's DM",
}
_BASE_EVENTS = [
    "app_home_opened",
    "message.channels",
    "message.groups",
    "reaction_added",
]


def required_scopes(config: Config) -> dict[str, str]:
    """Scope -> why Deskhand needs it, for this configuration."""
    scopes = dict(_BASE_SCOPES)
    if config.slack.dm_intake:
        scopes["im:history"] = "messages sent to the bot in DMs"
    if config.jira is not None:
        scopes["users:read.email"] = "map Slack users to Jira accounts by email"
    return dict(sorted(scopes.items()))


def bot_events(config: Config) -> list[str]:
    events = list(_BASE_EVENTS)
    if config.slack.dm_intake:
        events.append("message.im")
    return sorted(events)


class ManifestError(ValueError):
    """The configuration lacks something the manifest has to state."""


def build_manifest(config: Config) -> dict[str, Any]:
    """The manifest; raises :class:`ManifestError` in HTTP mode without ``http.public_url``
    (a made-up request URL would only fail later, in Slack's URL verification)."""
    socket = config.slack.mode is SlackMode.SOCKET
    if not socket and config.http.public_url is None:
        raise ManifestError(
            "slack.mode is http but http.public_url is not set: the manifest has to tell "
            "Slack where to send events; set http.public_url to this service's public "
            "address (e.g. https://deskhand.example.com) and run deskhand manifest again"
        )
    base_url = (config.http.public_url or "").rstrip("/")
    command: dict[str, Any] = {
        "command": config.slack.slash_command,
        "description": "Ask for help: opens a request form",
        "usage_hint": "[what you need]",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": bot_events(config)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket:
        command["url"] = f"{base_url}/slack/events"
        events["request_url"] = f"{base_url}/slack/events"
        interactivity["request_url"] = f"{base_url}/slack/events"
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": APP_NAME,
            "description": "Turns Slack requests into tracked tickets.",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": config.slack.dm_intake,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": APP_NAME.lower(), "always_online": True},
            "shortcuts": [
                {
                    "name": "Create ticket",
                    "type": "message",
                    "callback_id": SHORTCUT_CALLBACK_ID,
                    "description": "Turn this message into a help desk ticket",
                },
                {
                    "name": "Reply to requester",
                    "type": "message",
                    "callback_id": REPLY_CALLBACK_ID,
                    "description": "Send this triage note to the ticket's requester",
                },
            ],
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(required_scopes(config))}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }
