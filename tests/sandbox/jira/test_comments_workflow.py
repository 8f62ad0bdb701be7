"""Comments (incl. JSM internal notes), transitions and assignment through the real client."""

from __future__ import annotations

from typing import Any

import jira
import pytest

from sandbox.jira import JiraFake
from tests.sandbox.jira.conftest import error_json, new_issue


def test_comments_add_get_update_delete(fake: JiraFake, client: Any) -> None:
    issue = new_issue(client)
    public = client.add_comment(issue, "Have you tried turning it off?")
    internal = client.add_comment(issue, "User is VIP", is_internal=True)
    restricted = client.add_comment(
        issue, "Admins only", visibility={"type": "role", "value": "Administrators"}
    )
    assert public.author.displayName == "Deskhand"
    assert client.comment(issue.key, internal.id).body == "User is VIP"
    assert restricted.visibility.value == "Administrators"
    if fake.flavour == "cloud":
        assert (public.jsdPublic, internal.jsdPublic) == (True, False)
    fetched = client.comment(issue.key, internal.id, expand="properties")
    assert fetched.raw["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]

    public.update(body="Edited")
    assert client.comment(issue.key, public.id).body == "Edited"
    internal.delete()
    assert [c.body for c in client.comments(issue.key)] == ["Edited", "Admins only"]


def test_comment_over_limit_is_refused(client: Any) -> None:
    issue = new_issue(client)
    with pytest.raises(jira.JIRAError) as caught:
        client.add_comment(issue, "x" * 32_768)
    assert caught.value.status_code == 400
    assert error_json(caught) == {
        "errorMessages": [],
        "errors": {
            "comment": "The entered text is too long. It exceeds the allowed limit of "
            "32,767 characters."
        },
    }
    client.add_comment(issue, "x" * 32_767)


def test_transition_needs_its_required_resolution(client: Any) -> None:
    issue = new_issue(client)
    names = {t["name"]: t["id"] for t in client.transitions(issue)}
    assert {"In Progress", "Done"} <= set(names)
    with pytest.raises(jira.JIRAError) as caught:
        client.transition_issue(issue, "Done")
    assert caught.value.status_code == 400
    assert error_json(caught)["errors"] == {"resolution": "Resolution is required."}
    assert client.issue(issue.key).fields.status.name == "To Do"

    client.transition_issue(
        issue, names["Done"], fields={"resolution": {"name": "Done"}}, comment="Fixed it"
    )
    done = client.issue(issue.key)
    assert done.fields.status.name == "Done"
    assert done.fields.resolution.name == "Done"
    assert done.fields.resolutiondate is not None
    assert done.fields.comment.comments[-1].body == "Fixed it"

    client.transition_issue(issue, "Reopen")
    reopened = client.issue(issue.key)
    assert (reopened.fields.status.name, reopened.fields.resolution) == ("To Do", None)


def test_transition_not_available_is_refused(client: Any) -> None:
    issue = new_issue(client)
    with pytest.raises(jira.JIRAError) as caught:
        client.transition_issue(issue, "51")
    assert error_json(caught)["errorMessages"] == [
        "Transition id '51' is not valid for this issue."
    ]


def test_field_not_on_transition_screen(client: Any) -> None:
    issue = new_issue(client)
    with pytest.raises(jira.JIRAError) as caught:
        client.transition_issue(issue, "In Progress", fields={"resolution": {"name": "Done"}})
    assert error_json(caught)["errors"] == {
        "resolution": "Field 'resolution' cannot be set. It is not on the appropriate screen, "
        "or unknown."
    }


def test_assignee_per_flavour(fake: JiraFake, client: Any) -> None:
    issue = new_issue(client)
    client.assign_issue(issue, "bob")
    assignee = client.issue(issue.key).fields.assignee
    assert assignee.displayName == "Bob Builder"
    sent = [r for r in fake.requests if r.route == "PUT /issue/{key}/assignee"][-1]
    assert sent.path.startswith("/rest/api/latest/")
    if fake.flavour == "cloud":
        assert sent.json == {"accountId": fake.state.user("bob").account_id}
        assert assignee.accountId == fake.state.user("bob").account_id
    else:
        assert sent.json == {"name": "bob"}
        assert assignee.name == "bob"
    client.assign_issue(issue, None)
    assert client.issue(issue.key).fields.assignee is None


def test_assign_through_edit_uses_the_flavours_identifier(fake: JiraFake, client: Any) -> None:
    issue = new_issue(client)
    bob = fake.state.user("bob")
    good = {"accountId": bob.account_id} if fake.flavour == "cloud" else {"name": "bob"}
    bad = {"name": "bob"} if fake.flavour == "cloud" else {"accountId": bob.account_id}
    issue.update(fields={"assignee": good})
    assert client.issue(issue.key).fields.assignee.displayName == "Bob Builder"
    with pytest.raises(jira.JIRAError) as caught:
        issue.update(fields={"assignee": bad})
    assert "assignee" in error_json(caught)["errors"]


def test_user_lookup(fake: JiraFake, client: Any) -> None:
    found = (
        client.search_users(query="bob") if fake.flavour == "cloud" else client.search_users("bob")
    )
    assert [u.displayName for u in found] == ["Bob Builder"]
    ident = fake.state.user("alice").account_id if fake.flavour == "cloud" else "alice"
    assert client.user(ident).timeZone == "America/New_York"
