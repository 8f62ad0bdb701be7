"""Atlassian's Jira Cloud v3 OpenAPI spec as a checker of recorded exchanges with the fake.

v2 and ``latest`` paths are mapped onto the same v3 path; bodies are wiki-markup strings, not
ADF (the v3 ``Comment.body`` and issue ``fields`` are untyped, so strings pass). Documented
relaxations: Jira's timestamps (``…000+0000``) are accepted as ``date-time``; the spec gives
``GET …/remotelink`` a single link where Jira (and the client) use a list.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import MissingData

from sandbox.jira.rest import RecordedRequest
from tests.conftest import SHARED_TESTDATA

SPEC_PATH: Path = SHARED_TESTDATA / "jira" / "specs" / "jira-cloud-platform-swagger-v3.v3.json"
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
        raise FileNotFoundError(f"the Jira OpenAPI spec is missing at {SPEC_PATH}")
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    links = spec["paths"]["/rest/api/3/issue/{issueIdOrKey}/remotelink"]["get"]["responses"]
    single = links["200"]["content"]["application/json"]["schema"]
    links["200"]["content"]["application/json"]["schema"] = {"type": "array", "items": single}
    return spec


@cache
def openapi() -> OpenAPI:
    # The spec fails openapi-spec-validator (see the testdata README), so skip that check.
    config = Config(
        spec_validator_cls=None,  # type: ignore[arg-type]
        extra_format_validators={"date-time": jira_datetime},
    )
    return OpenAPI.from_dict(copy.deepcopy(spec_dict()), config=config)


def _mock_request(record: RecordedRequest) -> MockRequest:
    """The recorded request as openapi-core sees it, on the v3 path."""
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
    return MockRequest(
        SPEC_HOST,
        record.method,
        path,
        args=query,
        headers={"Content-Type": "application/json"},
        data=body,
    )


def validate_exchange(record: RecordedRequest) -> None:
    """Raise unless both the request and the fake's answer match the spec."""
    request = _mock_request(record)
    path = request.path
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


def request_problems(record: RecordedRequest) -> list[str]:
    """Why the request in ``record`` is not one the spec documents; empty when it is."""
    try:
        openapi().validate_request(_mock_request(record))
    except Exception as exc:
        return [f"{record.method} {record.path}: {exc}"[:2000]]
    return []
