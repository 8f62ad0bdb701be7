"""``JiraTrackerPort``: the core's ``TrackerPort`` on the pycontribs ``jira`` client (REST v2).

Build it with :func:`connect`, which gives the client a timeout and no retries of its own: the
library would otherwise retry 429s, 5xx and broken connections, POSTs included, and could create
an issue twice. Retries belong to the outbox relay, which sees the core's errors.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import jira

from deskhand.ports import RejectedError
from deskhand.tracker import CommentState, IssueRef, IssueState
from jira_sync.errors import fit_body, fit_summary, translated
from jira_sync.inbound import comment_from_rest

Flavour = Literal["cloud", "server"]


def _jql_string(value: str) -> str:
    """``value`` as a quoted JQL string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class JiraTrackerPort:
    """Jira Cloud or Server/Data Center through ``client``, which must not retry by itself."""

    def __init__(self, client: jira.JIRA, flavour: Flavour) -> None:
        if flavour not in ("cloud", "server"):
            raise ValueError(f"flavour must be 'cloud' or 'server', not {flavour!r}")
        self._client = client
        self.flavour: Flavour = flavour
        self._me: str | None = None

    @property
    def client(self) -> jira.JIRA:
        """The client underneath (for the poller, which reads pages of raw issues)."""
        return self._client

    # -- people ---------------------------------------------------------------------------------

    def me(self) -> str:
        if self._me is None:
            with translated(write=False):
                self._me = _account(self._client.myself(), self.flavour)
        return self._me

    def account_for_email(self, email: str) -> str | None:
        wanted = email.casefold()
        with translated(write=False):
            if self.flavour == "cloud":
                found = self._client.search_users(query=email, maxResults=20)
            else:
                found = self._client.search_users(user=email, maxResults=20)
        for user in found:
            raw: dict[str, Any] = user.raw
            if str(raw.get("emailAddress") or "").casefold() == wanted and raw.get("active", True):
                return _account(raw, self.flavour)
        return None

    # -- issues ---------------------------------------------------------------------------------

    def create_issue(
        self,
        project: str,
        issue_type: str,
        summary: str,
        description: str,
        labels: list[str],
        fields: dict[str, Any],
    ) -> IssueRef:
        values: dict[str, Any] = {
            **fields,
            "project": {"key": project},
            "issuetype": {"name": issue_type},
            "summary": fit_summary(summary),
            "description": fit_body(description),
            "labels": list(labels),
        }
        with translated(write=True):
            # No prefetch: one request, so a timeout can only be the create itself.
            issue = self._client.create_issue(fields=values, prefetch=False)
        return self._ref(str(issue.raw["key"]), str(issue.raw["id"]))

    def find_by_label(self, project: str, label: str) -> IssueRef | None:
        jql = (
            f"project = {_jql_string(project)} AND labels = {_jql_string(label)} "
            "ORDER BY created ASC"
        )
        with translated(write=False):
            # Cloud: the client goes to /search/jql; Server: /search.
            found = self._client.search_issues(jql, maxResults=1, fields="labels")
        for issue in found:
            if isinstance(issue, jira.Issue):
                return self._ref(str(issue.key), str(issue.id))
        return None

    def issue_state(self, key: str) -> IssueState | None:
        try:
            with translated(write=False):
                raw = self._client.issue(key, fields="status,priority,assignee,updated").raw
        except RejectedError as exc:
            if exc.code == "404":
                return None
            raise
        fields: dict[str, Any] = raw.get("fields") or {}
        assignee = fields.get("assignee") or None
        return IssueState(
            updated=str(fields["updated"]),
            status=(fields.get("status") or {}).get("name"),
            priority=(fields.get("priority") or {}).get("name"),
            assignee=_account(assignee, self.flavour) if assignee else None,
            assignee_email=(assignee or {}).get("emailAddress") or None,
        )

    def comment_state(self, key: str, comment_id: str) -> CommentState | None:
        try:
            with translated(write=False):
                raw = self._client.comment(key, comment_id, expand="properties").raw
        except RejectedError as exc:
            if exc.code == "404":
                return None
            raise
        seen = comment_from_rest(key, raw)
        return CommentState(
            updated=seen.updated,
            author=seen.author,
            author_name=seen.author_name,
            body=seen.body,
            internal=seen.internal,
        )

    def issue_url(self, key: str) -> str:
        return f"{self._client.server_url.rstrip('/')}/browse/{key}"

    def set_priority(self, key: str, name: str) -> None:
        self._put(f"issue/{key}", {"fields": {"priority": {"name": name}}})

    def assign(self, key: str, account: str | None) -> None:
        # The client's assign_issue() would look ``account`` up with a user search first.
        field = "accountId" if self.flavour == "cloud" else "name"
        self._put(f"issue/{key}/assignee", {field: account})

    # -- comments -------------------------------------------------------------------------------

    def add_comment(
        self,
        key: str,
        body: str,
        *,
        internal: bool,
        service_desk: bool,
        visibility: tuple[str, str] | None,
    ) -> str:
        restricted: dict[str, str] | None = None
        if internal and not service_desk:
            if visibility is None:
                raise RejectedError(
                    "no-internal-visibility",
                    "an internal note outside a service desk needs a comment visibility",
                )
            restricted = {"type": visibility[0], "value": visibility[1]}
        with translated(write=True):
            comment = self._client.add_comment(
                key,
                fit_body(body),
                visibility=restricted,
                is_internal=internal and service_desk,
            )
        return str(comment.id)

    def find_comment(self, key: str, body: str) -> str | None:
        sent, me = fit_body(body), self.me()
        with translated(write=False):
            comments = self._client.comments(key)
        for comment in comments:
            raw: dict[str, Any] = comment.raw
            author = raw.get("author") or {}
            if raw.get("body") == sent and _account(author, self.flavour) == me:
                return str(raw["id"])
        return None

    def update_comment(self, key: str, comment_id: str, body: str) -> None:
        # Only the body: a JSM internal note stays internal, a visibility stays as it was.
        self._put(f"issue/{key}/comment/{comment_id}", {"body": fit_body(body)})

    # -- workflow -------------------------------------------------------------------------------

    def transition_to(self, key: str, status_name: str, *, resolution: str | None) -> bool:
        wanted = status_name.casefold()
        with translated(write=False):
            current = self._client.issue(key, fields="status").fields.status.name
            if str(current).casefold() == wanted:
                return True
            available: list[dict[str, Any]] = self._client.transitions(
                key, expand="transitions.fields"
            )
        match = next(
            (t for t in available if str(t.get("to", {}).get("name", "")).casefold() == wanted),
            None,
        )
        if match is None:
            return False
        fields: dict[str, Any] = {}
        if resolution is not None and "resolution" in (match.get("fields") or {}):
            fields["resolution"] = {"name": resolution}
        # Not the client's transition_issue(): it sends the id as a number, where the REST
        # spec has a string.
        body: dict[str, Any] = {"transition": {"id": str(match["id"])}}
        if fields:
            body["fields"] = fields
        self._post(f"issue/{key}/transitions", body)
        return True

    # -- links --------------------------------------------------------------------------------

    def add_remote_link(self, key: str, url: str, title: str) -> None:
        # The globalId makes the link idempotent: Jira updates the link with the same globalId
        # instead of adding a second one, so a retry after a timeout is harmless.
        global_id = "deskhand:" + hashlib.sha256(url.encode()).hexdigest()[:32]
        payload = {"globalId": global_id, "object": {"url": url, "title": title[:255]}}
        self._post(f"issue/{key}/remotelink", payload)

    # -- helpers --------------------------------------------------------------------------------

    def _ref(self, key: str, ident: str) -> IssueRef:
        return IssueRef(key=key, id=ident, url=self.issue_url(key))

    def _post(self, path: str, payload: dict[str, Any]) -> None:
        """One POST to ``/rest/api/2/{path}`` through the client's session (auth, errors)."""
        url = self._client._get_url(path)
        with translated(write=True):
            self._client._session.post(url, data=json.dumps(payload))

    def _put(self, path: str, payload: dict[str, Any]) -> None:
        """One PUT to ``/rest/api/2/{path}`` through the client's session (auth, errors)."""
        url = self._client._get_url(path)
        with translated(write=True):
            self._client._session.put(url, data=json.dumps(payload))


def _account(user: dict[str, Any], flavour: Flavour) -> str:
    """A user's account as the port names it: Cloud's account id, Server's username."""
    return str(user.get("accountId") if flavour == "cloud" else user.get("name"))


def connect(
    url: str, flavour: Flavour, account: str, token: str, timeout: float
) -> JiraTrackerPort:
    """A port on a new client: Cloud with Basic ``account`` (email) + API token, Server with
    the token as a Bearer personal access token (``account`` is not needed there).

    The client asks for ``/serverInfo`` at once, so a wrong URL or credential fails here.
    """
    if flavour not in ("cloud", "server"):
        raise ValueError(f"flavour must be 'cloud' or 'server', not {flavour!r}")
    with translated(write=False):
        if flavour == "cloud":
            client = jira.JIRA(
                server=url, basic_auth=(account, token), timeout=timeout, max_retries=0
            )
        else:
            client = jira.JIRA(server=url, token_auth=token, timeout=timeout, max_retries=0)
    return JiraTrackerPort(client, flavour)
