"""The Events API fast path (bot/events_ingest.py), over real HTTP with signed requests: what
it stores and answers, and what it leaves to Bolt."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bot.app import build_app
from bot.events_ingest import events_fast_path
from bot.http import EVENTS_PATH, flask_app
from deskhand.inbox import Delivery, Inbox, InboxUnavailableError, _row_values, _Waiting
from sandbox.httpserver import LoopbackServer
from sandbox.slack.signing import Signing, signed_headers
from sandbox.world import SandboxWorld
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import InboxRow
from tests.waiting import DEADLINE

PREVIOUS_SECRET = "a-signing-secret-being-rotated-out"


@dataclass
class Endpoint:
    """Deskhand's HTTP side alone: the Bolt app and its fast path over a real inbox, with
    no workers, so what was stored stays in the inbox to be looked at."""

    url: str
    engine: Engine
    app: App
    secret: str
    team: str
    database: Path
    wakes: list[None] = field(default_factory=list)
    dispatched: list[dict[str, Any]] = field(default_factory=list)
    """Bodies Bolt dispatched (the fast path took the others)."""

    def post(
        self,
        body: bytes,
        *,
        content_type: str = "application/json",
        signing: Signing = Signing.VALID,
        secret: str | None = None,
        retry: int = 0,
    ) -> requests.Response:
        headers, sent = signed_headers(secret or self.secret, body, time.time(), signing)
        headers["Content-Type"] = content_type
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return requests.post(self.url, data=sent, headers=headers, timeout=DEADLINE)

    def post_event(self, event: dict[str, Any], event_id: str, **options: Any) -> int:
        return self.post(json.dumps(self.envelope(event, event_id)).encode(), **options).status_code

    def envelope(self, event: dict[str, Any], event_id: str) -> dict[str, Any]:
        return {
            "token": "unused",
            "team_id": self.team,
            "api_app_id": "A0DESKHAND",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }

    def rows(self) -> list[tuple[str, str]]:
        with Session(self.engine) as session:
            return [
                (row.dedupe_key, row.kind)
                for row in session.scalars(select(InboxRow).order_by(InboxRow.id))
            ]


@pytest.fixture
def endpoint(sandbox_world: SandboxWorld, tmp_path: Path) -> Iterator[Endpoint]:
    database = tmp_path / "db"
    database.mkdir()
    url = f"sqlite:///{database / 'deskhand.db'}"
    upgrade(url)
    # A connection per store, so that taking the database away is seen at once.
    engine = make_engine(url, poolclass=NullPool)
    slack = sandbox_world.slack
    wakes: list[None] = []
    parts: dict[str, Any] = {
        "client": WebClient(base_url=slack.api_url, token=slack.bot_token),
        "inbox": Inbox(engine),
        "wake": lambda: wakes.append(None),
        "signing_secret": slack.signing_secret,
        "previous_signing_secret": PREVIOUS_SECRET,
    }
    app = build_app(**parts)
    ingest = events_fast_path(**parts, path=EVENTS_PATH)
    with LoopbackServer(flask_app(app, ingest)) as server:
        here = Endpoint(
            url=f"{server.url}{EVENTS_PATH}",
            engine=engine,
            app=app,
            secret=slack.signing_secret,
            team=slack.workspace.team_id,
            database=database,
            wakes=wakes,
        )
        dispatch = app.dispatch

        def recording_dispatch(req: Any) -> Any:
            here.dispatched.append(req.body)
            return dispatch(req)

        app.dispatch = recording_dispatch  # type: ignore[method-assign]
        yield here
    engine.dispose()


def reaction(user: str = "U0ALICE", emoji: str = "ticket") -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item": {"type": "message", "channel": "C0HELP", "ts": "1700000000.000100"},
        "item_user": "U0BOB",
        "event_ts": "1700000001.000200",
    }


def test_a_signed_event_is_stored_once_and_acked_without_bolt(endpoint: Endpoint) -> None:
    assert endpoint.post_event(reaction(), "Ev0001") == 200
    assert endpoint.rows() == [("Ev0001", "reaction_added")]
    assert len(endpoint.wakes) == 1
    assert endpoint.dispatched == []


def test_redeliveries_are_acked_and_stored_once(endpoint: Endpoint) -> None:
    assert endpoint.post_event(reaction(), "Ev0002") == 200
    assert endpoint.post_event(reaction(), "Ev0002", retry=1) == 200
    assert endpoint.post_event(reaction(), "Ev0002", retry=2) == 200
    assert endpoint.rows() == [("Ev0002", "reaction_added")]
    assert len(endpoint.wakes) == 1  # nothing new, nothing to wake for


@pytest.mark.parametrize(
    "signing", [Signing.TAMPERED, Signing.UNSIGNED, Signing.WRONG_KEY, Signing.STALE]
)
def test_bad_unsigned_and_stale_requests_get_401_and_store_nothing(
    endpoint: Endpoint, signing: Signing
) -> None:
    assert endpoint.post_event(reaction(), "Ev0003", signing=signing) == 401
    assert endpoint.rows() == []
    assert endpoint.dispatched == []


def test_a_timestamp_that_is_not_a_number_gets_401(endpoint: Endpoint) -> None:
    body = json.dumps(endpoint.envelope(reaction(), "Ev0004")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": "soon",
        "X-Slack-Signature": "v0=00",
    }
    assert requests.post(endpoint.url, data=body, headers=headers, timeout=10).status_code == 401
    assert endpoint.rows() == []


def test_the_previous_secret_is_accepted_during_a_rotation_and_no_other(
    endpoint: Endpoint,
) -> None:
    assert endpoint.post_event(reaction(), "Ev0005", secret="some-other-secret") == 401
    assert endpoint.post_event(reaction(), "Ev0005", secret=PREVIOUS_SECRET) == 200
    assert endpoint.rows() == [("Ev0005", "reaction_added")]


def test_the_bots_own_events_are_dropped_as_bolt_drops_them(
    endpoint: Endpoint, sandbox_world: SandboxWorld
) -> None:
    bot = sandbox_world.slack.workspace.bot
    post = {"type": "message", "channel": "C0HELP", "ts": "1700000002.000300", "text": "hi"}
    assert endpoint.post_event({**post, "user": bot.id}, "Ev0006") == 200
    assert endpoint.post_event({**post, "bot_id": bot.bot_id, "user": "U0OTHER"}, "Ev0007") == 200
    assert endpoint.post_event(reaction(user=bot.id), "Ev0008") == 200
    assert endpoint.rows() == []
    # The same message from a person is a request in a channel.
    assert endpoint.post_event({**post, "user": "U0ALICE"}, "Ev0009") == 200
    assert endpoint.rows() == [("Ev0009:intake", "channel_message")]
    assert endpoint.dispatched == []


def test_events_nobody_listens_to_are_acked_and_store_nothing(endpoint: Endpoint) -> None:
    rename = {"type": "channel_rename", "channel": {"id": "C0HELP", "name": "help-desk"}}
    assert endpoint.post_event(rename, "Ev0010") == 200
    assert endpoint.post_event(reaction(emoji="eyes") | {"item": {"type": "file"}}, "Ev0011") == 200
    assert endpoint.rows() == []


def test_while_the_inbox_is_down_deliveries_get_503_and_then_are_stored(
    endpoint: Endpoint,
) -> None:
    away = endpoint.database.with_name("db-away")
    endpoint.database.rename(away)
    try:
        assert endpoint.post_event(reaction(), "Ev0012") == 503
    finally:
        away.rename(endpoint.database)
    assert endpoint.rows() == []
    assert endpoint.post_event(reaction(), "Ev0012", retry=1) == 200
    assert endpoint.rows() == [("Ev0012", "reaction_added")]


def test_other_bodies_still_reach_bolt(endpoint: Endpoint) -> None:
    challenge = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    answer = endpoint.post(challenge.encode())
    assert answer.status_code == 200
    assert "c-123" in answer.text
    # An interaction: form-encoded, answered by Bolt (no listener here: 404, as ever).
    payload = {"type": "block_actions", "team": {"id": endpoint.team}, "user": {"id": "U0A"}}
    form = f"payload={quote(json.dumps(payload))}".encode()
    assert endpoint.post(form, content_type="application/x-www-form-urlencoded").status_code == 404
    # Badly signed, it is Bolt that refuses it.
    assert endpoint.post(challenge.encode(), signing=Signing.WRONG_KEY).status_code == 401
    kinds = [body["type"] for body in endpoint.dispatched]
    assert kinds == ["url_verification", "block_actions", "url_verification"]
    assert endpoint.rows() == []


def test_concurrent_deliveries_and_their_retries_are_each_stored_once(endpoint: Endpoint) -> None:
    """Many senders at once: on SQLite the stores that queue up are written together, and
    each sender still gets its own answer only once its own event is stored."""
    event_ids = [f"EvC{n:04d}" for n in range(120)]
    statuses: list[int] = []
    lock = threading.Lock()

    def sender(mine: list[str]) -> None:
        session = requests.Session()
        for event_id in mine:
            for retry in (0, 1):  # each event twice, as a redelivery would come
                body = json.dumps(endpoint.envelope(reaction(), event_id)).encode()
                headers, sent = signed_headers(endpoint.secret, body, time.time())
                headers["Content-Type"] = "application/json"
                if retry:
                    headers["X-Slack-Retry-Num"] = str(retry)
                status = session.post(endpoint.url, data=sent, headers=headers, timeout=DEADLINE)
                with lock:
                    statuses.append(status.status_code)

    threads = [threading.Thread(target=sender, args=(event_ids[n::12],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 240
    assert len(endpoint.wakes) == 120  # one "stored" answer per event, none for its retry
    assert sorted(key for key, _ in endpoint.rows()) == event_ids


def test_a_delivery_that_cannot_be_written_fails_alone_in_its_group(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    inbox = Inbox(engine)
    good = [Delivery("slack", f"EvG{n}", "reaction_added", {"n": n}) for n in range(3)]
    bad = Delivery("slack", "EvBad", "reaction_added", {"not json": object()})
    group = [_Waiting(_row_values(d)) for d in (good[0], bad, good[1], good[2])]
    inbox._write(group)
    assert [member.stored for member in group] == [True, False, True, True]
    assert group[1].error is not None
    assert not isinstance(group[1].error, InboxUnavailableError)
    with Session(engine) as session:
        keys = session.scalars(select(InboxRow.dedupe_key).order_by(InboxRow.id)).all()
    assert keys == ["EvG0", "EvG1", "EvG2"]
    engine.dispose()
