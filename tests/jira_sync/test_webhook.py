"""The Jira webhook receiver over real HTTP: the fake Jira's ``WebhookSender`` posts signed
deliveries (with its duplicates and retries) to the Flask app on loopback, which stores them in
the inbox of a SQLite database."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import flask
import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.events import JiraCommentSeen, JiraIssueSeen
from deskhand.inbox import Delivery, Inbox, InboxUnavailableError
from jira_sync.webhook import MAX_BODY_BYTES, register_jira_webhook, webhook_app
from sandbox.clock import Clock
from sandbox.httpserver import LoopbackServer
from sandbox.jira import JiraDriver, JiraFake
from sandbox.jira.webhooks import WebhookSender
from storage.models import InboxRow
from tests.jira_fixtures import make_fake
from tests.waiting import DEADLINE

SECRET = "current-webhook-secret"
PREVIOUS = "previous-webhook-secret"
PATH = "/jira/webhook"


@dataclass(frozen=True)
class Row:
    key: str
    kind: str
    payload: dict[str, Any]

    @property
    def identifier(self) -> str:
        return self.key.split(":")[1]


def rows(engine: Engine) -> list[Row]:
    with Session(engine) as session:
        found = session.scalars(select(InboxRow).order_by(InboxRow.id))
        return [Row(r.dedupe_key, r.kind, r.payload) for r in found]


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.count += 1


class FlakyInbox(Inbox):
    """The real inbox, except that while ``down`` is set the database refuses, as an
    unreachable database does (``InboxUnavailableError``)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.down = threading.Event()
        self.refused = threading.Event()

    def store(self, delivery: Delivery) -> bool:
        if self.down.is_set():
            self.refused.set()
            raise InboxUnavailableError("could not connect to the database")
        return super().store(delivery)


@dataclass
class Receiver:
    engine: Engine
    inbox: FlakyInbox
    wakes: Wakes
    url: str

    def rows(self) -> list[Row]:
        return rows(self.engine)


@contextmanager
def serving(engine: Engine, secrets: Sequence[str]) -> Iterator[Receiver]:
    inbox = FlakyInbox(engine)
    wakes = Wakes()
    with LoopbackServer(webhook_app(inbox, wakes, secrets)) as server:
        yield Receiver(engine, inbox, wakes, server.url + PATH)


@pytest.fixture
def receiver(engine: Engine) -> Iterator[Receiver]:
    """Accepts deliveries signed with the current or the previous secret (a rotation)."""
    with serving(engine, [SECRET, PREVIOUS]) as started:
        yield started


@pytest.fixture(params=["cloud", "server", "old-server"])
def jira(request: pytest.FixtureRequest) -> Iterator[tuple[JiraFake, bool]]:
    """A fake Jira whose webhook retries come a hundred times sooner; and the old format flag."""
    flavour = "cloud" if request.param == "cloud" else "server"
    with make_fake(flavour, clock=Clock(speed=100)) as fake:
        yield fake, request.param == "old-server"


@pytest.fixture
def cloud_fast() -> Iterator[JiraFake]:
    with make_fake("cloud", clock=Clock(speed=100)) as fake:
        yield fake


def sender(fake: JiraFake, url: str, secret: str | None, **kwargs: Any) -> WebhookSender:
    return WebhookSender(fake, url, secret, retry_delays=(50.0, 50.0, 50.0), **kwargs)


def idle(hooks: WebhookSender) -> None:
    assert hooks.wait_idle(timeout=DEADLINE), "webhooks still queued"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    sent = {"Content-Type": "application/json"} | (headers or {})
    return requests.post(url, data=body, headers=sent, timeout=5)


# -- stored once ----------------------------------------------------------------------------------


