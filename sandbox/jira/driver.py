"""Acting in the fake Jira as a person would in Jira's web UI: no HTTP, same checks, same events.

``JiraDriver(fake).user("bob").comment("IT-1", "text")`` adds a comment authored by bob; the
change listeners fire exactly as for a REST change, so webhooks see a human's edit.
"""

from __future__ import annotations

from typing import Any

from sandbox.jira.errors import JiraError
from sandbox.jira.fake import JiraFake
from sandbox.jira.model import Comment, Issue, User


class JiraDriver:
    def __init__(self, fake: JiraFake, actor: str | None = None) -> None:
        self.fake = fake
        self._actor = actor

    def user(self, name: str) -> JiraDriver:
        """The same driver acting as ``name`` (a user added with ``fake.add_user``)."""
        self.fake.state.user(name)
        return JiraDriver(self.fake, name)

    @property
    def actor(self) -> User:
        return self.fake.state.user(self._actor) if self._actor else self.fake.bot

    def create(self, project: str, summary: str, **fields: Any) -> Issue:
        body = {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": summary}
        body.update(fields)
        return self.fake.state.create_issue(self.actor, body)

    def comment(self, key: str, text: str, *, internal: bool = False) -> Comment:
        properties = (
            [{"key": "sd.public.comment", "value": {"internal": True}}] if internal else None
        )
        return self.fake.state.add_comment(self.actor, key, text, properties=properties)

    def edit_comment(self, key: str, comment_id: str, text: str) -> Comment:
        return self.fake.state.update_comment(self.actor, key, comment_id, text)

    def delete_comment(self, key: str, comment_id: str) -> None:
        self.fake.state.delete_comment(self.actor, key, comment_id)

    def transition(self, key: str, name: str, **fields: Any) -> None:
        """Move ``key`` along the transition named ``name`` (or to the status of that name).

        A transition that needs a resolution gets ``Done`` unless ``resolution`` is given.
        """
        state = self.fake.state
        issue = state.issue(key)
        options = state.workflow.available(issue.status)
        chosen = next((t for t in options if t.name.lower() == name.lower()), None)
        chosen = chosen or next((t for t in options if t.to.lower() == name.lower()), None)
        if chosen is None:
            raise JiraError(400, [f"No transition '{name}' from status '{issue.status}'."])
        values: dict[str, Any] = {}
        if "resolution" in chosen.required:
            values["resolution"] = {"name": fields.pop("resolution", "Done")}
        values.update(fields)
        state.transition(self.actor, key, chosen.id, values)

    def assign(self, key: str, assignee: str | None) -> None:
        state = self.fake.state
        state.assign(self.actor, key, state.user(assignee) if assignee else None)

    def edit(self, key: str, **fields: Any) -> None:
        """Set fields by their REST names, e.g. ``summary="…"``, ``labels=[…]``,
        ``priority={"name": "High"}``."""
        self.fake.state.edit_issue(self.actor, key, fields)
