"""Issue endpoints: issues, comments, transitions, assignee, properties, remote links."""

from __future__ import annotations

from typing import Any

from sandbox.jira import links
from sandbox.jira.errors import JiraError, field_error
from sandbox.jira.model import User
from sandbox.jira.rest import Ctx, JiraApp, Reply


def _dict(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise JiraError(400, [f"'{name}' must be a JSON object."])
    return value


def _visibility(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or value.get("type") not in ("role", "group")
        or not isinstance(value.get("value") or value.get("identifier"), str)
    ):
        raise field_error("commentLevel", "Visibility must name a role or a group.")
    return {str(k): str(v) for k, v in value.items()}


def _fields_arg(ctx: Ctx) -> list[str] | None:
    raw = ctx.args.get("fields")
    return [f for item in raw for f in item.split(",") if f] if raw else None


def register(app: JiraApp) -> None:
    _register_issues(app)
    _register_comments(app)
    _register_workflow(app)
    _register_extras(app)


def _register_issues(app: JiraApp) -> None:
    @app.route("POST", "/issue")
    def create_issue(ctx: Ctx) -> Reply:
        body = ctx.json_object()
        issue = ctx.fake.state.create_issue(
            ctx.actor, _dict(body.get("fields"), "fields"), _dict(body.get("update"), "update")
        )
        return Reply(
            201, {"id": issue.id, "key": issue.key, "self": f"{ctx.render.api}/issue/{issue.id}"}
        )

    @app.route("GET", "/issue/{key}")
    def get_issue(ctx: Ctx, key: str) -> Reply:
        issue = ctx.fake.state.issue(key)
        return Reply(body=ctx.render.issue(issue, _fields_arg(ctx), ctx.arg("expand") or ""))

    @app.route("PUT", "/issue/{key}")
    def edit_issue(ctx: Ctx, key: str) -> Reply:
        body = ctx.json_object()
        state = ctx.fake.state
        state.edit_issue(
            ctx.actor,
            key,
            _dict(body.get("fields"), "fields"),
            _dict(body.get("update"), "update"),
        )
        if ctx.arg("returnIssue") == "true":
            return Reply(200, ctx.render.issue(state.issue(key)))
        return Reply(204)

    @app.route("DELETE", "/issue/{key}")
    def delete_issue(ctx: Ctx, key: str) -> Reply:
        ctx.fake.state.delete_issue(ctx.actor, key)
        return Reply(204)


def _register_comments(app: JiraApp) -> None:
    @app.route("GET", "/issue/{key}/comment")
    def list_comments(ctx: Ctx, key: str) -> Reply:
        issue = ctx.fake.state.issue(key)
        comments = list(issue.comments)
        if ctx.arg("orderBy") == "-created":
            comments.reverse()
        start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 5000)
        with_props = "properties" in (ctx.arg("expand") or "")
        return Reply(
            body={
                "comments": [
                    ctx.render.comment(issue, c, properties=with_props)
                    for c in comments[start : start + size]
                ],
                "maxResults": size,
                "total": len(comments),
                "startAt": start,
            }
        )

    @app.route("POST", "/issue/{key}/comment")
    def add_comment(ctx: Ctx, key: str) -> Reply:
        body = ctx.json_object()
        state = ctx.fake.state
        comment = state.add_comment(
            ctx.actor,
            key,
            body.get("body"),
            visibility=_visibility(body.get("visibility")),
            properties=body.get("properties"),
        )
        issue = state.issue(key)
        return Reply(201, ctx.render.comment(issue, comment, properties=bool(comment.properties)))

    @app.route("GET", "/issue/{key}/comment/{comment_id}")
    def get_comment(ctx: Ctx, key: str, comment_id: str) -> Reply:
        issue, comment = ctx.fake.state.comment(key, comment_id)
        with_props = "properties" in (ctx.arg("expand") or "")
        return Reply(body=ctx.render.comment(issue, comment, properties=with_props))

    @app.route("PUT", "/issue/{key}/comment/{comment_id}")
    def update_comment(ctx: Ctx, key: str, comment_id: str) -> Reply:
        body = ctx.json_object()
        state = ctx.fake.state
        comment = state.update_comment(
            ctx.actor,
            key,
            comment_id,
            body.get("body"),
            visibility=_visibility(body.get("visibility")),
            properties=body.get("properties"),
        )
        return Reply(body=ctx.render.comment(state.issue(key), comment))

    @app.route("DELETE", "/issue/{key}/comment/{comment_id}")
    def delete_comment(ctx: Ctx, key: str, comment_id: str) -> Reply:
        ctx.fake.state.delete_comment(ctx.actor, key, comment_id)
        return Reply(204)


