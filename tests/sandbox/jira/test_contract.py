"""Every exchange with the fake is checked against Atlassian's Jira Cloud v3 OpenAPI spec.

A scenario drives every endpoint on both flavours through the real client (plus a few raw
requests for error answers); each recorded request and response is then validated by
:mod:`tests.contracts.jira`.
"""

from __future__ import annotations

import pytest

from sandbox.jira import JiraFake
from sandbox.jira.rest import RecordedRequest
from tests.contracts.jira import validate_exchange
from tests.sandbox.jira.conftest import connect, make_fake, new_issue, raw_session


def drive_everything(fake: JiraFake) -> None:
    """Call every endpoint the fake serves, successes and Jira's error answers."""
    client = connect(fake)
    session = raw_session()
    api = f"{fake.url}/rest/api/2"
    client.myself()
    client.fields()
    client.priorities()
    client.projects()
    client.project("IT")
    issue = new_issue(client, description="*hello*", labels=["deskhand"])
    client.issue(issue.key, expand="changelog,names,transitions")
    issue.update(fields={"summary": "Edited", "customfield_10051": "L2"})
    comment = client.add_comment(issue, "public")
    client.add_comment(issue, "internal", is_internal=True)
    client.comments(issue.key, expand="properties")
    comment.update(body="edited")
    client.comment(issue.key, comment.id)
    session.delete(f"{api}/issue/{issue.key}/comment/{comment.id}").raise_for_status()
    client.transitions(issue)
    client.transition_issue(issue, "Done", fields={"resolution": {"name": "Done"}})
    client.assign_issue(issue, "bob")
    client.search_users(query="bob") if fake.flavour == "cloud" else client.search_users("bob")
    client.user(fake.state.user("bob").account_id if fake.flavour == "cloud" else "bob")
    client.add_issue_property(issue.key, "deskhand", {"ticket": "HELP-1"})
    client.issue_properties(issue.key)
    session.delete(f"{api}/issue/{issue.key}/properties/deskhand").raise_for_status()
    link = client.add_simple_link(issue.key, {"url": "https://example.com", "title": "Slack"})
    client.remote_link(issue.key, link.id)
    client.remote_links(issue.key)
    if fake.flavour == "cloud":
        client.search_issues("project = IT", maxResults=1)
        client.enhanced_search_issues("project = IT", use_post=True)
        session.get(f"{api}/search", params={"jql": "project = IT"})
    else:
        client.search_issues("project = IT", maxResults=1)
        client.search_issues("project = IT", use_post=True)
        types = client.project_issue_types("IT")
        client.project_issue_fields("IT", types[0].id)
    # Error answers, each in Jira's shape.
    session.get(f"{api}/issue/IT-999")
    session.post(f"{api}/issue/{issue.key}/comment", json={"body": "x" * 40_000})
    session.put(f"{api}/issue/{issue.key}", json={"fields": {"customfield_99999": "x"}})
    session.get(f"{api}/search/jql", params={"jql": "summary ~ x"})
    session.delete(f"{api}/issue/{issue.key}").raise_for_status()


def registered_routes(fake: JiraFake) -> set[str]:
    return {
        rule.endpoint
        for rule in fake.wsgi_app.url_map.iter_rules()
        if rule.endpoint not in ("static", "applinks")
    }


pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_every_exchange_matches_the_v3_spec(flavour: str) -> None:
    with make_fake(flavour) as fake:
        drive_everything(fake)
    checked = [r for r in fake.requests if r.route not in (None, "GET /applinks")]
    assert checked
    for record in checked:
        try:
            validate_exchange(record)
        except Exception as exc:
            message = f"{record.method} {record.path} -> {record.status}: {exc}"
            raise AssertionError(message[:2000]) from exc


def test_every_endpoint_is_covered_by_a_contract_exchange() -> None:
    answered: set[str] = set()
    routes: set[str] = set()
    for flavour in ("cloud", "server"):
        with make_fake(flavour) as fake:
            drive_everything(fake)
        routes |= registered_routes(fake)
        answered |= {r.route for r in fake.requests if r.route and r.status < 400}
    assert routes - answered == set()


def test_the_validator_rejects_a_wrong_shape() -> None:
    """The contract check can fail: a user with a numeric ``active`` flag is refused."""
    record = RecordedRequest(
        method="GET",
        path="/rest/api/2/myself",
        route="GET /myself",
        query={},
        json=None,
        headers={},
        status=200,
        response={"accountId": "abc", "active": "yes"},
    )
    with pytest.raises(Exception, match=r"active|yes"):
        validate_exchange(record)
