"""The bodies Jira POSTs for a change, built from the fake's change events.

One change can make more than one webhook, as in Jira: a new comment is announced as
``comment_created`` and as ``jira:issue_updated`` with ``issue_event_type_name:
issue_commented``. The shapes follow recorded Jira webhooks (see ``webhook_contract``):

* Cloud users carry ``accountId``; Server users ``name`` and ``key``; Server changelog items
  have no ``fieldId`` and Server ``comment_*`` bodies carry no ``issue``; Cloud issue bodies
  leave out ``fields.comment``.
* ``issue_event_type_name`` for a transition comes from the workflow's event: Cloud's
  (simplified) workflows fire ``issue_generic``; Server's classic workflow fires
  ``issue_resolved``, ``issue_reopened``, ``issue_work_started`` or ``issue_generic``.
  A change of the assignee alone is ``issue_assigned``; any other edit ``issue_updated``.
* ``server_format`` is the old Server format: no ``issue_event_type_name`` at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.jira.model import ChangeItem, Comment, History, Issue, User
from sandbox.jira.render import Renderer
from sandbox.jira.state import JiraState

WEBHOOK_EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
)
_COMMENT_TYPES = {
    "comment_created": "issue_commented",
    "comment_updated": "issue_comment_edited",
    "comment_deleted": "issue_comment_deleted",
}
_COMMENT_ISSUE_FIELDS = ("summary", "issuetype", "project", "assignee", "priority", "status")


@dataclass(frozen=True)
class Webhook:
    event: str
    """``webhookEvent``."""
    body: dict[str, Any]

    @property
    def type_name(self) -> str | None:
        value = self.body.get("issue_event_type_name")
        return None if value is None else str(value)


class PayloadBuilder:
    def __init__(self, state: JiraState, host: str, *, server_format: bool = False) -> None:
        if server_format and state.flavour != "server":
            raise ValueError("server_format is the old Jira Server format: use a server fake")
        self.state = state
        self.server_format = server_format
        self.render = Renderer(state, host, "2", "UTC")

    @property
    def server(self) -> bool:
        return self.state.flavour == "server"

    def build(self, change: str, issue: Issue, extra: Mapping[str, Any]) -> list[Webhook]:
        """The webhooks for one change event of ``JiraState``."""
        actor: User = extra["user"]
        if change == "jira:issue_created":
            return [self._issue_event(change, "issue_created", actor, issue)]
        if change == "jira:issue_deleted":
            return [self._issue_event(change, None, actor, issue)]
        if change == "jira:issue_updated":
            history: History = extra["changelog"]
            body = self._issue_event(change, self._update_type(history), actor, issue).body
            body["changelog"] = self._changelog(history)
            return [Webhook(change, body)]
        if change in _COMMENT_TYPES:
            comment: Comment = extra["comment"]
            rendered = self.render.comment(issue, comment)
            own = {"timestamp": self._now(), "webhookEvent": change, "comment": rendered}
            if not self.server:
                fields = self.render.fields(issue)
                own["issue"] = self._issue_ref(issue, {k: fields[k] for k in _COMMENT_ISSUE_FIELDS})
            update = self._issue_event(
                "jira:issue_updated", _COMMENT_TYPES[change], actor, issue
            ).body
            if change != "comment_deleted":
                update["comment"] = rendered
            return [Webhook(change, own), Webhook("jira:issue_updated", update)]
        raise ValueError(f"unknown change event {change!r}")

    def _now(self) -> int:
        return int(self.state.clock.wall() * 1000)

    def _issue_ref(self, issue: Issue, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": issue.id,
            "self": f"{self.render.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }

    def _issue_event(self, event: str, type_name: str | None, actor: User, issue: Issue) -> Webhook:
        body: dict[str, Any] = {"timestamp": self._now(), "webhookEvent": event}
        if type_name is not None and not self.server_format:
            body["issue_event_type_name"] = type_name
        body["user"] = self.render.user(actor, embedded=True)
        fields = self.render.fields(issue)
        if not self.server:
            del fields["comment"]
        body["issue"] = self._issue_ref(issue, fields)
        return Webhook(event, body)

    def _update_type(self, history: History) -> str:
        fields = {item.field for item in history.items}
        if fields == {"assignee"}:
            return "issue_assigned"
        status = next((i for i in history.items if i.field == "status"), None)
        if status is None:
            return "issue_updated"
        if not self.server:
            return "issue_generic"
        workflow = self.state.workflow
        before = workflow.status(status.from_string or workflow.initial).category
        after = workflow.status(status.to_string or workflow.initial).category
        if after == "done":
            return "issue_resolved"
        if before == "done":
            return "issue_reopened"
        if after == "indeterminate" and before == "new":
            return "issue_work_started"
        return "issue_generic"

    def _changelog(self, history: History) -> dict[str, Any]:
        return {"id": history.id, "items": [self._item(i) for i in history.items]}

    def _item(self, item: ChangeItem) -> dict[str, Any]:
        body: dict[str, Any] = {"field": item.field, "fieldtype": item.fieldtype}
        if not self.server:
            body["fieldId"] = self._field_id(item)
        body.update(
            {
                "from": item.from_id,
                "fromString": item.from_string,
                "to": item.to_id,
                "toString": item.to_string,
            }
        )
        return body

    def _field_id(self, item: ChangeItem) -> str:
        if item.fieldtype == "custom":
            for custom in self.state.custom_fields.values():
                if custom.name == item.field:
                    return custom.id
        return item.field
