"""Every exchange with the fake is checked against Atlassian's Jira Cloud v3 OpenAPI spec.

A scenario drives every endpoint on both flavours through the real client (plus a few raw
requests for error answers); each recorded request and response is then validated. v2 and
``latest`` paths are mapped onto the same v3 path; bodies are wiki-markup strings, not ADF (the
v3 ``Comment.body`` and issue ``fields`` are untyped, so strings pass). Documented relaxations:
Jira's timestamps (``…000+0000``) are accepted as ``date-time``; the spec gives ``GET
…/remotelink`` a single link where Jira (and the client) use a list.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import MissingData

from sandbox.jira import JiraFake
from sandbox.jira.rest import RecordedRequest
from tests.conftest import SHARED_TESTDATA
from tests.sandbox.jira.conftest import connect, make_fake, new_issue, raw_session

SPEC_PATH = SHARED_TESTDATA / "jira" / "specs" / "jira-cloud-platform-swagger-v3.v3.json"
SPEC_HOST = "https://your-domain.atlassian.net"
JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")


def jira_datetime(value: str) -> bool:
    if JIRA_TIME.match(value):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@cache
def spec_dict() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.fail(f"the Jira OpenAPI spec is missing at {SPEC_PATH}")
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    links = spec["paths"]["/rest/api/3/issue/{issueIdOrKey}/remotelink"]["get"]["responses"]
    single = links["200"]["content"]["application/json"]["schema"]
    links["200"]["content"]["application/json"]["schema"] = {"type": "array", "items": single}
    return spec


@cache
def openapi() -> OpenAPI:
    from openapi_core import Config

    # The spec fails openapi-spec-validator (see the testdata README), so skip that check.
    config = Config(
        spec_validator_cls=None,  # type: ignore[arg-type]
        extra_format_validators={"date-time": jira_datetime},
    )
    return OpenAPI.from_dict(copy.deepcopy(spec_dict()), config=config)


def validate_exchange(record: RecordedRequest) -> None:
    path = re.sub(r"^/rest/api/(2|latest)/", "/rest/api/3/", record.path)
    sent = record.json
    if isinstance(sent, dict) and record.route in ("POST /search", "POST /search/jql"):
        # Known client quirks: jira 3.10.5 posts ``"expand": null`` (and ``"properties":
        # null``) and ``"validateQuery": true``, which Jira accepts and the spec does not.
        sent = {k: v for k, v in sent.items() if v is not None}
        if isinstance(sent.get("validateQuery"), bool):
            sent["validateQuery"] = str(sent["validateQuery"]).lower()
    query = dict(record.query)
    if "validateQuery" in query:
        # Known client quirk: it sends Python's ``True``; Jira reads it case-insensitively.
        query["validateQuery"] = [v.lower() for v in query["validateQuery"]]
    body = json.dumps(sent).encode() if sent is not None else None
    request = MockRequest(
        SPEC_HOST,
        record.method,
        path,
        args=query,
        headers={"Content-Type": "application/json"},
        data=body,
    )
    openapi().validate_request(request)
    if record.status >= 400:
        error_schema = {"$ref": "#/components/schemas/ErrorCollection", **spec_dict()}
        jsonschema.validate(record.response, error_schema)
        return
    data = json.dumps(record.response).encode() if record.response is not None else b""
    response = MockResponse(
        data,
        status_code=record.status,
        content_type="application/json" if record.response is not None else "",
    )
    try:
        openapi().validate_response(request, response)
    except MissingData:
        # Atlassian documents some bodiless answers (204, or 201 for a new property) with an
        # empty JSON schema; Jira sends no body. Accept exactly that case.
        if record.response is not None or documented_schema(path, record) != {}:
            raise


def documented_schema(path: str, record: RecordedRequest) -> Any:
    for template, item in spec_dict()["paths"].items():
        if re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path):
            answer = item[record.method.lower()]["responses"][str(record.status)]
            return answer["content"]["application/json"]["schema"]
    return None


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
