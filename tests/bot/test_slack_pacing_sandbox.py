"""A storm of card posts and updates through the outbox relay and the Slack port, against the
sandbox's Slack with its rate limits on.

The sandbox's limiter, Deskhand's pacer and the relay all read one clock the test moves: when
nothing is due, the test moves it to the next row's time, as the relay's own loop would wait
for it. Nothing sleeps, and what is checked is what Slack saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.slack_pacing import SlackPacer
from bot.slack_port import SlackChatPort
from deskhand.outbox import OutboxRelay, OutboxTask, enqueue
from deskhand.ports import RateLimitedError
from sandbox.clock import Clock
from sandbox.world import Layout, SandboxWorld
from storage.engine import writing
from storage.models import OutboxRow
from storage.types import utcnow
from tests.rows import add_ticket

CARDS = 40
UPDATES = 2
"""Each card is posted, then updated twice: 80 updates, well over chat.update's burst of 50."""


class SteppedClock(Clock):
    """Sandbox seconds that pass only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class NoPacing(SlackPacer):
    """Every call goes at once, as the port was before pacing per method."""

    def take(self, method: str, request: object, *, channel: str | None = None) -> float:
        return 0.0


@pytest.fixture
def world() -> Iterator[SandboxWorld]:
    layout = Layout(request_channels=["help-0", "help-1"], triage_channels=["it-triage"])
    with SandboxWorld(layout, clock=SteppedClock(), rate_limits=True) as world:
        yield world


def stepped(world: SandboxWorld) -> SteppedClock:
    assert isinstance(world.clock, SteppedClock)
    return world.clock


def port_for(world: SandboxWorld, pacer: SlackPacer | None = None) -> SlackChatPort:
    client = WebClient(token=world.slack.bot_token, base_url=world.slack.api_url, timeout=5)
    clock = stepped(world).monotonic
    return SlackChatPort(client, pacer=pacer or SlackPacer(clock), clock=clock)


class Cards:
    """An executor like the card sync: the first row of a card posts it, later rows update
    it with their version."""

    def __init__(self, port: SlackChatPort, channels: list[str]) -> None:
        self.port = port
        self.channels = channels
        self.posted: dict[int, tuple[str, str]] = {}

    def __call__(self, task: OutboxTask) -> dict[str, Any]:
        card, version = int(task.payload["card"]), int(task.payload["version"])
        text = f"card {card} version {version}"
        where = self.posted.get(card)
        if where is None:
            channel = self.channels[card % len(self.channels)]
            metadata = {"event_type": "card", "event_payload": {"tag": task.tag}}
            ts = self.port.post(channel, text, metadata=metadata)
            self.posted[card] = (channel, ts)
            return {"posted": ts}
        self.port.update(where[0], where[1], text)
        return {"updated": where[1]}


def queue_cards(engine: Engine) -> None:
    with writing(engine) as session:
        for card in range(CARDS):
            ticket = add_ticket(session, card)
            for version in range(UPDATES + 1):
                enqueue(
                    session,
                    ticket_id=ticket.id,
                    target="slack",
                    action="card",
                    payload={"card": card, "version": version},
                    key=f"card:{card}:{version}",
                )


def run_storm(engine: Engine, world: SandboxWorld, port: SlackChatPort) -> Cards:
    """Carry out every row; when none is due, move the one clock to the next due row."""
    clock = stepped(world)
    start = utcnow()

    def now() -> datetime:
        return start + timedelta(seconds=clock.now)

    channels = [world.slack.workspace.find_channel(name) for name in ("help-0", "help-1")]
    cards = Cards(port, [channel.id for channel in channels if channel is not None])
    relay = OutboxRelay(engine, {"card": cards}, owner="test", clock=now)
    for _ in range(10_000):
        while relay.run_once():
            pass
        with Session(engine) as session:
            waiting = list(
                session.scalars(
                    select(OutboxRow.next_attempt_at).where(OutboxRow.status == "pending")
                )
            )
        if not waiting:
            return cards
        # Rows due already wait for an earlier row of their ticket: the next event is the
        # first row due later.
        clock.now = (min(at for at in waiting if at > now()) - start).total_seconds()
    raise AssertionError("the relay never became idle")


def test_a_burst_of_card_updates_stays_within_slacks_budget(
    migrated_engine: Engine, world: SandboxWorld
) -> None:
    queue_cards(migrated_engine)
    cards = run_storm(migrated_engine, world, port_for(world))

    calls = world.slack.web.calls
    assert [call for call in calls if call.status == 429] == []
    assert len(world.slack.web.calls_to("chat.postMessage")) == CARDS
    assert len(world.slack.web.calls_to("chat.update")) == CARDS * UPDATES
    with Session(migrated_engine) as session:
        statuses = set(session.scalars(select(OutboxRow.status)))
    assert statuses == {"done"}
    workspace = world.slack.workspace
    for card, (channel, ts) in cards.posted.items():
        assert workspace.get_message(channel, ts).text == f"card {card} version {UPDATES}"


def test_without_pacing_the_same_burst_meets_429s_which_the_relay_rides_out(
    migrated_engine: Engine, world: SandboxWorld
) -> None:
    """The control: the sandbox does refuse this storm when nothing paces it, so the test
    above shows the pacing, not a lenient sandbox; the 429s are handled and nothing is lost."""
    queue_cards(migrated_engine)
    port = port_for(world, NoPacing(stepped(world).monotonic))
    cards = run_storm(migrated_engine, world, port)

    refused = {call.method for call in world.slack.web.calls if call.status == 429}
    assert refused == {"chat.postMessage", "chat.update"}
    with Session(migrated_engine) as session:
        statuses = set(session.scalars(select(OutboxRow.status)))
    assert statuses == {"done"}
    workspace = world.slack.workspace
    for card, (channel, ts) in cards.posted.items():
        assert workspace.get_message(channel, ts).text == f"card {card} version {UPDATES}"


def test_a_429_from_slack_is_a_rate_limit_of_slack(world: SandboxWorld) -> None:
    port = port_for(world, NoPacing(stepped(world).monotonic))
    channel = world.slack.workspace.find_channel("help-0")
    assert channel is not None
    for n in range(3):  # the burst Slack lets through
        port.post(channel.id, f"burst {n}")
    with pytest.raises(RateLimitedError) as refused:
        port.post(channel.id, "one too many")
    assert type(refused.value) is RateLimitedError  # a real 429, not pacing
    assert refused.value.service == "slack"
    assert refused.value.retry_after >= 1
