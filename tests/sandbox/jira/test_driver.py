"""A human's actions through the driver: authored by them, visible over REST, announced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from sandbox.jira import JiraDriver, JiraError, JiraFake
from sandbox.jira.model import Issue
from tests.sandbox.jira.conftest import new_issue


def test_driver_acts_as_the_user(fake: JiraFake, client: Any) -> None:
    events: list[tuple[str, str, Mapping[str, Any]]] = []

    def listen(event: str, issue: Issue, extra: Mapping[str, Any]) -> None:
        events.append((event, issue.key, extra))

    fake.subscribe(listen)
    new_issue(client)
    bob = JiraDriver(fake).user("bob")
    comment = bob.comment("IT-1", "On it")
    bob.assign("IT-1", "bob")
    bob.transition("IT-1", "In Progress")
    bob.edit("IT-1", priority={"name": "Highest"})
    bob.transition("IT-1", "Done", resolution="Won't Do")

    issue = client.issue("IT-1")
    assert issue.fields.comment.comments[0].author.displayName == "Bob Builder"
    assert issue.fields.assignee.displayName == "Bob Builder"
    assert (issue.fields.status.name, issue.fields.resolution.name) == ("Done", "Won't Do")
    assert issue.fields.priority.name == "Highest"

    names = [e[0] for e in events]
    assert names == ["jira:issue_created", "comment_created"] + ["jira:issue_updated"] * 4
    assert events[1][2]["comment"].id == comment.id
    assert all(e[2]["user"].name == "bob" for e in events[1:])
    last_items = {(i.field, i.to_string) for i in events[-1][2]["changelog"].items}
    assert ("status", "Done") in last_items
    assert ("resolution", "Won't Do") in last_items


def test_deletions_are_announced(fake: JiraFake, client: Any) -> None:
    seen: list[str] = []
    fake.subscribe(lambda event, issue, extra: seen.append(event))
    new_issue(client)
    driver = JiraDriver(fake).user("alice")
    comment = driver.comment("IT-1", "note", internal=True)
    assert fake.state.issue("IT-1").comments[0].internal is True
    driver.edit_comment("IT-1", comment.id, "edited")
    driver.delete_comment("IT-1", comment.id)
    client.issue("IT-1").delete()
    assert seen == [
        "jira:issue_created",
        "comment_created",
        "comment_updated",
        "comment_deleted",
        "jira:issue_deleted",
    ]


def test_driver_refuses_what_jira_refuses(fake: JiraFake, client: Any) -> None:
    new_issue(client)
    with pytest.raises(JiraError) as caught:
        JiraDriver(fake).user("bob").transition("IT-1", "Reopen")
    assert caught.value.status == 400
    with pytest.raises(KeyError):
        JiraDriver(fake).user("nobody")
