"""Webhooks from the fake Jira: what arrives, signed, retried, duplicated, reordered, dropped.

A small Flask receiver on loopback records every request; changes are made through the real
``jira`` client and through ``JiraDriver``. Every body is checked against the recorded Jira
webhooks in ``shared/testdata`` (``webhook_contract``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, Response, request

from sandbox.clock import Clock
from sandbox.httpserver import LoopbackServer
from sandbox.jira import JiraDriver, JiraFake
from sandbox.jira.webhook_contract import Sample, check, load_samples
from sandbox.jira.webhook_payloads import PayloadBuilder
from sandbox.jira.webhooks import WebhookSender
from tests.conftest import SHARED_TESTDATA
from tests.sandbox.jira.conftest import connect, make_fake, new_issue
from tests.sandbox.stepped_clock import SteppedClock
from tests.waiting import DEADLINE

SAMPLES_DIR = SHARED_TESTDATA / "jira" / "webhooks" / "mattermost-plugin-jira"
SECRET = "webhook-secret"

# Keys the fake sends that the 2019 recorded bodies predate or happen to lack. Each is in the
# same object of Atlassian's Jira Cloud v3 OpenAPI spec (shared/testdata/jira/specs), and
# webhooks carry the same beans as REST: UserDetails.accountType, IssueTypeDetails.hierarchyLevel,
# Priority.statusColor/description, Comment.jsdPublic, UserDetails.emailAddress (a comment
# author's email is hidden or shown per the user's privacy setting; the same Cloud sample shows
# it on ``user``), ProjectDetails.projectTypeKey (missing from the Server samples' project).
ALLOWED = (
    "*.accountType",
    "*.issuetype.hierarchyLevel",
    "*.priority.statusColor",
    "*.priority.description",
    "*.jsdPublic",
    "$.comment.author.emailAddress",
    "$.comment.updateAuthor.emailAddress",
    "$.issue.fields.project.projectTypeKey",
)


@dataclass
class Received:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)

    @property
    def identifier(self) -> str:
        return self.headers["X-Atlassian-Webhook-Identifier"]

    @property
    def kind(self) -> tuple[str, str | None]:
        body = self.body
        return body["webhookEvent"], body.get("issue_event_type_name")


class Receiver:
    """Records what arrives; answers with the queued statuses first (``"hang"`` stalls)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int | str] = []
        self.release = threading.Event()
        self._cond = threading.Condition()
        app = Flask("webhook-receiver")
        app.add_url_rule("/hook", "hook", self._hook, methods=["POST"])
        self.server = LoopbackServer(app)

    def _hook(self) -> Response:
        with self._cond:
            self.received.append(Received(dict(request.headers), request.get_data()))
            answer = self.answers.pop(0) if self.answers else 200
            self._cond.notify_all()
        if answer == "hang":  # until the test releases it: past any sender's timeout
            self.release.wait(timeout=DEADLINE)
            answer = 200
        return Response(status=int(answer))

    def wait_for(self, count: int, timeout: float = DEADLINE) -> list[Received]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.received) >= count, timeout=timeout), (
                f"{len(self.received)} of {count} webhooks arrived"
            )
            return list(self.received)

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    hooks.server.start()
    yield hooks
    hooks.release.set()
    hooks.server.stop()


@pytest.fixture(params=["cloud", "server"])
def fast_fake(request: pytest.FixtureRequest) -> Iterator[JiraFake]:
    with make_fake(request.param, clock=Clock(speed=1000)) as started:
        yield started


@pytest.fixture
def cloud() -> Iterator[JiraFake]:
    """Cloud with retry delays a thousand times shorter (this module's own ``cloud``)."""
    with make_fake("cloud", clock=Clock(speed=1000)) as started:
        yield started


@pytest.fixture
def server() -> Iterator[JiraFake]:
    with make_fake("server", clock=Clock(speed=1000)) as started:
        yield started


@pytest.fixture
def samples() -> list[Sample]:
    if not SAMPLES_DIR.is_dir():
        pytest.fail(f"the recorded Jira webhooks are missing at {SAMPLES_DIR}")
    return load_samples(SAMPLES_DIR)


