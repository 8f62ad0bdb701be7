"""Setting issue fields from a request's ``fields`` and ``update`` parts, the way Jira checks them.

Each setter validates first and returns the change items for the issue's changelog, so a
request with one bad field changes nothing (the caller validates everything before applying).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.jira.errors import (
    SUMMARY_LIMIT,
    TEXT_LIMIT,
    TOO_LONG,
    field_error,
    not_on_screen,
)
from sandbox.jira.model import ChangeItem, Issue, Priority

if TYPE_CHECKING:
    from sandbox.jira.state import JiraState

EDITABLE = frozenset({"summary", "description", "priority", "assignee", "reporter", "labels"})
"""System fields on the fake's edit screen; custom fields are added per site."""


@dataclass
class Pending:
    """A validated change, applied only when every field of the request is valid."""

    apply: Callable[[Issue], ChangeItem | None]


def check_summary(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise field_error("summary", "You must specify a summary of the issue.")
    if "\n" in value or "\r" in value:
        raise field_error(
            "summary", "The summary is invalid because it contains newline characters."
        )
    if len(value) > SUMMARY_LIMIT:
        raise field_error("summary", "Summary must be less than 255 characters.")
    return value


def check_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise field_error(field, f"Operation value must be a string for field '{field}'.")
    if len(value) > TEXT_LIMIT:
        raise field_error(field, TOO_LONG)
    return value


def check_labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise field_error("labels", "Field 'labels' must be a list of strings.")
    for label in value:
        if " " in label:
            raise field_error("labels", f"The label '{label}' contains spaces which is invalid.")
    return list(dict.fromkeys(value))


def _change(field: str, old: str | None, new: str | None) -> ChangeItem | None:
    if old == new:
        return None
    return ChangeItem(field, old, old, new, new)


class FieldSetter:
    """Validates ``fields``/``update`` for one issue and turns them into pending changes."""

    def __init__(self, state: JiraState, allowed: frozenset[str]) -> None:
        self.state = state
        self.allowed = allowed

    def plan(self, fields: dict[str, Any], update: dict[str, Any]) -> list[Pending]:
        pending: list[Pending] = []
        for name, value in fields.items():
            if name not in self.allowed:
                raise not_on_screen(name)
            pending.append(self._set(name, value))
        for name, ops in update.items():
            if name == "comment":
                continue  # handled by the caller: it creates a comment, not a field change
            if name not in self.allowed:
                raise not_on_screen(name)
            if not isinstance(ops, list):
                raise field_error(name, f"Field '{name}' update operations must be a list.")
            pending.extend(self._operation(name, op) for op in ops)
        return pending

    def _operation(self, name: str, op: Any) -> Pending:
        if not isinstance(op, dict) or len(op) != 1:
            raise field_error(name, "Operation must have exactly one verb.")
        ((verb, value),) = op.items()
        if verb == "set":
            return self._set(name, value)
        if name == "labels" and verb in ("add", "remove"):
            (label,) = check_labels([value])

            def edit_labels(issue: Issue) -> ChangeItem | None:
                old = " ".join(issue.labels) or None
                if verb == "add" and label not in issue.labels:
                    issue.labels.append(label)
                if verb == "remove" and label in issue.labels:
                    issue.labels.remove(label)
                return _change("labels", old, " ".join(issue.labels) or None)

            return Pending(edit_labels)
        raise field_error(name, f"Field '{name}' does not support operation '{verb}'.")

    def _set(self, name: str, value: Any) -> Pending:
        if name == "summary":
            summary = check_summary(value)

            def set_summary(issue: Issue) -> ChangeItem | None:
                old, issue.summary = issue.summary, summary
                return _change("summary", old, summary)

            return Pending(set_summary)
        if name == "description":
            text = check_text("description", value)

            def set_description(issue: Issue) -> ChangeItem | None:
                old, issue.description = issue.description, text
                return _change("description", old, text)

            return Pending(set_description)
        if name == "labels":
            labels = check_labels(value)

            def set_labels(issue: Issue) -> ChangeItem | None:
                old = " ".join(issue.labels) or None
                issue.labels = labels
                return _change("labels", old, " ".join(labels) or None)

            return Pending(set_labels)
        if name == "priority":
            priority = self.state.find_priority(value)
            return Pending(lambda issue: _set_priority(issue, priority))
        if name in ("assignee", "reporter"):
            user = None if value is None else self.state.user_from_ref(name, value)
            new_name = None if user is None else user.name

            def set_person(issue: Issue) -> ChangeItem | None:
                old = getattr(issue, name)
                setattr(issue, name, new_name)
                return self.state.user_change(name, old, new_name)

            return Pending(set_person)
        if name == "resolution":
            resolution = self.state.find_resolution(value)

            def set_resolution(issue: Issue) -> ChangeItem | None:
                old, issue.resolution = issue.resolution, resolution
                return _change("resolution", old, resolution)

            return Pending(set_resolution)
        if name in self.state.custom_fields:
            if isinstance(value, str) and len(value) > TEXT_LIMIT:
                raise field_error(name, TOO_LONG)
            label = self.state.custom_fields[name].name

            def set_custom(issue: Issue) -> ChangeItem | None:
                old = issue.custom.get(name)
                issue.custom[name] = value
                if old == value:
                    return None
                return ChangeItem(label, None, _text(old), None, _text(value), "custom")

            return Pending(set_custom)
        raise not_on_screen(name)


def _set_priority(issue: Issue, priority: Priority) -> ChangeItem | None:
    old = issue.priority
    issue.priority = priority
    if old == priority:
        return None
    return ChangeItem(
        "priority",
        old.id if old else None,
        old.name if old else None,
        priority.id,
        priority.name,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return str(value.get("value", value.get("name", value)))
    return str(value)
