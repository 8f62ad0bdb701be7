"""Site-level endpoints: server info, users, fields, projects, create metadata, search."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sandbox.jira import jql
from sandbox.jira.errors import JiraError
from sandbox.jira.model import Issue
from sandbox.jira.rest import Ctx, JiraApp, Reply

SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def register(app: JiraApp) -> None:
    route = app.route

    @route("GET", "/serverInfo")
    def server_info(ctx: Ctx) -> Reply:
        cloud = ctx.fake.state.flavour == "cloud"
        version = [1001, 0, 0] if cloud else [9, 12, 15]
        return Reply(
            body={
                "baseUrl": ctx.render.host,
                "displayUrl": ctx.render.host,
                "version": ".".join(map(str, version)) + ("-SNAPSHOT" if cloud else ""),
                "versionNumbers": version,
                "deploymentType": "Cloud" if cloud else "Server",
                "buildNumber": 100_280 if cloud else 9_120_015,
                "buildDate": "2025-12-01T00:00:00.000+0000",
                "serverTime": ctx.render.time(ctx.fake.clock.wall()),
                "scmInfo": "sandbox",
                "serverTitle": "Deskhand sandbox Jira",
            }
        )

    @route("GET", "/myself")
    def myself(ctx: Ctx) -> Reply:
        return Reply(body=ctx.render.user(ctx.actor))

    @route("GET", "/field")
    def fields(ctx: Ctx) -> Reply:
        return Reply(body=ctx.render.field_list())

    @route("GET", "/priority")
    def priorities(ctx: Ctx) -> Reply:
        return Reply(body=[ctx.render.priority(p) for p in ctx.fake.state.priorities])

    @route("GET", "/project")
    def projects(ctx: Ctx) -> Reply:
        return Reply(body=[ctx.render.project(p) for p in ctx.fake.state.projects.values()])

    @route("GET", "/project/{key}")
    def project(ctx: Ctx, key: str) -> Reply:
        return Reply(body=ctx.render.project(ctx.fake.state.project(key)))

    @route("GET", "/issue/createmeta/{project}/issuetypes")
    def createmeta_types(ctx: Ctx, project: str) -> Reply:
        found = ctx.fake.state.project(project)
        types = [ctx.render.issue_type(t) for t in found.issue_types]
        return Reply(body=_page(ctx, types, "issueTypes"))

    @route("GET", "/issue/createmeta/{project}/issuetypes/{type_id}")
    def createmeta_fields(ctx: Ctx, project: str, type_id: str) -> Reply:
        found = ctx.fake.state.project(project)
        if type_id not in {t.id for t in found.issue_types}:
            raise JiraError(404, ["Issue type with the specified id was not found."])
        wanted = {"summary", "description", "priority", "labels", "assignee", "reporter"}
        metas = [
            {
                "required": ident == "summary",
                "schema": field["schema"],
                "name": field["name"],
                "fieldId": ident,
                "key": ident,
                "hasDefaultValue": False,
                "operations": ["set", "add", "remove"] if ident == "labels" else ["set"],
            }
            for field in ctx.render.field_list()
            if (ident := field["id"]) in wanted or field["custom"]
        ]
        return Reply(body=_page(ctx, metas, "fields"))

    @route("GET", "/user/search")
    def user_search(ctx: Ctx) -> Reply:
        query = ctx.arg("query") or ctx.arg("username") or ""
        if not query:
            raise JiraError(400, ["The query parameter 'query' is required."])
        found = ctx.fake.state.search_users(query)
        start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 50)
        return Reply(body=[ctx.render.user(u) for u in found[start : start + size]])

    @route("GET", "/user")
    def user(ctx: Ctx) -> Reply:
        state = ctx.fake.state
        ident = ctx.arg("accountId") if state.flavour == "cloud" else ctx.arg("username")
        ident = ident or ctx.arg("key")
        found = state.find_user(ident) if ident else None
        if found is None:
            raise JiraError(404, [f"The user with account ID '{ident}' does not exist."])
        return Reply(body=ctx.render.user(found))

    @route("GET", "/search")
    def search_get(ctx: Ctx) -> Reply:
        return _search_paged(ctx, _params_from_query(ctx))

    @route("POST", "/search")
    def search_post(ctx: Ctx) -> Reply:
        return _search_paged(ctx, ctx.json_object())

    @route("GET", "/search/jql")
    def search_jql_get(ctx: Ctx) -> Reply:
        return _search_token(ctx, _params_from_query(ctx))

    @route("POST", "/search/jql")
    def search_jql_post(ctx: Ctx) -> Reply:
        return _search_token(ctx, ctx.json_object())


def _page(ctx: Ctx, values: list[Any], cloud_key: str) -> dict[str, Any]:
    """Server pages under ``values``; the Cloud v3 shape names them; both are given."""
    start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 50)
    chunk = values[start : start + size]
    return {
        "startAt": start,
        "maxResults": size,
        "total": len(values),
        "isLast": start + size >= len(values),
        "values": chunk,
        cloud_key: chunk,
    }


def _params_from_query(ctx: Ctx) -> dict[str, Any]:
    params: dict[str, Any] = {k: v[0] for k, v in ctx.args.items() if v}
    if "fields" in ctx.args:
        params["fields"] = [f for raw in ctx.args["fields"] for f in raw.split(",") if f]
    return params


def _run(ctx: Ctx, params: dict[str, Any]) -> list[Issue]:
    text = params.get("jql") or ""
    if not isinstance(text, str):
        raise JiraError(400, ["The 'jql' parameter must be a string."])
    state = ctx.fake.state
    with state.lock:
        projects: dict[str, str] = {}
        for project in state.projects.values():
            for alias in (project.key, project.id, project.name):
                projects[alias.lower()] = project.key
        query = jql.parse(
            text, issue_keys=set(state.issues), projects=projects, tz=ctx.actor.time_zone
        )
        return query.sort([i for i in state.issues.values() if query.matches(i)])


def _int(params: dict[str, Any], name: str, default: int) -> int:
    raw = params.get(name, default)
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise JiraError(400, [f"The value '{raw}' is not valid for '{name}'."]) from exc


def _fields(params: dict[str, Any], default: list[str]) -> list[str]:
    raw = params.get("fields")
    if raw is None:
        return default
    if isinstance(raw, str):
        return [f for f in raw.split(",") if f]
    return [str(f) for f in raw]


def _search_paged(ctx: Ctx, params: dict[str, Any]) -> Reply:
    """Server's ``/search``: ``startAt``/``maxResults``/``total``. Gone (410) on Cloud."""
    if ctx.fake.state.flavour == "cloud":
        raise JiraError(410, [SEARCH_REMOVED])
    issues = _run(ctx, params)
    start = max(0, _int(params, "startAt", 0))
    size = min(max(0, _int(params, "maxResults", 50)), 1000)
    wanted = _fields(params, ["*navigable"])
    expand = params.get("expand") or ""
    expand = ",".join(expand) if isinstance(expand, list) else str(expand)
    return Reply(
        body={
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(issues),
            "issues": [ctx.render.issue(i, wanted, expand) for i in issues[start : start + size]],
        }
    )


def _search_token(ctx: Ctx, params: dict[str, Any]) -> Reply:
    """Cloud's ``/search/jql``: opaque ``nextPageToken``, no ``total``; absent on Server."""
    if ctx.fake.state.flavour == "server":
        raise JiraError(404, ["null for uri: " + ctx.render.api + "/search/jql"])
    issues = _run(ctx, params)
    token = params.get("nextPageToken")
    start = _decode_token(str(token)) if token else 0
    wanted = _fields(params, ["id"])
    # Cloud serves up to 5,000 ids per page but only 100 issues with fields.
    size = min(max(1, _int(params, "maxResults", 50)), 5000 if wanted == ["id"] else 100)
    expand = str(params.get("expand") or "")
    page = issues[start : start + size]
    body: dict[str, Any] = {
        "issues": [ctx.render.issue(i, wanted, expand) for i in page],
        "isLast": start + size >= len(issues),
    }
    if not body["isLast"]:
        body["nextPageToken"] = _encode_token(start + size)
    return Reply(body=body)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sandbox:{offset}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        prefix, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix == "sandbox" and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise JiraError(400, ["The provided next page token is invalid or expired."])
