"""Slack's delivery faults against Deskhand's HTTP endpoint (ACCEPTANCE items 1-3, 23, 33)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update
from sqlalchemy.orm import Session

from sandbox.slack.signing import Signing, signed_headers
from sandbox.world import SandboxWorld
from storage.models import InboxRow
from storage.types import utcnow
from tests.e2e.conftest import Running, serving


@pytest.fixture
def http_running(sandbox_world: SandboxWorld, sqlite_url: str) -> Iterator[Running]:
    with serving(sandbox_world, sqlite_url, "http") as running:
        yield running


def reaction_envelope(running: Running) -> dict[str, object]:
    """A question, and the envelope of an agent's :ticket: on it, held back from Deskhand."""
    world = running.world
    slack = world.slack.driver
    question = slack.user("alice").post("#help", "Monitor flickers")
    running.settle()
    world.slack.router.hold = lambda envelope: envelope["event"]["type"] == "reaction_added"
    slack.user("bob").react(question, "ticket")
    world.slack.router.hold = None
    return world.slack.router.delivered[-1]


def send(
    running: Running,
    envelope: dict[str, object],
    *,
    retry: int = 0,
    signing: Signing = Signing.VALID,
    now: float | None = None,
    secret: str | None = None,
) -> tuple[int, float]:
    """POST the envelope as Slack would; (status, seconds to the answer, for the record)."""
    http = running.world.slack.http
    assert http is not None
    body = json.dumps(envelope).encode()
    headers, sent = signed_headers(
        secret or running.world.slack.signing_secret, body, now or time.time(), signing
    )
    headers["Content-Type"] = "application/json"
    if retry:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    started = time.monotonic()
    response = requests.post(http.url, data=sent, headers=headers, timeout=10)
    return response.status_code, time.monotonic() - started


def test_a_retry_during_the_first_delivery_makes_one_ticket_and_is_acked(
    http_running: Running,
) -> None:
    envelope = reaction_envelope(http_running)
    results: list[tuple[int, float]] = []
    threads = [
        threading.Thread(target=lambda n=n: results.append(send(http_running, envelope, retry=n)))
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    http_running.settle()
    # Each retry is acked (its key is already stored) rather than rejected or held; how fast
    # is measured by bench/, not asserted here.
    assert [status for status, _ in results] == [200] * 4
    assert [t.key for t in http_running.tickets()] == ["IT-1"]


def test_only_a_retry_arrives_and_it_is_processed(http_running: Running) -> None:
    envelope = reaction_envelope(http_running)
    status, _ = send(http_running, envelope, retry=1)
    http_running.settle()
    assert status == 200
    assert [t.key for t in http_running.tickets()] == ["IT-1"]


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(hours=20)])
def test_the_same_event_id_much_later_has_no_second_effect(
    http_running: Running, age: timedelta
) -> None:
    envelope = reaction_envelope(http_running)
    assert send(http_running, envelope)[0] == 200
    http_running.settle()
    with Session(http_running.deskhand.inbox.engine) as session, session.begin():
        session.execute(update(InboxRow).values(received_at=utcnow() - age))
    assert send(http_running, envelope, retry=3)[0] == 200
    http_running.settle()
    assert [t.key for t in http_running.tickets()] == ["IT-1"]
    assert len(http_running.world.slack.driver.bot_posts("#it-triage")) == 1


@pytest.mark.parametrize(
    "signing", [Signing.TAMPERED, Signing.UNSIGNED, Signing.WRONG_KEY, Signing.STALE]
)
def test_bad_signatures_and_stale_timestamps_get_401_and_change_nothing(
    http_running: Running, signing: Signing
) -> None:
    envelope = reaction_envelope(http_running)
    status, _ = send(http_running, envelope, signing=signing)
    http_running.settle()
    assert status == 401
    assert http_running.tickets() == []
    assert http_running.deskhand.inbox.pending() == 0


def test_during_a_secret_rotation_both_secrets_are_accepted_and_no_other(
    sandbox_world: SandboxWorld, sqlite_url: str
) -> None:
    previous = "a-signing-secret-being-rotated-out"
    with serving(sandbox_world, sqlite_url, "http", previous_signing_secret=previous) as running:
        envelope = reaction_envelope(running)
        assert send(running, envelope, secret="some-other-secret")[0] == 401
        running.settle()
        assert running.tickets() == []
        assert send(running, envelope, secret=previous)[0] == 200
        running.settle()
        assert [t.key for t in running.tickets()] == ["IT-1"]
        question = running.world.slack.driver.user("alice").post("#help", "Printer jams")
        running.world.slack.driver.user("bob").react(question, "ticket")  # the current secret
        running.settle()
        assert [t.key for t in running.tickets()] == ["IT-1", "IT-2"]


def test_a_valid_replay_within_five_minutes_is_acked_without_effect(
    http_running: Running,
) -> None:
    envelope = reaction_envelope(http_running)
    assert send(http_running, envelope, now=time.time() - 240)[0] == 200
    http_running.settle()
    assert send(http_running, envelope, now=time.time() - 60)[0] == 200
    http_running.settle()
    assert [t.key for t in http_running.tickets()] == ["IT-1"]


def test_two_hundred_reactions_on_one_message_make_one_ticket_all_acked(
    http_running: Running,
) -> None:
    world = http_running.world
    ws = world.slack.workspace
    triage = ws.find_channel("it-triage")
    assert triage is not None
    agents = [ws.add_user(f"agent{n}") for n in range(200)]
    triage.members.update(agent.id for agent in agents)
    question = world.slack.driver.user("alice").post("#help", "Wi-Fi is down everywhere")
    for agent in agents:
        ws.react(ws.get_message(question.channel, question.ts), agent, "ticket")
    http_running.settle()
    http = world.slack.http
    assert http is not None
    # Every delivery was taken: none refused or cut off, each acked in the end. How soon is
    # bench/'s to measure (ACCEPTANCE 23: p99 under 500 ms); an ack later than Slack's 3 s
    # on a loaded machine only brings Slack's retry, which must change nothing either.
    refused = [a for a in http.attempts if a.outcome not in ("acked", "http_timeout")]
    assert refused == []
    sent = {a.key for a in http.attempts}
    assert {a.key for a in http.attempts if a.outcome == "acked"} == sent
    assert len(sent) >= 200
    assert [t.key for t in http_running.tickets()] == ["IT-1"]
