"""The recorded real Jira webhook bodies of the shared test data into ``JiraIssueSeen`` /
``JiraCommentSeen``: every one of them is listed below with the events it must give (or as
one Deskhand ignores)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deskhand.events import JiraCommentSeen, JiraIssueSeen
from jira_sync.inbound import (
    events_from_webhook,
)


def issue(
    key: str,
    updated: str,
    actor: str | None,
    status: str | None,
    priority: str | None,
    assignee: str | None,
    *,
    deleted: bool = False,
) -> tuple[Any, ...]:
    return ("issue", key, updated, actor, status, priority, assignee, deleted)


def comment(issue_key: str, comment_id: str, author: str | None) -> tuple[Any, ...]:
    return ("comment", issue_key, comment_id, author, False, False)


CLOUD_ADMIN = "5c5f880629be9642ba529340"
CLOUD_OTHER = "5cedcb4355a88a0fc86388ba"

RECORDED: dict[str, list[tuple[Any, ...]]] = {
    # Cloud's comment_created names the issue; its issue part has no ``updated``: comment only.
    "webhook-cloud-comment-created.json": [comment("TES-41", "10019", CLOUD_ADMIN)],
    "webhook-cloud-issue-updated-custom-field.json": [
        issue(
            "TES-14", "2019-08-12T01:49:13.412+00:00", CLOUD_OTHER, "To Do", "Medium", CLOUD_OTHER
        )
    ],
    "webhook-issue-created-no-description-nor-relevant-fields.json": [
        issue("TES-41", "2019-02-16T03:01:52.971+00:00", CLOUD_ADMIN, "To Do", None, None)
    ],
    "webhook-issue-created-no-description.json": [
        issue("TES-41", "2019-02-16T03:01:52.971+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-created-no-relevant-fields.json": [
        issue("TES-41", "2019-02-16T03:01:52.971+00:00", CLOUD_ADMIN, "To Do", None, None)
    ],
    "webhook-issue-created-with-security-level.json": [
        issue("TES-41", "2019-02-16T03:01:52.971+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-created.json": [
        issue("TES-41", "2019-02-16T03:01:52.971+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    # The deletion's time is the webhook's timestamp, later than the issue's last update.
    "webhook-issue-deleted.json": [
        issue(
            "IDT-19",
            "2019-07-03T18:05:36.176+00:00",
            CLOUD_ADMIN,
            "To Do",
            "Medium",
            None,
            deleted=True,
        )
    ],
    "webhook-issue-updated-assigned-on-server.json": [
        issue("PRJA-37", "2019-06-27T15:32:51.495+00:00", "admin", "To Do", "Medium", "admin")
    ],
    "webhook-issue-updated-assigned.json": [
        issue("TES-41", "2019-02-16T03:18:01.707+00:00", CLOUD_ADMIN, "To Do", "High", CLOUD_ADMIN)
    ],
    "webhook-issue-updated-attachments.json": [
        issue("TES-41", "2019-02-16T21:12:10.037+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-components.json": [
        issue("TES-10", "2019-12-05T14:38:23.829+00:00", CLOUD_OTHER, "To Do", "Medium", None)
    ],
    "webhook-issue-updated-edited.json": [
        issue("TES-41", "2019-02-16T03:10:01.805+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-fix-version.json": [
        issue("TES-41", "2019-02-16T03:07:51.756+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-issue-type.json": [
        issue("TES-41", "2019-02-16T03:07:51.756+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-labels.json": [
        issue("TES-41", "2019-02-16T21:12:10.037+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-lowered-priority.json": [
        issue("TES-41", "2019-02-16T21:13:52.522+00:00", CLOUD_ADMIN, "To Do", "Low", None)
    ],
    "webhook-issue-updated-multiple-custom-fields.json": [
        issue("TES-41", "2019-02-16T21:12:10.037+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-multiple-values.json": [
        issue("TES-41", "2019-02-16T03:07:51.756+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-raised-priority.json": [
        issue("TES-41", "2019-02-16T21:15:16.037+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-rank.json": [
        issue("TES-41", "2019-02-16T21:12:10.037+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-renamed.json": [
        issue("TES-41", "2019-02-16T03:07:51.756+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-reopened-one-changelog.json": [
        issue("TES-41", "2019-02-16T03:17:06.501+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-reopened.json": [
        issue("TES-41", "2019-02-16T03:17:06.501+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-resolved-one-changelog.json": [
        issue("TES-41", "2019-02-16T03:15:40.477+00:00", CLOUD_ADMIN, "Done", "High", None)
    ],
    "webhook-issue-updated-resolved.json": [
        issue("TES-41", "2019-02-16T03:15:40.477+00:00", CLOUD_ADMIN, "Done", "High", None)
    ],
    "webhook-issue-updated-sprint.json": [
        issue("TES-41", "2019-02-16T21:12:10.037+00:00", CLOUD_ADMIN, "To Do", "High", None)
    ],
    "webhook-issue-updated-started-working.json": [
        issue("TES-41", "2019-02-16T03:14:22.002+00:00", CLOUD_ADMIN, "In Progress", "High", None)
    ],
    # Server's comment_created has no issue and names it by id in the comment's URL: key "".
    "webhook-server-comment-created.json": [comment("", "10082", "levbrouk")],
    "webhook-server-issue-updated-closed.json": [
        issue("TES-4", "2019-08-14T03:07:58.354+00:00", "admin", "Closed", "Medium", "admin")
    ],
    # issue_comment_deleted does not carry the comment: the issue's state only.
    "webhook-server-issue-updated-comment-deleted.json": [
        issue("PRJX-14", "2019-06-04T01:08:08.107+00:00", "levbrouk", "To Do", "Medium", "levbrouk")
    ],
    "webhook-server-issue-updated-comment-edited.json": [
        issue(
            "PRJX-14", "2019-06-04T00:50:04.873+00:00", "levbrouk", "To Do", "Medium", "levbrouk"
        ),
        comment("PRJX-14", "10084", "levbrouk"),
    ],
    "webhook-server-issue-updated-commented-1.json": [
        issue(
            "PRJX-14", "2019-06-04T00:10:21.326+00:00", "levbrouk", "To Do", "Medium", "levbrouk"
        ),
        comment("PRJX-14", "10082", "levbrouk"),
    ],
    "webhook-server-issue-updated-commented-2.json": [
        issue("PRJA-42", "2019-06-28T21:31:58.040+00:00", "TestUser", "To Do", "Medium", "dylan"),
        comment("PRJA-42", "10118", "TestUser"),
    ],
    "webhook-server-issue-updated-commented-3.json": [
        issue("PRJA-42", "2019-06-28T21:31:58.040+00:00", "TestUser", "To Do", "Medium", "dylan"),
        comment("PRJA-42", "10118", "TestUser"),
    ],
    "webhook-server-issue-updated-commented-mention-user.json": [
        issue(
            "PRJX-14", "2019-06-04T00:10:21.326+00:00", "levbrouk", "To Do", "Medium", "levbrouk"
        ),
        comment("PRJX-14", "10082", "levbrouk"),
    ],
    "webhook-server-issue-updated-in-progress.json": [
        issue("TES-4", "2019-08-14T03:02:33.678+00:00", "admin", "In Progress", "Medium", "admin")
    ],
    "webhook-server-issue-updated-many-fields.json": [
        issue(
            "HEY-15",
            "2019-09-03T06:03:39.155+00:00",
            "mickmister",
            "To Do",
            "Highest",
            "mickmister",
        )
    ],
    "webhook-server-issue-updated-reopened.json": [
        issue("TES-4", "2019-08-14T03:01:43.647+00:00", "admin", "Reopened", "Medium", "admin")
    ],
    "webhook-server-issue-updated-resolved.json": [
        issue("TES-4", "2019-08-12T23:23:01.993+00:00", "admin", "Resolved", "Medium", None)
    ],
    "webhook-server-updated-custom-field.json": [
        issue("TES-8", "2019-08-12T01:41:00.589+00:00", "test", "To Do", "Medium", None)
    ],
}
IGNORED: dict[str, str] = {}
"""Recorded bodies deliberately giving no events, with the reason (none so far: every recorded
body is an issue or comment webhook)."""


@pytest.fixture
def recorded_dir(shared_testdata: Path) -> Path:
    return shared_testdata / "jira" / "webhooks" / "mattermost-plugin-jira"


def summary(event: Any) -> tuple[Any, ...]:
    if isinstance(event, JiraIssueSeen):
        return (
            "issue",
            event.issue_key,
            event.updated,
            event.actor,
            event.status,
            event.priority,
            event.assignee,
            event.deleted,
        )
    assert isinstance(event, JiraCommentSeen)
    return (
        "comment",
        event.issue_key,
        event.comment_id,
        event.author,
        event.internal,
        event.deleted,
    )


def test_every_recorded_body_is_listed(recorded_dir: Path) -> None:
    on_disk = {p.name for p in recorded_dir.glob("*.json")}
    assert on_disk == set(RECORDED) | set(IGNORED)


@pytest.mark.parametrize("name", sorted(set(RECORDED) | set(IGNORED)))
def test_recorded_body(recorded_dir: Path, name: str) -> None:
    body = json.loads((recorded_dir / name).read_text())
    assert [summary(e) for e in events_from_webhook(body)] == RECORDED.get(name, [])


def test_recorded_comment_details(recorded_dir: Path) -> None:
    def only_comment(name: str) -> JiraCommentSeen:
        found = events_from_webhook(json.loads((recorded_dir / name).read_text()))
        (seen,) = [e for e in found if isinstance(e, JiraCommentSeen)]
        return seen

    cloud = only_comment("webhook-cloud-comment-created.json")
    assert (cloud.body, cloud.author_name, cloud.updated) == (
        "Added a comment",
        "Test User",
        "2019-02-16T03:11:18.321+00:00",
    )
    server = only_comment("webhook-server-comment-created.json")
    assert (server.body, server.author_name) == ("unik", "Lev Brouk")
    edited = only_comment("webhook-server-issue-updated-comment-edited.json")
    # An edited comment's time is its last edit, not its creation.
    assert (edited.updated, edited.body) == (
        "2019-06-04T00:53:33.665+00:00",
        "and higher eeven higher",
    )