def test_every_delivery_is_stored_once_per_event_and_duplicates_change_nothing(
    jira: tuple[JiraFake, bool], receiver: Receiver
) -> None:
    fake, old_format = jira
    bob = JiraDriver(fake).user("bob")
    with sender(fake, receiver.url, SECRET, server_format=old_format) as hooks:
        hooks.duplicate(times=10)  # every delivery below arrives twice, same identifier
        bob.create("IT", "Printer on fire")
        comment = bob.comment("IT-1", "Have you tried turning it off?")
        idle(hooks)

    attempts = hooks.attempts
    assert [a.status for a in attempts] == [200] * 6
    assert sum(a.duplicate for a in attempts) == 3
    stored = receiver.rows()
    by_delivery: dict[str, list[Row]] = {}
    for row in stored:
        by_delivery.setdefault(row.identifier, []).append(row)
    # issue_created: the issue; comment_created: the comment; issue_updated (commented): both.
    assert sorted(len(v) for v in by_delivery.values()) == [1, 1, 2]
    assert set(by_delivery) == {a.identifier for a in attempts}
    assert len({row.key for row in stored}) == len(stored) == 4
    assert all(row.key.startswith("jira:") for row in stored)

    issues = [JiraIssueSeen.from_payload(r.payload) for r in stored if r.kind == "jira_issue_seen"]
    comments = [
        JiraCommentSeen.from_payload(r.payload) for r in stored if r.kind == "jira_comment_seen"
    ]
    assert {i.issue_key for i in issues} == {"IT-1"}
    assert {(c.comment_id, c.body) for c in comments} == {
        (comment.id, "Have you tried turning it off?")
    }
    # Each delivery that stored something woke the worker once; the duplicates did not.
    assert receiver.wakes.count == 3


def test_a_webhook_deskhand_does_not_use_is_acknowledged_and_not_stored(
    receiver: Receiver,
) -> None:
    body = json.dumps({"webhookEvent": "worklog_created", "worklog": {"id": "1"}}).encode()
    answer = post(
        receiver.url,
        body,
        {"X-Hub-Signature": sign(body, SECRET), "X-Atlassian-Webhook-Identifier": "w-1"},
    )
    assert answer.status_code == 200
    assert receiver.rows() == []
    assert receiver.wakes.count == 0


def test_without_an_identifier_the_body_names_the_delivery(receiver: Receiver) -> None:
    body = json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "timestamp": 1_700_000_000_000,
            "user": {"name": "bob"},
            "issue": {
                "key": "IT-4",
                "fields": {"updated": "2023-11-14T22:13:20.000+0000", "status": {"name": "Done"}},
            },
        }
    ).encode()
    headers = {"X-Hub-Signature": sign(body, SECRET)}
    assert post(receiver.url, body, headers).status_code == 200
    assert post(receiver.url, body, headers).status_code == 200
    (row,) = receiver.rows()
    assert row.key == f"jira:body-{hashlib.sha256(body).hexdigest()}:0"
    assert JiraIssueSeen.from_payload(row.payload).status == "Done"
    assert receiver.wakes.count == 1


# -- signatures -----------------------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_nothing_is_stored(
    cloud_fast: JiraFake, receiver: Receiver
) -> None:
    with sender(cloud_fast, receiver.url, "not-the-secret") as hooks:
        JiraDriver(cloud_fast).user("bob").create("IT", "Printer on fire")
        idle(hooks)
    assert [(a.status, a.retry) for a in hooks.attempts] == [(401, 0)]
    assert receiver.rows() == []
    assert receiver.wakes.count == 0


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha256=zz",
        "sha1=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha1).hexdigest(),
        sign(b'{"webhookEvent": "other body"}', SECRET),
    ],
    ids=["missing", "empty", "no-digest", "not-hex", "sha1", "other-body"],
)
def test_signatures_that_do_not_match_are_refused(
    receiver: Receiver, signature: str | None
) -> None:
    body = json.dumps({"webhookEvent": "jira:issue_deleted", "issue": {"key": "IT-1"}}).encode()
    headers = {"X-Atlassian-Webhook-Identifier": "x-1"}
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    assert post(receiver.url, body, headers).status_code == 401
    assert receiver.rows() == []


def test_the_signature_is_of_the_raw_body(receiver: Receiver) -> None:
    """The same JSON with other spacing has another signature: the raw bytes count."""
    body = json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": "IT-2", "fields": {"updated": "2026-01-01T00:00:00.000+0000"}},
        }
    ).encode()
    respaced = json.dumps(json.loads(body), indent=2).encode()
    headers = {"X-Hub-Signature": sign(body, SECRET), "X-Atlassian-Webhook-Identifier": "r-1"}
    assert post(receiver.url, respaced, headers).status_code == 401
    assert post(receiver.url, body, headers).status_code == 200
    assert [row.key for row in receiver.rows()] == ["jira:r-1:0"]


