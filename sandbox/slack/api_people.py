"""auth.test, users.*, usergroups.users.list, team.info, reactions.*, apps.connections.open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.slack.api_common import channel_arg, message_arg, message_object
from sandbox.slack.errors import SlackError
from sandbox.slack.state import User, Workspace

if TYPE_CHECKING:
    from sandbox.slack.web_api import Call, Handler


def register(methods: dict[str, Handler]) -> None:
    methods.update(
        {
            "auth.test": auth_test,
            "users.info": users_info,
            "users.lookupByEmail": users_lookup_by_email,
            "usergroups.users.list": usergroups_users_list,
            "team.info": team_info,
            "reactions.add": reactions_add,
            "reactions.remove": reactions_remove,
            "reactions.get": reactions_get,
            "apps.connections.open": apps_connections_open,
        }
    )


def auth_test(call: Call) -> dict[str, Any]:
    user = call.user()
    workspace = call.workspace
    body: dict[str, Any] = {
        "url": f"https://{workspace.domain}.slack.com/",
        "team": workspace.team_name,
        "user": user.name,
        "team_id": workspace.team_id,
        "user_id": user.id,
        "is_enterprise_install": False,
    }
    if user.bot_id:
        body["bot_id"] = user.bot_id
    return body


def user_object(workspace: Workspace, user: User) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "team": workspace.team_id,
        "image_48": "https://a.slack-edge.com/avatar_48.png",
    }
    if user.email and not user.is_bot:
        profile["email"] = user.email
    if user.bot_id:
        profile["bot_id"] = user.bot_id
        profile["api_app_id"] = user.app_id or ""
        profile["always_active"] = True
    return {
        "id": user.id,
        "team_id": workspace.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz,
        "tz_offset": 0,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 0,
    }


def users_info(call: Call) -> dict[str, Any]:
    user = call.workspace.users.get(str(call.arg("user")))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user_object(call.workspace, user)}


def users_lookup_by_email(call: Call) -> dict[str, Any]:
    email = str(call.arg("email")).lower()
    for user in call.workspace.users.values():
        if user.email and user.email.lower() == email and not user.is_bot:
            return {"user": user_object(call.workspace, user)}
    raise SlackError("users_not_found")


def usergroups_users_list(call: Call) -> dict[str, Any]:
    members = call.workspace.usergroups.get(str(call.arg("usergroup")))
    if members is None:
        raise SlackError("no_such_subteam")
    return {"users": list(members)}


def team_info(call: Call) -> dict[str, Any]:
    workspace = call.workspace
    return {
        "team": {
            "id": workspace.team_id,
            "name": workspace.team_name,
            "domain": workspace.domain,
            "email_domain": "example.com",
            "icon": {"image_default": True},
        }
    }


def _reaction_target(call: Call) -> tuple[Any, str]:
    if not call.args.get("channel") or not call.args.get("timestamp"):
        raise SlackError("no_item_specified")
    channel = channel_arg(call, must_be_member=False)
    return message_arg(call, channel, "timestamp"), str(call.args.get("name", ""))


def reactions_add(call: Call) -> dict[str, Any]:
    message, name = _reaction_target(call)
    if not name or ":" in name:
        raise SlackError("invalid_name")
    call.workspace.react(message, call.user(), name)
    return {}


def reactions_remove(call: Call) -> dict[str, Any]:
    message, name = _reaction_target(call)
    call.workspace.unreact(message, call.user(), name)
    return {}


def reactions_get(call: Call) -> dict[str, Any]:
    if not call.args.get("channel") or not call.args.get("timestamp"):
        raise SlackError("no_item_specified")
    channel = channel_arg(call, must_be_member=False)
    message = message_arg(call, channel, "timestamp")
    body = message_object(call, message)
    if not call.flag("full"):
        for reaction in body.get("reactions", []):
            reaction["users"] = reaction["users"][:50]
    return {"type": "message", "channel": channel.id, "message": body}


def apps_connections_open(call: Call) -> dict[str, Any]:
    url = call.workspace.socket_mode_url
    if url is None:
        raise SlackError("internal_error", detail="the sandbox's Socket Mode server is not running")
    return {"url": url()}
