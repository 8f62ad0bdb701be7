"""The payloads Slack sends an app: Events API callbacks, interactions, slash commands.

Field names and shapes follow the recorded samples (java-slack-sdk json-logs, Bolt's tests).
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import urlencode

from sandbox.slack.state import Channel, Message, User, View, Workspace

VERIFICATION_TOKEN = "sandbox-verification-token"  # noqa: S105 - deprecated field, not a secret
_event_ids = itertools.count(1)


def event_callback(workspace: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    event_id = f"Ev0{next(_event_ids):09d}"
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": workspace.team_id,
        "context_team_id": workspace.team_id,
        "context_enterprise_id": None,
        "api_app_id": workspace.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(workspace.clock.wall()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": workspace.team_id,
                "user_id": workspace.bot.id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }


def _team(workspace: Workspace) -> dict[str, Any]:
    return {"id": workspace.team_id, "domain": workspace.domain}


def _user(workspace: Workspace, user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": workspace.team_id}


def _channel(channel: Channel) -> dict[str, Any]:
    return {"id": channel.id, "name": channel.name or "directmessage"}


def _response_url(workspace: Workspace, kind: str) -> str:
    return f"https://hooks.slack.com/{kind}/{workspace.team_id}/{workspace.new_id('R')}/sandbox"


def slash_command(
    workspace: Workspace, user: User, channel: Channel, command: str, text: str, trigger_id: str
) -> dict[str, str]:
    """A slash command's form fields (sent form-encoded)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": workspace.team_id,
        "team_domain": workspace.domain,
        "channel_id": channel.id,
        "channel_name": channel.name or "directmessage",
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": workspace.app_id,
        "is_enterprise_install": "false",
        "response_url": _response_url(workspace, "commands"),
        "trigger_id": trigger_id,
    }


def message_shortcut(
    workspace: Workspace,
    user: User,
    channel: Channel,
    message: Message,
    callback_id: str,
    trigger_id: str,
) -> dict[str, Any]:
    body = workspace.message_object(message)
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": workspace.next_ts(),
        "team": _team(workspace),
        # Shortcut payloads name the user without ``username`` (recorded samples).
        "user": {key: v for key, v in _user(workspace, user).items() if key != "username"},
        "channel": _channel(channel),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": _response_url(workspace, "app"),
        "message_ts": message.ts,
        "message": body,
    }


def block_actions(
    workspace: Workspace,
    user: User,
    trigger_id: str,
    action: dict[str, Any],
    *,
    message: Message | None = None,
    view: View | None = None,
    view_object: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(workspace, user),
        "api_app_id": workspace.app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": _team(workspace),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if message is not None:
        channel = workspace.channels[message.channel]
        body = workspace.message_object(message)
        payload.update(
            {
                "container": {
                    "type": "message",
                    "message_ts": message.ts,
                    "channel_id": channel.id,
                    "is_ephemeral": False,
                },
                "channel": _channel(channel),
                "message": body,
                "response_url": _response_url(workspace, "actions"),
                "state": {"values": {}},
            }
        )
    if view is not None and view_object is not None:
        payload["container"] = {"type": "view", "view_id": view.id}
        payload["view"] = view_object
    return payload


def view_submission(
    workspace: Workspace, user: User, view_object: dict[str, Any], trigger_id: str
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": _team(workspace),
        "user": _user(workspace, user),
        "api_app_id": workspace.app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view_object,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed(workspace: Workspace, user: User, view_object: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_closed",
        "team": _team(workspace),
        "user": _user(workspace, user),
        "api_app_id": workspace.app_id,
        "token": VERIFICATION_TOKEN,
        "view": view_object,
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    """Interactivity requests are form-encoded with the JSON in a ``payload`` field."""
    return urlencode({"payload": json.dumps(payload)}).encode()