def test_during_a_rotation_both_secrets_are_accepted(
    cloud_fast: JiraFake, receiver: Receiver
) -> None:
    bob = JiraDriver(cloud_fast).user("bob")
    for number, secret in enumerate((PREVIOUS, SECRET, "a-third-secret"), start=1):
        with sender(cloud_fast, receiver.url, secret) as hooks:
            bob.create("IT", f"Request {number}")
            idle(hooks)
        assert [a.status for a in hooks.attempts] == [401 if number == 3 else 200]
    keys = {JiraIssueSeen.from_payload(r.payload).issue_key for r in receiver.rows()}
    assert keys == {"IT-1", "IT-2"}


@pytest.mark.parametrize("secrets", [[], [""], ["  "]], ids=["none", "empty", "blank"])
def test_without_a_secret_everything_is_refused_and_said_once(
    engine: Engine, secrets: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="jira_sync.webhook"),
        serving(engine, secrets) as receiver,
    ):
        body = json.dumps({"webhookEvent": "jira:issue_deleted"}).encode()
        for signature in (sign(body, ""), sign(body, "anything"), None):
            headers = {"X-Hub-Signature": signature} if signature else {}
            assert post(receiver.url, body, headers).status_code == 401
    assert receiver.rows() == []
    said = [r for r in caplog.records if "no Jira webhook secret" in r.getMessage()]
    assert len(said) == 1
    assert said[0].levelno == logging.ERROR


# -- bad input and outages ------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', "caf\xe9".encode("latin-1")])
def test_a_signed_body_that_is_not_a_json_object_is_a_400(receiver: Receiver, body: bytes) -> None:
    headers = {"X-Hub-Signature": sign(body, SECRET), "X-Atlassian-Webhook-Identifier": "b-1"}
    assert post(receiver.url, body, headers).status_code == 400
    assert receiver.rows() == []


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
def test_an_oversized_body_is_refused_unread(receiver: Receiver, chunked: bool) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    headers = {"X-Hub-Signature": sign(body, SECRET), "Content-Type": "application/json"}
    data: Any = iter([body[:1000], body[1000:]]) if chunked else body
    answer = requests.post(receiver.url, data=data, headers=headers, timeout=10)
    assert answer.status_code == 413
    assert receiver.rows() == []


def test_only_post_is_served(receiver: Receiver) -> None:
    assert requests.get(receiver.url, timeout=5).status_code == 405


def test_database_unavailable_answers_503_and_jiras_retry_stores_it(
    cloud_fast: JiraFake, receiver: Receiver
) -> None:
    receiver.inbox.down.set()
    # Retries after 0.5, 5 and 30 real seconds: the last comes long after the database is
    # back, however slowly the test gets to bring it back.
    retries = (50.0, 500.0, 3000.0)
    with WebhookSender(cloud_fast, receiver.url, SECRET, retry_delays=retries) as hooks:
        JiraDriver(cloud_fast).user("bob").create("IT", "Printer on fire")
        assert receiver.inbox.refused.wait(timeout=DEADLINE)
        receiver.inbox.down.clear()
        idle(hooks)
    statuses = [(a.status, a.retry) for a in hooks.attempts]
    assert statuses[0] == (503, 0)
    assert statuses[-1][0] == 200
    assert statuses[-1][1] >= 1
    assert {a.identifier for a in hooks.attempts} == {hooks.attempts[0].identifier}
    (row,) = receiver.rows()
    assert row.key == f"jira:{hooks.attempts[0].identifier}:0"
    assert receiver.wakes.count == 1


def test_registered_on_an_existing_app_beside_its_routes(engine: Engine) -> None:
    web = flask.Flask("existing")
    web.add_url_rule("/healthz", "healthz", lambda: "ok")
    wakes = Wakes()
    register_jira_webhook(web, Inbox(engine), wakes, [SECRET], path="/hooks/jira")
    body = json.dumps(
        {
            "webhookEvent": "comment_created",
            "comment": {
                "id": "77",
                "body": "hello",
                "updated": "2026-01-01T00:00:00.000+0000",
                "self": "https://jira.example.com/rest/api/2/issue/IT-3/comment/77",
            },
        }
    ).encode()
    with LoopbackServer(web) as server:
        headers = {"X-Hub-Signature": sign(body, SECRET), "X-Atlassian-Webhook-Identifier": "c-1"}
        assert post(server.url + "/hooks/jira", body, headers).status_code == 200
        assert requests.get(server.url + "/healthz", timeout=5).text == "ok"
    (row,) = rows(engine)
    seen = JiraCommentSeen.from_payload(row.payload)
    assert (row.key, seen.issue_key, seen.comment_id) == ("jira:c-1:0", "IT-3", "77")
    assert wakes.count == 1