def sender_for(fake: JiraFake, receiver: Receiver, **kwargs: Any) -> WebhookSender:
    return WebhookSender(fake, receiver.url, SECRET, retry_delays=(1.0, 2.0, 4.0), **kwargs)


def settle(sender: WebhookSender) -> None:
    assert sender.wait_idle(timeout=DEADLINE), "deliveries still pending"


def test_every_change_arrives_signed_and_shaped_like_jira(
    fast_fake: JiraFake, receiver: Receiver, samples: list[Sample]
) -> None:
    client = connect(fast_fake)
    with sender_for(fast_fake, receiver) as sender:
        issue = new_issue(client)
        comment = client.add_comment(issue, "Have you tried turning it off?")
        comment.update(body="Edited")
        comment.delete()
        client.assign_issue(issue, "bob" if fast_fake.flavour == "server" else "Bob")
        bob = JiraDriver(fast_fake).user("bob")
        bob.comment(issue.key, "On it")
        bob.transition(issue.key, "In Progress")
        bob.transition(issue.key, "Done")
        bob.transition(issue.key, "Reopen")
        bob.edit(issue.key, summary="Printer still on fire", customfield_10050="DH-1")
        client.issue(issue.key).delete()
        settle(sender)

    arrived = receiver.received
    kinds = {r.kind for r in arrived}
    moved = (
        {"issue_generic"}
        if fast_fake.flavour == "cloud"
        else {"issue_work_started", "issue_resolved", "issue_reopened"}
    )
    expected = {
        ("jira:issue_created", "issue_created"),
        ("comment_created", None),
        ("comment_updated", None),
        ("comment_deleted", None),
        ("jira:issue_updated", "issue_commented"),
        ("jira:issue_updated", "issue_comment_edited"),
        ("jira:issue_updated", "issue_comment_deleted"),
        ("jira:issue_updated", "issue_assigned"),
        ("jira:issue_updated", "issue_updated"),
        ("jira:issue_deleted", None),
    } | {("jira:issue_updated", name) for name in moved}
    assert kinds == expected
    assert len({r.identifier for r in arrived}) == len(arrived) == len(sender.attempts)

    for hook in arrived:
        assert hook.headers["Content-Type"] == "application/json"
        assert "X-Atlassian-Webhook-Retry" not in hook.headers
        signature = hmac.new(SECRET.encode(), hook.raw, hashlib.sha256).hexdigest()
        assert hook.headers["X-Hub-Signature"] == f"sha256={signature}"
        forged = hmac.new(b"wrong-secret", hook.raw, hashlib.sha256).hexdigest()
        assert hook.headers["X-Hub-Signature"] != f"sha256={forged}"
        report = check(hook.body, fast_fake.flavour, samples, ALLOWED)
        assert report.problems == [], (hook.kind, report.samples)

    # Whoever acted is the ``user``, by accountId on Cloud and by name on Server.
    by_kind: dict[tuple[str, str | None], Any] = {}
    for hook in arrived:
        by_kind.setdefault(hook.kind, hook.body)
    commented = by_kind["jira:issue_updated", "issue_commented"]
    resolved = next(r.body for r in arrived if any(i["field"] == "resolution" for i in _items(r)))
    bob_user = fast_fake.state.user("bob")
    if fast_fake.flavour == "cloud":
        assert resolved["user"]["accountId"] == bob_user.account_id
        assert "name" not in resolved["user"]
        assert by_kind["comment_created", None]["issue"]["key"] == issue.key
        assert all("fieldId" in i for i in _items_of(resolved))
    else:
        assert resolved["user"]["name"] == "bob"
        assert "issue" not in by_kind["comment_created", None]
    assert {(i["field"], i["toString"]) for i in _items_of(resolved)} >= {
        ("status", "Done"),
        ("resolution", "Done"),
    }
    assert commented["comment"]["body"] == "Have you tried turning it off?"
    custom = [r.body for r in arrived if any(i["fieldtype"] == "custom" for i in _items(r))]
    assert custom
    assert custom[0]["changelog"]["items"][-1]["toString"] == "DH-1"


def _items(hook: Received) -> list[dict[str, Any]]:
    return _items_of(hook.body)


