"""Events, interactions and commands reach a stock Bolt app over both transports, as Slack
sends them: signed over HTTP with retries, or as acknowledged Socket Mode envelopes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from sandbox.clock import Clock
from sandbox.httpserver import LoopbackServer
from sandbox.slack.delivery import ACK_TIMEOUT
from sandbox.slack.fake import SlackFake
from sandbox.slack.signing import Signing, signature
from tests.sandbox.bolt_apps import echo_app, http_mode, socket_mode
from tests.waiting import DEADLINE


@pytest.fixture
def fake() -> Iterator[SlackFake]:
    # Retry waits (1 and 5 minutes) pass a thousand times faster; acks keep Slack's 3 s.
    with SlackFake(clock=Clock(speed=1000), rate_limits=False) as running:
        ws = running.workspace
        alice = ws.add_user("alice")
        ws.add_channel("help", members=[alice, ws.bot])
        ws.add_channel("random", members=[alice])
        yield running


def test_socket_mode_delivers_posts_replies_reactions_and_the_bots_own_posts(
    fake: SlackFake,
) -> None:
    app, heard = echo_app(fake)
    with socket_mode(fake, app):
        alice = fake.driver.user("alice")
        question = alice.post("#help", "VPN is down")
        alice.reply(question, "still down")
        alice.react(question, "ticket")
        app.client.chat_postMessage(channel="#help", text="on it", thread_ts=question.ts)
        assert heard.wait_for(3)
        assert fake.transport().wait_idle(DEADLINE)
    # Slack does not promise order; Bolt drops the bot's own events before listeners.
    by_text = {event.get("text", event["type"]): event for event in heard.events}
    assert set(by_text) == {"VPN is down", "still down", "reaction_added"}
    assert "thread_ts" not in by_text["VPN is down"]
    assert by_text["still down"]["thread_ts"] == question.ts
    assert by_text["still down"]["parent_user_id"] == alice.user.id
    assert by_text["reaction_added"]["reaction"] == "ticket"
    assert by_text["reaction_added"]["item"]["ts"] == question.ts
    [own] = [e["event"] for e in fake.router.delivered if e["event"].get("text") == "on it"]
    assert own["bot_id"] == fake.workspace.bot.bot_id
    assert own["bot_profile"]["app_id"] == fake.workspace.app_id


def test_events_where_the_bot_is_not_a_member_are_not_sent(fake: SlackFake) -> None:
    app, heard = echo_app(fake)
    with socket_mode(fake, app):
        alice = fake.driver.user("alice")
        elsewhere = alice.post("#random", "not for the bot")
        alice.react(elsewhere, "ticket")
        alice.post("#help", "for the bot")
        assert heard.wait_for(1)
        assert fake.transport().wait_idle(DEADLINE)
    assert [e["text"] for e in heard.events] == ["for the bot"]
    assert [e["event"].get("text") for e in fake.router.delivered] == ["for the bot"]


def test_edits_and_deletes_arrive_as_message_subtypes(fake: SlackFake) -> None:
    app, heard = echo_app(fake)
    with socket_mode(fake, app):
        alice = fake.driver.user("alice")
        message = alice.post("#help", "printer on fire")
        alice.edit(message, "printer jammed")
        alice.delete(message)
        assert heard.wait_for(3)
    assert sorted(heard.types()) == ["message", "message_changed", "message_deleted"]
    changed = next(e for e in heard.events if e.get("subtype") == "message_changed")
    deleted = next(e for e in heard.events if e.get("subtype") == "message_deleted")
    assert changed["message"]["text"] == "printer jammed"
    assert changed["previous_message"]["text"] == "printer on fire"
    assert deleted["deleted_ts"] == message.ts


def test_socket_mode_refresh_sends_new_events_only_to_the_new_connection(
    fake: SlackFake,
) -> None:
    app, heard = echo_app(fake)
    with socket_mode(fake, app):
        server = fake.socket_mode
        assert server is not None
        server.refresh()
        fake.driver.user("alice").post("#help", "after refresh")
        assert heard.wait_for(1)
        assert server.wait_idle(DEADLINE)
    # slack_sdk's client may take longer than 3 s to switch sessions, so Slack may retry:
    # the same event_id again, never a different event.
    assert set(heard.texts()) == {"after refresh"}
    assert len(set(heard.event_ids)) == 1
    assert server.attempts[-1].outcome == "acked"


def test_a_dropped_connection_gets_the_event_again_after_reconnecting(fake: SlackFake) -> None:
    server = fake.deliver_socket_mode()
    url = fake.workspace.socket_mode_url
    assert url is not None
    with connect(url()) as first:
        assert json.loads(first.recv(timeout=DEADLINE))["type"] == "hello"
        server.drop()
        fake.driver.user("alice").post("#help", "during the outage")
        with pytest.raises(ConnectionClosed):
            first.recv(timeout=DEADLINE)
    with connect(url()) as second:
        assert json.loads(second.recv(timeout=DEADLINE))["type"] == "hello"
        envelope = json.loads(second.recv(timeout=DEADLINE))
        second.send(json.dumps({"envelope_id": envelope["envelope_id"]}))
        assert server.wait_idle(DEADLINE)
    assert envelope["payload"]["event"]["text"] == "during the outage"
    assert [a.outcome for a in server.attempts][-1] == "acked"


def test_unacknowledged_envelopes_are_retried_with_attempt_and_reason(fake: SlackFake) -> None:
    # Slack's own 3 s to ack: the ignored tries run out whatever the machine's speed, and the
    # acknowledged one is answered well within it even on a loaded machine.
    server = fake.deliver_socket_mode()
    assert server.ack_timeout == ACK_TIMEOUT
    url = fake.workspace.socket_mode_url
    assert url is not None
    received: list[dict[str, Any]] = []
    with connect(url()) as client:
        assert json.loads(client.recv(timeout=DEADLINE))["type"] == "hello"
        fake.driver.user("alice").post("#help", "hello?")
        for _ in range(2):  # ignore the first two tries, ack the third
            received.append(json.loads(client.recv(timeout=DEADLINE)))
        third = json.loads(client.recv(timeout=DEADLINE))
        client.send(json.dumps({"envelope_id": third["envelope_id"]}))
        received.append(third)
        assert server.wait_idle(DEADLINE)
    assert [(e["retry_attempt"], e["retry_reason"]) for e in received] == [
        (0, ""),
        (1, "timeout"),
        (2, "timeout"),
    ]
    assert len({e["payload"]["event_id"] for e in received}) == 1
    assert [a.outcome for a in server.attempts] == ["timeout", "timeout", "acked"]


def test_http_events_are_signed_and_bolt_accepts_them(fake: SlackFake) -> None:
    app, heard = echo_app(fake)
    with http_mode(fake, app):
        fake.driver.user("alice").post("#help", "signed")
        assert heard.wait_for(1)
        assert fake.transport().wait_idle(DEADLINE)
    assert heard.events[0]["text"] == "signed"


@pytest.mark.parametrize(
    "signing", [Signing.STALE, Signing.TAMPERED, Signing.UNSIGNED, Signing.WRONG_KEY]
)
def test_bad_signatures_are_refused_by_bolt_and_retried_by_slack(
    fake: SlackFake, signing: Signing
) -> None:
    app, heard = echo_app(fake)
    with http_mode(fake, app) as server:
        delivery = fake.deliver_http(f"{server.url}/slack/events", signing=signing)
        fake.driver.user("alice").post("#help", "forged?")
        assert delivery.wait_idle(DEADLINE)
        attempts = list(delivery.attempts)
    assert heard.events == []
    assert [(a.retry_num, a.outcome, a.status) for a in attempts] == [
        (n, "http_error", 401) for n in range(4)
    ]


class SlowApp:
    """An endpoint that answers the first delivery only once released: it runs out Slack's
    3 s however fast the machine is, and the retry is answered at once."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.release = threading.Event()
        self.app = Flask("slow")
        self.app.add_url_rule("/events", "events", self.events, methods=["POST"])

    def events(self) -> tuple[str, int]:
        self.requests.append({k.lower(): v for k, v in request.headers.items()})
        if len(self.requests) == 1:
            self.release.wait(DEADLINE)
        return "", 200


