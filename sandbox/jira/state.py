"""The fake Jira's state and every change to it, for REST handlers and the human driver alike.

Every change calls the registered listeners with ``(event, issue snapshot, extra)`` so a webhook
sender can be plugged in without touching the handlers. Events: ``jira:issue_created``,
``jira:issue_updated`` (extra ``changelog``), ``jira:issue_deleted``, ``comment_created``,
``comment_updated``, ``comment_deleted`` (extra ``comment``); extra ``user`` is always the actor.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from sandbox.clock import Clock
from sandbox.jira.errors import (
    TEXT_LIMIT,
    TOO_LONG,
    JiraError,
    bad_request,
    field_error,
    issue_not_found,
)
from sandbox.jira.fields import EDITABLE, FieldSetter, Pending
from sandbox.jira.model import (
    DEFAULT_PRIORITIES,
    DEFAULT_RESOLUTIONS,
    ChangeItem,
    Comment,
    CustomField,
    History,
    Issue,
    Priority,
    Project,
    User,
    Workflow,
)

Flavour = Literal["cloud", "server"]
ChangeListener = Callable[[str, Issue, Mapping[str, Any]], None]


class JiraState:
    def __init__(
        self,
        *,
        flavour: Flavour,
        clock: Clock,
        workflow: Workflow | None = None,
        custom_fields: Iterable[CustomField] = (),
    ) -> None:
        self.flavour: Flavour = flavour
        self.clock = clock
        self.workflow = workflow or Workflow.default()
        self.priorities: tuple[Priority, ...] = DEFAULT_PRIORITIES
        self.resolutions: tuple[str, ...] = DEFAULT_RESOLUTIONS
        self.custom_fields = {f.id: f for f in custom_fields}
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        self.issues: dict[str, Issue] = {}
        self.lock = threading.RLock()
        self._listeners: list[ChangeListener] = []
        self._next_id = 10_000
        self._issue_numbers: dict[str, int] = {}

    # -- registry -----------------------------------------------------------------------------

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: str, issue: Issue, **extra: Any) -> None:
        snapshot = copy.deepcopy(issue)
        for listener in list(self._listeners):
            listener(event, snapshot, extra)

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def add_user(self, user: User) -> User:
        with self.lock:
            self.users[user.name] = user
        return user

    def add_project(self, project: Project) -> Project:
        with self.lock:
            self.projects[project.key] = project
            self._issue_numbers.setdefault(project.key, 0)
        return project

    def project(self, key_or_id: str) -> Project:
        for project in self.projects.values():
            if key_or_id in (project.id, project.key) or project.key == key_or_id.upper():
                return project
        raise JiraError(404, [f"No project could be found with key '{key_or_id}'."])

    def user(self, name: str) -> User:
        return self.users[name]

    def find_user(self, identifier: str) -> User | None:
        """A user by Cloud account id, or by Server username or key."""
        for user in self.users.values():
            if self.flavour == "cloud" and identifier == user.account_id:
                return user
            if self.flavour == "server" and identifier in (user.name, user.key):
                return user
        return None

    def search_users(self, query: str) -> list[User]:
        needle = query.lower()
        return [
            u
            for u in self.users.values()
            if u.active
            and (
                u.name.lower().startswith(needle)
                or u.email.lower().startswith(needle)
                or any(part.lower().startswith(needle) for part in u.display_name.split())
                or u.display_name.lower().startswith(needle)
            )
        ]

    def user_from_ref(self, field: str, ref: Any) -> User:
        """A user from ``{"accountId": …}`` (Cloud) or ``{"name": …}``/``{"key": …}`` (Server)."""
        wanted = "accountId" if self.flavour == "cloud" else "name"
        identifier = None
        if isinstance(ref, dict):
            identifier = ref.get(wanted) or (ref.get("key") if self.flavour == "server" else None)
        user = self.find_user(str(identifier)) if identifier is not None else None
        if user is None:
            shown = identifier if identifier is not None else ref
            raise field_error(field, f"User '{shown}' does not exist.")
        return user

    def user_change(self, field: str, old: str | None, new: str | None) -> ChangeItem | None:
        if old == new:
            return None

        def ident(name: str | None) -> tuple[str | None, str | None]:
            if name is None:
                return None, None
            user = self.users[name]
            return (user.account_id if self.flavour == "cloud" else user.name), user.display_name

        old_id, old_text = ident(old)
        new_id, new_text = ident(new)
        return ChangeItem(field, old_id, old_text, new_id, new_text)

    def find_priority(self, ref: Any) -> Priority:
        if isinstance(ref, dict):
            for priority in self.priorities:
                if ref.get("id") == priority.id or ref.get("name") == priority.name:
                    return priority
        raise field_error("priority", "The priority selected is invalid.")

    def find_resolution(self, ref: Any) -> str:
        if isinstance(ref, dict):
            name = ref.get("name")
            if name in self.resolutions:
                return str(name)
            ident = ref.get("id")
            if (
                isinstance(ident, str)
                and ident.isdigit()
                and 0 < int(ident) <= len(self.resolutions)
            ):
                return self.resolutions[int(ident) - 1]
        raise field_error("resolution", "The resolution selected is invalid.")

    def resolution_id(self, name: str) -> str:
        return str(self.resolutions.index(name) + 1)

    # -- issues -------------------------------------------------------------------------------

    def issue(self, key_or_id: str) -> Issue:
        with self.lock:
            issue = self.issues.get(key_or_id.upper())
            if issue is None:
                issue = next((i for i in self.issues.values() if i.id == key_or_id), None)
            if issue is None:
                raise issue_not_found()
            return issue

    def create_issue(
        self, actor: User, fields: dict[str, Any], update: dict[str, Any] | None = None
    ) -> Issue:
        with self.lock:
            fields = dict(fields)
            project = self._create_project(fields.pop("project", None))
            issue_type = self._create_issue_type(project, fields.pop("issuetype", None))
            if "summary" not in fields:
                raise field_error("summary", "You must specify a summary of the issue.")
            setter = FieldSetter(self, EDITABLE | frozenset(self.custom_fields))
            pending = setter.plan(fields, update or {})
            comments = self._comment_ops(update or {})
            now = self.clock.wall()
            self._issue_numbers[project.key] += 1
            issue = Issue(
                id=str(self.new_id()),
                key=f"{project.key}-{self._issue_numbers[project.key]}",
                project=project.key,
                issue_type=issue_type,
                summary="",
                reporter=actor.name,
                creator=actor.name,
                created=now,
                updated=now,
                status=self.workflow.initial,
                priority=self.priorities[2],
            )
            for change in pending:
                change.apply(issue)
            self.issues[issue.key] = issue
            self._emit("jira:issue_created", issue, user=actor)
            for body in comments:
                self.add_comment(actor, issue.key, body)
            return issue

    def _create_project(self, ref: Any) -> Project:
        if isinstance(ref, dict):
            ident = ref.get("id") or ref.get("key")
            if isinstance(ident, str | int):
                try:
                    return self.project(str(ident))
                except JiraError:
                    pass
        raise field_error("project", "Specify a valid project ID or key")

    def _create_issue_type(self, project: Project, ref: Any) -> Any:
        if isinstance(ref, dict):
            for issue_type in project.issue_types:
                if str(ref.get("id")) == issue_type.id or ref.get("name") == issue_type.name:
                    return issue_type
        raise field_error("issuetype", "Specify an issue type")

    def _comment_ops(self, update: dict[str, Any]) -> list[str]:
        bodies: list[str] = []
        for op in update.get("comment", []):
            if not isinstance(op, dict) or not isinstance(op.get("add"), dict):
                raise field_error("comment", "Comment operations must be 'add' with a body.")
            bodies.append(self._check_comment_body(op["add"].get("body")))
        return bodies

    def edit_issue(
        self,
        actor: User,
        key: str,
        fields: dict[str, Any],
        update: dict[str, Any] | None = None,
    ) -> None:
        with self.lock:
            issue = self.issue(key)
            setter = FieldSetter(self, EDITABLE | frozenset(self.custom_fields))
            pending = setter.plan(fields, update or {})
            comments = self._comment_ops(update or {})
            self._apply(actor, issue, pending, [])
            for body in comments:
                self.add_comment(actor, issue.key, body)

    def _apply(
        self, actor: User, issue: Issue, pending: list[Pending], extra: list[ChangeItem]
    ) -> None:
        items = [item for change in pending if (item := change.apply(issue)) is not None]
        items.extend(extra)
        if not items:
            return
        issue.updated = self.clock.wall()
        history = History(str(self.new_id()), actor.name, issue.updated, items)
        issue.histories.append(history)
        self._emit("jira:issue_updated", issue, user=actor, changelog=history)

    def delete_issue(self, actor: User, key: str) -> None:
        with self.lock:
            issue = self.issue(key)
            del self.issues[issue.key]
            self._emit("jira:issue_deleted", issue, user=actor)

    def assign(self, actor: User, key: str, assignee: User | None) -> None:
        with self.lock:
            issue = self.issue(key)
            new = assignee.name if assignee else None
            old, issue.assignee = issue.assignee, new
            item = self.user_change("assignee", old, new)
            self._apply(actor, issue, [], [item] if item else [])

    # -- workflow -----------------------------------------------------------------------------

    def transition(
        self,
        actor: User,
        key: str,
        transition_id: str,
        fields: dict[str, Any],
        update: dict[str, Any] | None = None,
    ) -> None:
        with self.lock:
            issue = self.issue(key)
            options = {t.id: t for t in self.workflow.available(issue.status)}
            transition = options.get(str(transition_id))
            if transition is None:
                raise bad_request(f"Transition id '{transition_id}' is not valid for this issue.")
            for name in transition.required:
                if fields.get(name) is None:
                    label = name.capitalize() if not name.startswith("customfield_") else name
                    raise field_error(name, f"{label} is required.")
            setter = FieldSetter(self, frozenset(transition.required))
            pending = setter.plan(fields, update or {})
            comments = self._comment_ops(update or {})
            target = self.workflow.status(transition.to)
            current = self.workflow.status(issue.status)
            extra = []
            if target.name != current.name:
                extra.append(ChangeItem("status", current.id, current.name, target.id, target.name))
            issue.status = target.name
            if target.category == "done":
                issue.resolution_date = issue.resolution_date or self.clock.wall()
            elif issue.resolution is not None:
                name = issue.resolution
                extra.append(ChangeItem("resolution", self.resolution_id(name), name, None, None))
                issue.resolution, issue.resolution_date = None, None
            self._apply(actor, issue, pending, extra)
            for body in comments:
                self.add_comment(actor, issue.key, body)

    # -- comments -----------------------------------------------------------------------------

    @staticmethod
    def _check_comment_body(body: Any) -> str:
        if not isinstance(body, str) or not body.strip():
            raise field_error("comment", "Comment body can not be empty!")
        if len(body) > TEXT_LIMIT:
            raise field_error("comment", TOO_LONG)
        return body

    @staticmethod
    def _properties(raw: Any) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, list) or not all(isinstance(p, dict) and "key" in p for p in raw):
            raise bad_request("Comment properties must be a list of {key, value} objects.")
        return {str(p["key"]): p.get("value") for p in raw}

    def add_comment(
        self,
        actor: User,
        key: str,
        body: Any,
        *,
        visibility: dict[str, str] | None = None,
        properties: Any = None,
    ) -> Comment:
        with self.lock:
            issue = self.issue(key)
            text = self._check_comment_body(body)
            props = self._properties(properties)
            now = self.clock.wall()
            comment = Comment(
                str(self.new_id()), actor.name, text, now, now, actor.name, visibility, props
            )
            issue.comments.append(comment)
            issue.updated = now
            self._emit("comment_created", issue, user=actor, comment=copy.deepcopy(comment))
            return comment

    def comment(self, key: str, comment_id: str) -> tuple[Issue, Comment]:
        issue = self.issue(key)
        for comment in issue.comments:
            if comment.id == comment_id:
                return issue, comment
        raise JiraError(404, [f"Can not find a comment for the id: {comment_id}."])

    def update_comment(
        self,
        actor: User,
        key: str,
        comment_id: str,
        body: Any,
        *,
        visibility: dict[str, str] | None = None,
        properties: Any = None,
    ) -> Comment:
        with self.lock:
            issue, comment = self.comment(key, comment_id)
            text = self._check_comment_body(body)
            comment.properties.update(self._properties(properties))
            comment.body = text
            if visibility is not None:
                comment.visibility = visibility
            comment.updated = self.clock.wall()
            comment.update_author = actor.name
            self._emit("comment_updated", issue, user=actor, comment=copy.deepcopy(comment))
            return comment

    def delete_comment(self, actor: User, key: str, comment_id: str) -> None:
        with self.lock:
            issue, comment = self.comment(key, comment_id)
            issue.comments.remove(comment)
            self._emit("comment_deleted", issue, user=actor, comment=copy.deepcopy(comment))