def _register_workflow(app: JiraApp) -> None:
    @app.route("GET", "/issue/{key}/transitions")
    def list_transitions(ctx: Ctx, key: str) -> Reply:
        state = ctx.fake.state
        issue = state.issue(key)
        wanted = ctx.arg("transitionId")
        with_fields = "transitions.fields" in (ctx.arg("expand") or "")
        found = [
            ctx.render.transition(t, with_fields=with_fields)
            for t in state.workflow.available(issue.status)
            if wanted is None or t.id == wanted
        ]
        return Reply(body={"expand": "transitions", "transitions": found})

    @app.route("POST", "/issue/{key}/transitions")
    def do_transition(ctx: Ctx, key: str) -> Reply:
        body = ctx.json_object()
        transition = _dict(body.get("transition"), "transition")
        if "id" not in transition:
            raise JiraError(400, ["Missing 'transition' identifier"])
        ctx.fake.state.transition(
            ctx.actor,
            key,
            str(transition["id"]),
            _dict(body.get("fields"), "fields"),
            _dict(body.get("update"), "update"),
        )
        return Reply(204)

    @app.route("PUT", "/issue/{key}/assignee")
    def assign(ctx: Ctx, key: str) -> Reply:
        body = ctx.json_object()
        state = ctx.fake.state
        issue = state.issue(key)
        field = "accountId" if state.flavour == "cloud" else "name"
        if field not in body:
            raise field_error("assignee", f"'{field}' is required to assign an issue.")
        ident = body[field]
        user: User | None
        if ident is None:
            user = None
        elif ident == "-1":
            lead = state.projects[issue.project].lead
            user = state.users[lead] if lead else None
        else:
            user = state.find_user(str(ident))
            if user is None:
                raise field_error("assignee", f"User '{ident}' does not exist.")
        state.assign(ctx.actor, key, user)
        return Reply(204)


def _register_extras(app: JiraApp) -> None:
    @app.route("GET", "/issue/{key}/properties")
    def list_properties(ctx: Ctx, key: str) -> Reply:
        issue = ctx.fake.state.issue(key)
        keys = [
            {"self": f"{ctx.render.api}/issue/{issue.id}/properties/{name}", "key": name}
            for name in issue.properties
        ]
        return Reply(body={"keys": keys})

    @app.route("GET", "/issue/{key}/properties/{prop}")
    def get_property(ctx: Ctx, key: str, prop: str) -> Reply:
        issue = ctx.fake.state.issue(key)
        if prop not in issue.properties:
            raise JiraError(404, [f"The property with key '{prop}' does not exist."])
        return Reply(body={"key": prop, "value": issue.properties[prop]})

    @app.route("PUT", "/issue/{key}/properties/{prop}")
    def put_property(ctx: Ctx, key: str, prop: str) -> Reply:
        if ctx.body is None:
            raise JiraError(400, ["The property value must be valid JSON."])
        created = links.set_property(ctx.fake.state, key, prop, ctx.body)
        return Reply(201 if created else 200)

    @app.route("DELETE", "/issue/{key}/properties/{prop}")
    def delete_property(ctx: Ctx, key: str, prop: str) -> Reply:
        issue = ctx.fake.state.issue(key)
        if prop not in issue.properties:
            raise JiraError(404, [f"The property with key '{prop}' does not exist."])
        del issue.properties[prop]
        return Reply(204)

    @app.route("GET", "/issue/{key}/remotelink")
    def list_links(ctx: Ctx, key: str) -> Reply:
        issue = ctx.fake.state.issue(key)
        wanted = ctx.arg("globalId")
        links = [k for k in issue.remote_links if wanted is None or k.global_id == wanted]
        return Reply(body=[ctx.render.remote_link(issue, link) for link in links])

    @app.route("POST", "/issue/{key}/remotelink")
    def add_link(ctx: Ctx, key: str) -> Reply:
        state = ctx.fake.state
        link, created = links.add_remote_link(state, key, ctx.json_object())
        issue = state.issue(key)
        return Reply(
            201 if created else 200,
            {"id": link.id, "self": f"{ctx.render.api}/issue/{issue.key}/remotelink/{link.id}"},
        )

    @app.route("GET", "/issue/{key}/remotelink/{link_id}")
    def get_link(ctx: Ctx, key: str, link_id: str) -> Reply:
        issue = ctx.fake.state.issue(key)
        for link in issue.remote_links:
            if str(link.id) == link_id:
                return Reply(body=ctx.render.remote_link(issue, link))
        raise JiraError(404, ["No remote link with the given id was found."])
