"""The port on jira820: adding, editing, finding and reading comments."""

from __future__ import annotations

import pytest
import requests

from deskhand.ports import RejectedError
from jira_sync.errors import TEXT_LIMIT
from jira_sync.jira_port import JiraTrackerPort
from tests.jira_sync.jira820_site import BOT, REST, Jira820Site, Wire, create, listed_comments

# The fixtures, imported under their own names so pytest finds them here; this ``port``
# (on jira820) overrides the fake's ``port`` of tests/jira_sync/conftest.py.
from tests.jira_sync.jira820_site import port as port
from tests.jira_sync.jira820_site import site as site
from tests.jira_sync.jira820_site import wire as wire

NO_GET_COMMENT = pytest.mark.xfail(
    strict=True,
    raises=RejectedError,
    reason="jira820: no GET /issue/{key}/comment/{id} (405), which comment_state reads",
)


def test_add_public_comment(site: Jira820Site, port: JiraTrackerPort, wire: Wire) -> None:
    key = create(port).key
    comment_id = port.add_comment(
        key, "Have you tried turning it off?", internal=False, service_desk=False, visibility=None
    )
    (sent,) = wire.to("POST", f"/issue/{key}/comment")
    assert (sent.json, sent.status) == ({"body": "Have you tried turning it off?"}, 201)
    (listed,) = listed_comments(site, key)
    assert (listed["id"], listed["body"], listed["author"]["name"]) == (
        comment_id,
        "Have you tried turning it off?",
        BOT,
    )
    assert "visibility" not in listed


def test_long_comment_is_truncated_with_a_note(site: Jira820Site, port: JiraTrackerPort) -> None:
    key = create(port).key
    port.add_comment(key, "z" * 40_000, internal=False, service_desk=False, visibility=None)
    (listed,) = listed_comments(site, key)
    assert len(listed["body"]) == TEXT_LIMIT
    assert listed["body"].startswith("z" * 32_000)
    assert "Truncated by Deskhand: the text had 40,000 characters" in listed["body"]


def test_gap_comment_visibility_is_dropped(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    """Gap 2: the port sends the documented ``visibility`` and jira820 answers 201, but stores
    and lists the note as a public comment. Jira keeps the visibility (or refuses a role the
    caller is not in), so a role-restricted internal note never shows publicly there."""
    key = create(port).key
    comment_id = port.add_comment(
        key, "role note", internal=True, service_desk=False, visibility=("role", "Developers")
    )
    (sent,) = wire.to("POST", f"/issue/{key}/comment")
    assert sent.json == {"body": "role note", "visibility": {"type": "role", "value": "Developers"}}
    assert sent.status == 201
    (listed,) = listed_comments(site, key)
    assert (listed["id"], listed["body"]) == (comment_id, "role note")
    assert "visibility" not in listed  # Jira: {"type": "role", "value": "Developers"}


def test_gap_service_desk_internal_property_is_dropped(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    """Gap 3: a JSM internal note is a comment with the property ``sd.public.comment`` =
    ``{"internal": true}``; Jira keeps a created comment's ``properties`` and shows them with
    ``expand=properties``. jira820 (no JSM, no comment properties) drops them."""
    key = create(port).key
    port.add_comment(key, "jsm note", internal=True, service_desk=True, visibility=None)
    (sent,) = wire.to("POST", f"/issue/{key}/comment")
    assert sent.json == {
        "body": "jsm note",
        "properties": [{"key": "sd.public.comment", "value": {"internal": True}}],
    }
    (listed,) = listed_comments(site, key, expand="properties")
    assert listed["body"] == "jsm note"
    assert "properties" not in listed  # Jira: the sd.public.comment property


def test_internal_comment_without_visibility_is_refused(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    key = create(port).key
    sent_before = len(wire.sent)
    with pytest.raises(RejectedError) as caught:
        port.add_comment(key, "secret", internal=True, service_desk=False, visibility=None)
    assert caught.value.code == "no-internal-visibility"
    assert len(wire.sent) == sent_before  # refused before anything was sent
    assert listed_comments(site, key) == []


def test_update_comment_changes_only_the_body(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    key = create(port).key
    comment_id = port.add_comment(key, "v1", internal=False, service_desk=False, visibility=None)
    port.update_comment(key, comment_id, "v2")
    port.update_comment(key, comment_id, "w" * 40_000)
    sent = wire.to("PUT", f"/issue/{key}/comment/{comment_id}")
    assert [s.status for s in sent] == [200, 200]
    assert sent[0].json == {"body": "v2"}
    (listed,) = listed_comments(site, key)
    assert listed["id"] == comment_id
    assert len(listed["body"]) == TEXT_LIMIT
    assert listed["body"].startswith("w" * 32_000)


def test_find_comment_finds_only_its_own_with_the_same_body(
    site: Jira820Site, port: JiraTrackerPort
) -> None:
    key = create(port).key
    # jira820 makes current_user the author of every REST comment: bob's comes from its store.
    site.store.add_comment(key, "same words", author="bob")
    assert port.find_comment(key, "same words") is None  # bob's, not ours
    ours = port.add_comment(key, "same words", internal=False, service_desk=False, visibility=None)
    assert port.find_comment(key, "same words") == ours
    assert port.find_comment(key, "other words") is None
    long_id = port.add_comment(
        key, "q" * 40_000, internal=False, service_desk=False, visibility=None
    )
    assert port.find_comment(key, "q" * 40_000) == long_id  # compared as it was sent


@NO_GET_COMMENT
def test_comment_state_reads_the_comment(port: JiraTrackerPort) -> None:
    key = create(port).key
    comment_id = port.add_comment(key, "v1", internal=False, service_desk=False, visibility=None)
    port.update_comment(key, comment_id, "v2")
    state = port.comment_state(key, comment_id)
    assert state is not None
    assert (state.author, state.author_name, state.body, state.internal) == (
        BOT,
        "Deskhand",
        "v2",
        False,
    )


@NO_GET_COMMENT
def test_comment_state_is_none_for_a_deleted_or_missing_comment(
    site: Jira820Site, port: JiraTrackerPort
) -> None:
    key = create(port).key
    comment_id = port.add_comment(key, "gone", internal=False, service_desk=False, visibility=None)
    deleted = requests.delete(f"{site.url}{REST}/issue/{key}/comment/{comment_id}", timeout=5)
    assert deleted.status_code == 204
    assert port.comment_state(key, comment_id) is None
    assert port.comment_state(key, "999999") is None
    assert port.comment_state("IT-99", comment_id) is None


def test_gap_comment_state_gets_405(port: JiraTrackerPort, wire: Wire) -> None:
    """Gap 1, pinned: every ``comment_state`` call is the 405 of a route jira820 lacks, for a
    comment that exists as much as for one that does not (Jira: 200, or 404 → None)."""
    key = create(port).key
    comment_id = port.add_comment(key, "v1", internal=False, service_desk=False, visibility=None)
    for wanted in (comment_id, "999999"):
        with pytest.raises(RejectedError) as caught:
            port.comment_state(key, wanted)
        assert caught.value.code == "405"
    sent = [s for s in wire.sent if s.method == "GET" and "/comment/" in s.path]
    assert [(s.path, s.query, s.status) for s in sent] == [
        (f"/issue/{key}/comment/{comment_id}", {"expand": ["properties"]}, 405),
        (f"/issue/{key}/comment/999999", {"expand": ["properties"]}, 405),
    ]