def _items_of(body: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (body.get("changelog") or {}).get("items", [])
    return items


def test_the_contract_checker_reports_invented_keys_and_wrong_types(
    samples: list[Sample],
) -> None:
    fake = make_fake("cloud")
    bodies: list[dict[str, Any]] = []
    builder = PayloadBuilder(fake.state, "http://jira.test")
    fake.subscribe(lambda *change: bodies.extend(w.body for w in builder.build(*change)))
    JiraDriver(fake).create("IT", "Printer on fire")
    body = bodies[0]
    assert check(body, "cloud", samples, ALLOWED).problems == []
    body["issue"]["fields"]["status"]["mood"] = "grumpy"
    body["issue"]["fields"]["summary"] = 42
    body["timestamp"] = "yesterday"
    problems = check(body, "cloud", samples, ALLOWED).problems
    assert "unknown key $.issue.fields.status.mood" in problems
    assert any(p.startswith("$.issue.fields.summary: sent ['number']") for p in problems)
    assert any(p.startswith("$.timestamp: sent ['string']") for p in problems)
    assert len(problems) == 3
    # The allowlist is what lets the v3-spec keys through.
    assert "unknown key $.user.accountType" in check(body, "cloud", samples).problems


def test_a_retry_keeps_the_identifier(server: JiraFake, receiver: Receiver) -> None:
    receiver.answers = [503]
    with sender_for(server, receiver, events=["jira:issue_created"]) as sender:
        JiraDriver(server).create("IT", "Printer on fire")
        first, retry = receiver.wait_for(2)
        settle(sender)
    assert first.identifier == retry.identifier
    assert "X-Atlassian-Webhook-Retry" not in first.headers
    assert retry.headers["X-Atlassian-Webhook-Retry"] == "1"
    assert first.raw == retry.raw
    assert [(a.retry, a.status) for a in sender.attempts] == [(0, 503), (1, 200)]
    assert len(receiver.received) == 2


def test_retries_end_after_the_last_delay_and_not_on_a_client_error(
    cloud: JiraFake, receiver: Receiver
) -> None:
    receiver.answers = [500, 429, 408, 502, 400]
    with sender_for(cloud, receiver, events=["jira:issue_created"]) as sender:
        JiraDriver(cloud).create("IT", "Gives up")
        settle(sender)
        JiraDriver(cloud).create("IT", "Refused")
        settle(sender)
    assert [(a.retry, a.status) for a in sender.attempts] == [
        (0, 500),
        (1, 429),
        (2, 408),
        (3, 502),
        (0, 400),
    ]


def test_a_timeout_is_retried(cloud: JiraFake, receiver: Receiver) -> None:
    # The first try hangs until released, so it times out whatever the machine's speed; the
    # retry is answered at once, well within the seconds the sender waits.
    receiver.answers = ["hang"]
    with sender_for(cloud, receiver, events=["jira:issue_created"], timeout=3.0) as sender:
        JiraDriver(cloud).create("IT", "Slow receiver")
        first, retry = receiver.wait_for(2)
        receiver.release.set()
        settle(sender)
    assert first.identifier == retry.identifier
    assert sender.attempts[0].status is None
    error = sender.attempts[0].error
    assert error is not None
    assert "Timeout" in error
    assert sender.attempts[1].status == 200


def test_duplicates_share_one_identifier(fast_fake: JiraFake, receiver: Receiver) -> None:
    with sender_for(fast_fake, receiver, events=["comment_created"]) as sender:
        new_issue(connect(fast_fake))
        sender.duplicate()
        JiraDriver(fast_fake).comment("IT-1", "once")
        JiraDriver(fast_fake).comment("IT-1", "twice?")
        settle(sender)
    bodies = [r.body["comment"]["body"] for r in receiver.received]
    assert bodies == ["once", "once", "twice?"]
    first, copy, other = receiver.received
    assert first.identifier == copy.identifier != other.identifier
    assert first.raw == copy.raw
    assert "X-Atlassian-Webhook-Retry" not in copy.headers
    assert [a.duplicate for a in sender.attempts] == [False, True, False]


@pytest.mark.parametrize(("order", "expected"), [("reverse", ["3", "2", "1"]), ("fifo", None)])
def test_held_deliveries_are_released_reordered(
    server: JiraFake, receiver: Receiver, order: str, expected: list[str] | None
) -> None:
    with sender_for(server, receiver, events=["comment_created"]) as sender:
        JiraDriver(server).create("IT", "Printer on fire")
        sender.hold()
        for text in ("1", "2", "3"):
            JiraDriver(server).comment("IT-1", text)
        settle(sender)
        assert receiver.received == []
        assert sender.held == 3
        assert sender.release(order) == 3  # type: ignore[arg-type]
        settle(sender)
    sent = [r.body["comment"]["body"] for r in receiver.received]
    assert sent == (expected or ["1", "2", "3"])


def test_shuffle_is_a_permutation(server: JiraFake, receiver: Receiver) -> None:
    with sender_for(server, receiver, events=["comment_created"]) as sender:
        JiraDriver(server).create("IT", "Printer on fire")
        sender.hold()
        texts = [str(n) for n in range(8)]
        for text in texts:
            JiraDriver(server).comment("IT-1", text)
        sender.release("shuffle", seed=3)
        settle(sender)
    sent = [r.body["comment"]["body"] for r in receiver.received]
    assert sorted(sent) == texts
    assert sent != texts


def test_delay_lets_a_later_change_arrive_first(receiver: Receiver) -> None:
    # The delay runs on a clock the test moves: "late" is held however slowly the test goes.
    clock = SteppedClock(speed=1000)
    with (
        make_fake("server", clock=clock) as server,
        sender_for(server, receiver, events=["comment_created"]) as sender,
    ):
        JiraDriver(server).create("IT", "Printer on fire")
        sender.delay(300)  # five sandbox minutes
        JiraDriver(server).comment("IT-1", "late")
        JiraDriver(server).comment("IT-1", "prompt")
        receiver.wait_for(1)
        assert [r.body["comment"]["body"] for r in receiver.received] == ["prompt"]
        clock.advance(300)
        receiver.wait_for(2)
        settle(sender)
    assert [r.body["comment"]["body"] for r in receiver.received] == ["prompt", "late"]


def test_drop_loses_the_next_deliveries(cloud: JiraFake, receiver: Receiver) -> None:
    with sender_for(cloud, receiver, events=["comment_created"]) as sender:
        JiraDriver(cloud).create("IT", "Printer on fire")
        sender.drop(2)
        for text in ("lost", "lost too", "kept"):
            JiraDriver(cloud).comment("IT-1", text)
        settle(sender)
    assert [r.body["comment"]["body"] for r in receiver.received] == ["kept"]
    assert [a.dropped for a in sender.attempts] == [True, True, False]
    assert [a.status for a in sender.attempts] == [None, None, 200]


def test_server_format_has_no_event_type_name(
    server: JiraFake, receiver: Receiver, samples: list[Sample]
) -> None:
    with sender_for(server, receiver, server_format=True) as sender:
        issue = JiraDriver(server).create("IT", "Printer on fire")
        JiraDriver(server).user("bob").transition(issue.key, "Done")
        JiraDriver(server).comment(issue.key, "Closed it")
        settle(sender)
    kinds = [r.kind for r in receiver.received]
    assert kinds == [
        ("jira:issue_created", None),
        ("jira:issue_updated", None),
        ("comment_created", None),
        ("jira:issue_updated", None),
    ]
    for hook in receiver.received:
        assert check(hook.body, "server", samples, ALLOWED).problems == []
    with pytest.raises(ValueError, match="server fake"):
        WebhookSender(make_fake("cloud"), receiver.url, SECRET, server_format=True)


def test_without_a_secret_there_is_no_signature(cloud: JiraFake, receiver: Receiver) -> None:
    with WebhookSender(cloud, receiver.url, None, events=["jira:issue_created"]) as sender:
        JiraDriver(cloud).create("IT", "Unsigned")
        settle(sender)
    (hook,) = receiver.received
    assert "X-Hub-Signature" not in hook.headers
    assert hook.headers["X-Atlassian-Webhook-Flow"] == "Primary"
