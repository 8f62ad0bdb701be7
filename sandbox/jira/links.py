"""Issue properties and remote links: stored as given, keyed as Jira keys them."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.jira.errors import bad_request, field_error
from sandbox.jira.fields import check_text
from sandbox.jira.model import RemoteLink
from sandbox.jira.state import JiraState


def set_property(state: JiraState, key: str, prop: str, value: Any) -> bool:
    """Store an issue property; True if it is new (Jira answers 201, else 200)."""
    with state.lock:
        issue = state.issue(key)
        if len(prop) > 255:
            raise bad_request("The property key cannot be longer than 255 characters.")
        created = prop not in issue.properties
        issue.properties[prop] = copy.deepcopy(value)
        return created


def add_remote_link(state: JiraState, key: str, payload: dict[str, Any]) -> tuple[RemoteLink, bool]:
    """Add a remote link, or replace the one with the same ``globalId`` (False)."""
    with state.lock:
        issue = state.issue(key)
        obj = payload.get("object")
        if not isinstance(obj, dict) or not obj.get("url") or not obj.get("title"):
            field = "url" if not isinstance(obj, dict) or not obj.get("url") else "title"
            raise field_error(field, f"'{field}' is required.")
        check_text("title", obj.get("title"))
        global_id = payload.get("globalId")
        for link in issue.remote_links:
            if global_id is not None and link.global_id == global_id:
                link.object = obj
                link.application = payload.get("application")
                link.relationship = payload.get("relationship")
                return link, False
        link = RemoteLink(
            state.new_id(),
            obj,
            global_id,
            payload.get("application"),
            payload.get("relationship"),
        )
        issue.remote_links.append(link)
        return link, True
