"""views.open, views.push, views.update and views.publish."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from sandbox.slack.blocks import view_problems
from sandbox.slack.errors import SlackError
from sandbox.slack.state import View, Workspace

if TYPE_CHECKING:
    from sandbox.slack.web_api import Call, Handler

MAX_STACK = 3
"""Slack keeps at most three modals in a stack."""


def register(methods: dict[str, Handler]) -> None:
    methods.update(
        {
            "views.open": views_open,
            "views.push": views_push,
            "views.update": views_update,
            "views.publish": views_publish,
        }
    )


def view_object(workspace: Workspace, view: View) -> dict[str, Any]:
    body = view.body
    result: dict[str, Any] = {
        "id": view.id,
        "team_id": view.team_id,
        "type": body["type"],
        "blocks": body.get("blocks", []),
        "private_metadata": body.get("private_metadata", ""),
        "callback_id": body.get("callback_id", ""),
        "state": view.state,
        "hash": view.hash,
        "clear_on_close": bool(body.get("clear_on_close", False)),
        "notify_on_close": bool(body.get("notify_on_close", False)),
        "root_view_id": view.root_view_id,
        "previous_view_id": view.previous_view_id,
        "app_id": view.app_id,
        "external_id": body.get("external_id", ""),
        "app_installed_team_id": view.team_id,
        "bot_id": view.bot_id,
    }
    for key in ("title", "submit", "close"):
        if key in body:
            result[key] = body[key]
    return result


def _checked_view(call: Call) -> dict[str, Any]:
    view = call.json_arg("view")
    problems = view_problems(view)
    if problems:
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
        )
    assert isinstance(view, dict)
    return view


def _new_view(call: Call, body: dict[str, Any], user_id: str, root: View | None) -> View:
    workspace = call.workspace
    view_id = workspace.new_id("V")
    bot = call.user()
    return View(
        id=view_id,
        team_id=workspace.team_id,
        app_id=bot.app_id or workspace.app_id,
        bot_id=bot.bot_id or "",
        user_id=user_id,
        body=body,
        hash=f"{int(workspace.clock.wall())}.{secrets.token_hex(4)}",
        root_view_id=root.root_view_id if root else view_id,
        previous_view_id=root.id if root else None,
    )


def views_open(call: Call) -> dict[str, Any]:
    body = _checked_view(call)
    trigger = call.workspace.use_trigger(str(call.arg("trigger_id")))
    view = _new_view(call, body, trigger.user_id, None)
    call.workspace.open_view(view)
    return {"view": view_object(call.workspace, view)}


def views_push(call: Call) -> dict[str, Any]:
    body = _checked_view(call)
    trigger = call.workspace.use_trigger(str(call.arg("trigger_id")))
    stack = call.workspace.modal_stack(trigger.user_id)
    if not stack:
        raise SlackError("not_found")
    if len(stack) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    view = _new_view(call, body, trigger.user_id, stack[-1])
    call.workspace.open_view(view)
    return {"view": view_object(call.workspace, view)}


def views_update(call: Call) -> dict[str, Any]:
    body = _checked_view(call)
    workspace = call.workspace
    view_id = call.args.get("view_id")
    external_id = call.args.get("external_id")
    if not view_id and not external_id:
        raise SlackError("invalid_arguments")
    view = next(
        (
            v
            for v in workspace.views.values()
            if (view_id and v.id == view_id)
            or (external_id and v.body.get("external_id") == external_id)
        ),
        None,
    )
    if view is None:
        raise SlackError("not_found")
    expected = call.args.get("hash")
    if expected and expected != view.hash:
        raise SlackError("hash_conflict")
    view.body = body
    view.hash = f"{int(workspace.clock.wall())}.{secrets.token_hex(4)}"
    return {"view": view_object(workspace, view)}


def views_publish(call: Call) -> dict[str, Any]:
    body = _checked_view(call)
    if body.get("type") != "home":
        raise SlackError("invalid_arguments")
    workspace = call.workspace
    user_id = str(call.arg("user_id"))
    if user_id not in workspace.users:
        # Slack's documented answer (https://api.slack.com/methods/views.publish): no
        # user_not_found, but invalid_arguments naming the argument.
        raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `user_id`"]})
    existing = workspace.home_views.get(user_id)
    expected = call.args.get("hash")
    if existing is not None and expected and expected != existing.hash:
        raise SlackError("hash_conflict")
    view = _new_view(call, body, user_id, None)
    workspace.home_views[user_id] = view
    return {"view": view_object(workspace, view)}
