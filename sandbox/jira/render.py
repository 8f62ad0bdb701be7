"""JSON the way Jira writes it: string ids, ``self`` links, ``2021-01-17T12:34:00.000+0000``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.jira.model import (
    STATUS_CATEGORIES,
    Comment,
    History,
    Issue,
    IssueType,
    Priority,
    Project,
    RemoteLink,
    Status,
    Transition,
    User,
)
from sandbox.jira.state import JiraState

SYSTEM_FIELDS: tuple[tuple[str, str, str, str | None], ...] = (
    # id, name, schema type, items
    ("summary", "Summary", "string", None),
    ("description", "Description", "string", None),
    ("issuetype", "Issue Type", "issuetype", None),
    ("project", "Project", "project", None),
    ("status", "Status", "status", None),
    ("priority", "Priority", "priority", None),
    ("assignee", "Assignee", "user", None),
    ("reporter", "Reporter", "user", None),
    ("creator", "Creator", "user", None),
    ("labels", "Labels", "array", "string"),
    ("resolution", "Resolution", "resolution", None),
    ("resolutiondate", "Resolved", "datetime", None),
    ("created", "Created", "datetime", None),
    ("updated", "Updated", "datetime", None),
    ("comment", "Comment", "comments-page", None),
)


class Renderer:
    """Renders state for one request: its API base (``…/rest/api/2``) and the caller's zone."""

    def __init__(self, state: JiraState, host: str, version: str, time_zone: str) -> None:
        self.state = state
        self.host = host
        self.api = f"{host}/rest/api/{version}"
        self.tz = ZoneInfo(time_zone)

    def time(self, timestamp: float) -> str:
        moment = datetime.fromtimestamp(timestamp, self.tz)
        return (
            moment.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{moment.microsecond // 1000:03d}"
            + (moment.strftime("%z"))
        )

    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        return {
            f"{size}x{size}": f"{self.host}/secure/{kind}avatar?size={size}&id={ident}"
            for size in (16, 24, 32, 48)
        }

    def user(self, user: User, *, embedded: bool = False) -> dict[str, Any]:
        """A user; ``embedded`` users (authors, assignees) have Jira's shorter UserDetails."""
        body: dict[str, Any] = {
            "emailAddress": user.email,
            "avatarUrls": self.avatars("user", user.account_id),
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": user.time_zone,
        }
        if not embedded:
            body["locale"] = "en_US"
        if self.state.flavour == "cloud":
            return {
                "self": f"{self.api}/user?accountId={user.account_id}",
                "accountId": user.account_id,
                "accountType": "atlassian",
                **body,
            }
        return {
            "self": f"{self.api}/user?username={user.name}",
            "key": user.key,
            "name": user.name,
            **body,
        }

    def user_named(self, name: str | None) -> dict[str, Any] | None:
        return None if name is None else self.user(self.state.users[name], embedded=True)

    def project(self, project: Project) -> dict[str, Any]:
        body: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "avatarUrls": self.avatars("project", project.id),
            "projectTypeKey": "service_desk",
            "simplified": False,
            "style": "classic",
            "isPrivate": False,
            "issueTypes": [self.issue_type(t) for t in project.issue_types],
        }
        if project.lead is not None:
            body["lead"] = self.user(self.state.users[project.lead], embedded=True)
        return body

    def issue_type(self, issue_type: IssueType) -> dict[str, Any]:
        return {
            "self": f"{self.api}/issuetype/{issue_type.id}",
            "id": issue_type.id,
            "description": "",
            "iconUrl": f"{self.host}/images/icons/issuetypes/{issue_type.id}.svg",
            "name": issue_type.name,
            "subtask": issue_type.subtask,
            "hierarchyLevel": -1 if issue_type.subtask else 0,
        }

    def priority(self, priority: Priority) -> dict[str, Any]:
        return {
            "self": f"{self.api}/priority/{priority.id}",
            "statusColor": priority.color,
            "description": f"{priority.name} priority",
            "iconUrl": f"{self.host}/images/icons/priorities/{priority.name.lower()}.svg",
            "name": priority.name,
            "id": priority.id,
        }

    def status(self, status: Status) -> dict[str, Any]:
        category_id, category_name, colour = STATUS_CATEGORIES[status.category]
        return {
            "self": f"{self.api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.host}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{category_id}",
                "id": category_id,
                "key": status.category,
                "colorName": colour,
                "name": category_name,
            },
        }

    def resolution(self, name: str | None) -> dict[str, Any] | None:
        if name is None:
            return None
        ident = self.state.resolution_id(name)
        return {
            "self": f"{self.api}/resolution/{ident}",
            "id": ident,
            "description": "",
            "name": name,
        }

    def comment(
        self, issue: Issue, comment: Comment, *, properties: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": self.user_named(comment.author),
            "body": comment.body,
            "updateAuthor": self.user_named(comment.update_author),
            "created": self.time(comment.created),
            "updated": self.time(comment.updated),
        }
        if self.state.flavour == "cloud":
            body["jsdPublic"] = not comment.internal
        if comment.visibility is not None:
            body["visibility"] = comment.visibility
        if properties:
            body["properties"] = [{"key": k, "value": v} for k, v in comment.properties.items()]
        return body

    def comments_page(self, issue: Issue, comments: list[Comment], start: int, size: int) -> Any:
        return {
            "comments": [self.comment(issue, c) for c in comments[start : start + size]],
            "maxResults": size,
            "total": len(comments),
            "startAt": start,
        }

    def fields(self, issue: Issue) -> dict[str, Any]:
        workflow = self.state.workflow
        values: dict[str, Any] = {
            "summary": issue.summary,
            "description": issue.description,
            "issuetype": self.issue_type(issue.issue_type),
            "project": self.project_ref(self.state.projects[issue.project]),
            "status": self.status(workflow.status(issue.status)),
            "priority": self.priority(issue.priority) if issue.priority else None,
            "assignee": self.user_named(issue.assignee),
            "reporter": self.user_named(issue.reporter),
            "creator": self.user_named(issue.creator),
            "labels": list(issue.labels),
            "resolution": self.resolution(issue.resolution),
            "resolutiondate": self.time(issue.resolution_date) if issue.resolution_date else None,
            "created": self.time(issue.created),
            "updated": self.time(issue.updated),
            "comment": self.comments_page(issue, issue.comments, 0, 5000),
        }
        for field_id in self.state.custom_fields:
            values[field_id] = issue.custom.get(field_id)
        return values

    def project_ref(self, project: Project) -> dict[str, Any]:
        return {
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "service_desk",
            "avatarUrls": self.avatars("project", project.id),
        }

    def issue(
        self, issue: Issue, wanted: list[str] | None = None, expand: str = ""
    ) -> dict[str, Any]:
        """``wanted``: Jira's ``fields`` parameter (``*all``, ``*navigable``, ids, ``-id``)."""
        fields = self.fields(issue)
        if wanted is not None:
            fields = _select(fields, wanted)
        body: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": issue.id,
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
        }
        if wanted != ["id"]:
            body["fields"] = fields
        expands = {e.strip() for e in expand.split(",") if e.strip()}
        if "changelog" in expands:
            body["changelog"] = {
                "startAt": 0,
                "maxResults": len(issue.histories),
                "total": len(issue.histories),
                "histories": [self.history(h) for h in issue.histories],
            }
        if "names" in expands:
            body["names"] = {f["id"]: f["name"] for f in self.field_list()}
        if "transitions" in expands:
            body["transitions"] = [
                self.transition(t) for t in self.state.workflow.available(issue.status)
            ]
        return body

    def history(self, history: History) -> dict[str, Any]:
        return {
            "id": history.id,
            "author": self.user_named(history.author),
            "created": self.time(history.created),
            "items": [
                {
                    "field": item.field,
                    "fieldtype": item.fieldtype,
                    "from": item.from_id,
                    "fromString": item.from_string,
                    "to": item.to_id,
                    "toString": item.to_string,
                }
                for item in history.items
            ],
        }

    def transition(self, transition: Transition, *, with_fields: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": transition.id,
            "name": transition.name,
            "to": self.status(self.state.workflow.status(transition.to)),
            "hasScreen": bool(transition.required),
            "isGlobal": transition.sources is None,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "looped": False,
        }
        if with_fields:
            body["fields"] = {
                name: {
                    "required": True,
                    "schema": {"type": name, "system": name},
                    "name": name.capitalize(),
                    "key": name,
                    "operations": ["set"],
                    "allowedValues": [self.resolution(r) for r in self.state.resolutions],
                }
                for name in transition.required
                if name == "resolution"
            }
        return body

    def field_list(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for ident, name, kind, items in SYSTEM_FIELDS:
            schema: dict[str, Any] = {"type": kind, "system": ident}
            if items:
                schema["items"] = items
            found.append(_field(ident, name, False, [ident], schema))
        for custom in self.state.custom_fields.values():
            number = custom.id.removeprefix("customfield_")
            schema = {
                "type": custom.type,
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
                "customId": int(number),
            }
            clauses = [custom.id.replace("customfield_", "cf[") + "]", custom.name]
            found.append(_field(custom.id, custom.name, True, clauses, schema))
        return found

    def remote_link(self, issue: Issue, link: RemoteLink) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": link.id,
            "self": f"{self.api}/issue/{issue.key}/remotelink/{link.id}",
            "object": link.object,
        }
        if link.global_id is not None:
            body["globalId"] = link.global_id
        if link.application is not None:
            body["application"] = link.application
        if link.relationship is not None:
            body["relationship"] = link.relationship
        return body


def _field(
    ident: str, name: str, custom: bool, clauses: list[str], schema: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": ident,
        "key": ident,
        "name": name,
        "custom": custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": clauses,
        "schema": schema,
    }


def _select(fields: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    names = [w.strip() for item in wanted for w in item.split(",") if w.strip()]
    if not names or any(n in ("*all", "*navigable") for n in names):
        chosen = dict(fields)
    else:
        chosen = {n: fields[n] for n in names if n in fields}
    for name in names:
        if name.startswith("-"):
            chosen.pop(name[1:], None)
    return chosen
