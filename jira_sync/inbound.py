"""Jira's webhook bodies and REST representations as the core's vendor-neutral events.

Pure parsing: no I/O. Webhooks embed the same issue and comment beans as REST v2, so one set of
readers serves both the webhook receiver and the poller.

Conventions of the events made here:

* ``updated`` is an instant, normalised to UTC with milliseconds
  (``2019-02-16T03:11:18.321+00:00``), whatever zone Jira rendered it in (REST renders in the
  API user's zone, webhooks in the server's), so the same state always reads the same.
* People are named by Cloud ``accountId``, else by Server ``name`` (username), else by ``key``.
* A deletion carries the webhook's ``timestamp`` as ``updated`` when that is later than the
  last ``updated`` of the deleted thing: a deletion happens after the last edit, and the core's
  timestamp guards must see it as newer.
* Server's ``comment_*`` bodies do not name the issue. The issue key is then taken from the
  comment's ``self`` URL when that URL names a key; Jira puts the issue's numeric id there, so
  in practice ``issue_key`` is ``""`` (unknown) for those bodies. The comment id is unique in a
  Jira site, which is enough for the core to find an edited or deleted comment it knows; a new
  comment is also announced by ``jira:issue_updated`` (``issue_commented``), which names the
  issue.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from deskhand.events import JiraCommentSeen, JiraIssueSeen

log = logging.getLogger(__name__)

JiraEvent = JiraIssueSeen | JiraCommentSeen

ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})
COMMENT_EVENTS = frozenset({"comment_created", "comment_updated", "comment_deleted"})
HANDLED_EVENTS = ISSUE_EVENTS | COMMENT_EVENTS
"""Every ``webhookEvent`` that can make events; any other body makes none."""

_COMMENT_SELF = re.compile(r"/issue/(?P<issue>[^/?#]+)/comment/[^/?#]+/?$")
_ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+")
_SD_PUBLIC = "sd.public.comment"
"""The comment property in which Jira Service Management marks internal comments."""


class UnreadableError(ValueError):
    """A Jira representation lacks what an event needs (a key, an id, a time)."""


# -- webhooks ------------------------------------------------------------------------------------


def events_from_webhook(body: Mapping[str, Any]) -> list[JiraEvent]:
    """The events in one webhook body; ``[]`` for a webhook Deskhand does not use.

    ``jira:issue_created``/``jira:issue_updated`` give the issue's state and, when the body
    carries a ``comment`` (``issue_commented``, ``issue_comment_edited`` and the old Server
    format, which has no ``issue_event_type_name``), that comment too. ``issue_comment_deleted``
    bodies do not say which comment went: that comes from ``comment_deleted``. A known kind of
    webhook that lacks what an event needs is logged and gives ``[]``: Jira resending it would
    not help, and the poller reads the issue again.
    """
    kind = body.get("webhookEvent")
    if kind not in HANDLED_EVENTS:
        return []
    try:
        if kind in ISSUE_EVENTS:
            return _issue_webhook(str(kind), body)
        return [_comment_webhook(str(kind), body)]
    except UnreadableError as exc:
        log.warning("ignoring a Jira %s webhook: %s", kind, exc)
        return []


def _issue_webhook(kind: str, body: Mapping[str, Any]) -> list[JiraEvent]:
    issue = _mapping(body.get("issue"), "issue")
    actor = account_of(body.get("user"))
    at = _webhook_time(body.get("timestamp"))
    if kind == "jira:issue_deleted":
        return [_issue(issue, actor, fallback=at, deleted_at=at)]
    found: list[JiraEvent] = [_issue(issue, actor, fallback=at)]
    comment = body.get("comment")
    if isinstance(comment, Mapping):
        deleted = body.get("issue_event_type_name") == "issue_comment_deleted"
        key = _text(issue.get("key"), "issue.key")
        found.append(_comment(key, comment, deleted_at=at if deleted else None, deleted=deleted))
    return found


def _comment_webhook(kind: str, body: Mapping[str, Any]) -> JiraCommentSeen:
    comment = _mapping(body.get("comment"), "comment")
    issue = body.get("issue")
    if isinstance(issue, Mapping) and issue.get("key"):
        key = str(issue["key"])
    else:
        key = issue_key_from_url(comment.get("self"))
    deleted = kind == "comment_deleted"
    at = _webhook_time(body.get("timestamp")) if deleted else None
    return _comment(key, comment, deleted_at=at, deleted=deleted)


# -- REST representations ------------------------------------------------------------------------


def issue_from_rest(issue_json: Mapping[str, Any], actor: str | None = None) -> JiraIssueSeen:
    """An issue as ``GET /issue`` or a search returns it (``key``, ``fields.updated``, and the
    ``status``, ``priority`` and ``assignee`` fields when asked for).

    Raises :class:`UnreadableError` (a ``ValueError``) without a key or ``fields.updated``.
    """
    return _issue(issue_json, actor)


def comment_from_rest(issue_key: str, comment_json: Mapping[str, Any]) -> JiraCommentSeen:
    """A comment as ``GET /issue/{key}/comment`` returns it.

    Internal means a JSM internal comment (``jsdPublic: false``, or the ``sd.public.comment``
    property when asked for with ``expand=properties``) or one restricted by a ``visibility``.
    Raises :class:`UnreadableError` (a ``ValueError``) without an id or ``updated``.
    """
    return _comment(issue_key, comment_json)


def _issue(
    issue: Mapping[str, Any],
    actor: str | None,
    *,
    fallback: str | None = None,
    deleted_at: str | None = None,
) -> JiraIssueSeen:
    key = _text(issue.get("key"), "issue.key")
    fields = issue.get("fields")
    fields = fields if isinstance(fields, Mapping) else {}
    raw_updated = fields.get("updated")
    if raw_updated is None:
        if fallback is None:
            raise UnreadableError(f"issue {key} has no fields.updated")
        updated = fallback
    else:
        updated = normalise_time(raw_updated)
    if deleted_at is not None:
        updated = max(updated, deleted_at, key=datetime.fromisoformat)
    assignee = fields.get("assignee")
    return JiraIssueSeen(
        issue_key=key,
        updated=updated,
        actor=actor,
        status=_name(fields.get("status")),
        priority=_name(fields.get("priority")),
        assignee=account_of(assignee),
        assignee_name=_optional_text(assignee, "displayName"),
        assignee_email=_optional_text(assignee, "emailAddress"),
        deleted=deleted_at is not None,
    )


def _comment(
    issue_key: str,
    comment: Mapping[str, Any],
    *,
    deleted_at: str | None = None,
    deleted: bool = False,
) -> JiraCommentSeen:
    ident = _text(comment.get("id"), "comment.id")
    raw_updated = comment.get("updated") or comment.get("created")
    if raw_updated is None:
        if deleted_at is None:
            raise UnreadableError(f"comment {ident} has no updated time")
        updated = deleted_at
    else:
        updated = normalise_time(raw_updated)
    if deleted_at is not None:
        updated = max(updated, deleted_at, key=datetime.fromisoformat)
    author = comment.get("author")
    return JiraCommentSeen(
        issue_key=issue_key,
        comment_id=ident,
        updated=updated,
        author=account_of(author),
        author_name=_optional_text(author, "displayName") or "",
        body=body_text(comment.get("body")),
        internal=is_internal(comment),
        deleted=deleted,
    )


# -- pieces --------------------------------------------------------------------------------------


def account_of(user: Any) -> str | None:
    """A user's Cloud account id, else Server username, else Server user key."""
    if not isinstance(user, Mapping):
        return None
    for field in ("accountId", "name", "key"):
        value = user.get(field)
        if value:
            return str(value)
    return None