def test_http_timeout_brings_retries_with_their_headers(fake: SlackFake) -> None:
    slow = SlowApp()
    with LoopbackServer(slow.app) as server:
        delivery = fake.deliver_http(f"{server.url}/events")
        assert delivery.ack_timeout == ACK_TIMEOUT
        fake.driver.user("alice").post("#help", "slow")
        assert delivery.wait_idle(DEADLINE)
        slow.release.set()
    first, retry = slow.requests
    assert "x-slack-retry-num" not in first
    assert retry["x-slack-retry-num"] == "1"
    assert retry["x-slack-retry-reason"] == "http_timeout"
    assert [a.outcome for a in delivery.attempts] == ["http_timeout", "acked"]


def test_a_lost_first_delivery_arrives_as_a_retry(fake: SlackFake) -> None:
    app, heard = echo_app(fake)
    with http_mode(fake, app):
        assert fake.http is not None
        fake.http.lose_first_attempts = 1
        fake.driver.user("alice").post("#help", "only the retry")
        assert heard.wait_for(1)
        assert fake.http.wait_idle(DEADLINE)
        outcomes = [(a.retry_num, a.outcome) for a in fake.http.attempts]
    assert outcomes == [(0, "dropped"), (1, "acked")]


def test_the_signing_vector_from_slacks_docs_is_reproduced(shared_testdata: Path) -> None:
    path = shared_testdata / "slack" / "signature" / "slack-docs-signing-vector.json"
    vector = json.loads(path.read_text())
    made = signature(vector["signing_secret"], str(vector["timestamp"]), vector["body"].encode())
    assert made == vector["expected_signature"]


def test_closing_ends_a_delivery_waiting_minutes_to_retry() -> None:
    """A refused event waits (here) five real minutes for its retry; closing the delivery must
    end that wait at once, or the process that closed it could not exit until then."""
    from sandbox.slack.http_delivery import HttpDelivery

    refused = threading.Event()
    app = Flask("refuses")

    @app.post("/events")
    def events() -> tuple[str, int]:
        refused.set()
        return "", 500

    with LoopbackServer(app) as server:
        delivery = HttpDelivery(
            f"{server.url}/events", "secret", Clock(speed=1), retry_delays=(300.0,)
        )
        delivery.deliver_event({"event_id": "Ev1", "type": "event_callback", "event": {}})
        assert refused.wait(DEADLINE)
        assert delivery.wait_for_attempt(lambda a: a.outcome == "http_error") is not None
        delivery.close()
        assert delivery.wait_idle(DEADLINE), "the retry wait outlived close()"
    assert [a.retry_num for a in delivery.attempts] == [0]