def is_internal(comment: Mapping[str, Any]) -> bool:
    if comment.get("jsdPublic") is False or comment.get("visibility"):
        return True
    properties = comment.get("properties")
    for prop in properties if isinstance(properties, list) else []:
        if isinstance(prop, Mapping) and prop.get("key") == _SD_PUBLIC:
            value = prop.get("value")
            if isinstance(value, Mapping) and value.get("internal") is True:
                return True
    return False


def issue_key_from_url(url: Any) -> str:
    """The issue key in a comment's ``self`` URL, or ``""`` when it names the issue by id."""
    if not isinstance(url, str):
        return ""
    match = _COMMENT_SELF.search(url)
    if match is None or not _ISSUE_KEY.fullmatch(match["issue"]):
        return ""
    return match["issue"].upper()


def normalise_time(value: Any) -> str:
    """A Jira time (``2019-02-15T19:11:18.321-0800``) as UTC ISO 8601 with milliseconds."""
    if not isinstance(value, str):
        raise UnreadableError(f"not a Jira time: {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UnreadableError(f"not a Jira time: {value!r}") from exc
    if moment.tzinfo is None:
        raise UnreadableError(f"a Jira time without an offset: {value!r}")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def body_text(body: Any) -> str:
    """A comment body: REST v2 and webhooks give wiki markup as a string.

    An Atlassian Document Format body (REST v3) is flattened to its text, paragraph by
    paragraph, rather than dropped.
    """
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    if isinstance(body, Mapping):
        return _adf_text(body).strip("\n")
    return str(body)


_ADF_BLOCKS = frozenset(
    {"paragraph", "heading", "listItem", "codeBlock", "blockquote", "rule", "tableRow"}
)


def _adf_text(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    attrs = node.get("attrs")
    if kind in ("mention", "emoji", "status") and isinstance(attrs, Mapping):
        return str(attrs.get("text") or attrs.get("shortName") or "")
    content = node.get("content")
    inner = "".join(
        _adf_text(child)
        for child in (content if isinstance(content, list) else [])
        if isinstance(child, Mapping)
    )
    return inner + "\n" if kind in _ADF_BLOCKS else inner


def _webhook_time(value: Any) -> str | None:
    """A webhook's ``timestamp`` (milliseconds since the epoch) as an event time."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, UTC).isoformat(timespec="milliseconds")


def _name(value: Any) -> str | None:
    return _optional_text(value, "name")


def _optional_text(value: Any, field: str) -> str | None:
    if not isinstance(value, Mapping):
        return None
    found = value.get(field)
    return None if found is None else str(found)


def _text(value: Any, what: str) -> str:
    if value is None or value == "":
        raise UnreadableError(f"no {what}")
    return str(value)


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnreadableError(f"no {what}")
    return value
