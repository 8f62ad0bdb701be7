"""Card rows that would show what Slack already shows are not sent again; real changes are,
and so is an update whose outcome was a failure or unknown.

The card sync runs through the outbox relay against the sandbox's Slack over HTTP, on both
databases. The relay's clock is moved past a failed row's backoff instead of waiting for it;
what is checked is the calls Slack saw and the messages it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cards import CardSync, content_digest
from bot.slack_port import SlackChatPort
from deskhand.agents import AgentDirectory
from deskhand.config import Config, parse_config
from deskhand.domain import IntakeKind
from deskhand.outbox import OutboxRelay, OutboxTask
from deskhand.ports import UnknownOutcomeError
from deskhand.teams import sync_teams
from deskhand.tickets.service import NewTicket, TicketService, sync_cards
from sandbox.faults import Fault, FaultKind
from sandbox.slack.model import Message
from sandbox.world import SandboxWorld
from storage.engine import writing
from storage.models import OutboxRow, Ticket
from storage.types import utcnow
from tests.e2e.conftest import eventually

CONFIG = """\
slack:
  request_channels: [help]
teams:
  - {name: IT, key_prefix: IT, triage_channel: it-triage}
"""

CLIENT_TIMEOUT = 10
"""Seconds the port waits for Slack: ample for an answer on a loaded machine; a lost answer
is held back well beyond it."""


def lost_answer() -> Fault:
    """Carry out the call, then answer only after the port has given up waiting."""
    return Fault(FaultKind.SUCCEED_THEN_TIMEOUT, delay=CLIENT_TIMEOUT + 45)


@dataclass
class Desk:
    """A ticket whose cards the relay has posted, and what it takes to sync them again."""

    world: SandboxWorld
    engine: Engine
    tickets: TicketService
    cards: CardSync
    relay: OutboxRelay
    skew: list[timedelta]
    ticket_id: int
    changes: int = 0

    def card(self, kind: str) -> Message:
        posted = self.tickets.card_location(self.ticket_id, kind)
        assert posted is not None
        return self.world.slack.workspace.get_message(*posted)

    def digest(self, kind: str) -> str | None:
        """What the ticket's link remembers of the ``kind`` card's content."""
        posted = self.tickets.posted_card(self.ticket_id, kind)
        assert posted is not None
        return posted.digest

    def updates_of(self, kind: str) -> list[int]:
        """HTTP statuses of the chat.update calls Slack saw for the ``kind`` card."""
        channel, ts = self.card(kind).channel, self.card(kind).ts
        calls = self.world.slack.web.calls_to("chat.update")
        return [
            c.status for c in calls if (c.args.get("channel"), c.args.get("ts")) == (channel, ts)
        ]

    def change(self, title: str | None = None, *, syncs: int = 1) -> None:
        """In one transaction: retitle the ticket (if ``title``), and queue ``syncs`` rows for
        each card, as changes made in quick succession do."""
        with writing(self.engine) as session:
            ticket = session.get(Ticket, self.ticket_id)
            assert ticket is not None
            if title is not None:
                ticket.title = title
            self.changes += 1
            for n in range(syncs):
                sync_cards(session, self.ticket_id, reason=f"test:{self.changes}:{n}")

    def run(self) -> None:
        """Carry out every row; when none is due, move the relay's clock to the next one."""
        for _ in range(100):
            while self.relay.run_once():
                pass
            with Session(self.engine) as session:
                waiting = list(
                    session.scalars(
                        select(OutboxRow.next_attempt_at).where(OutboxRow.status == "pending")
                    )
                )
            if not waiting:
                return
            ahead = min(waiting) - (utcnow() + self.skew[0])
            self.skew[0] += max(ahead, timedelta(0)) + timedelta(seconds=1)
        raise AssertionError("the relay never became idle")

    def results(self) -> list[dict[str, object]]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.action == "sync_ticket_card")
                .order_by(OutboxRow.id)
            )
            return [row.result or {} for row in rows]

    def statuses(self) -> set[str]:
        with Session(self.engine) as session:
            return set(session.scalars(select(OutboxRow.status)))


def task_for(desk: Desk, *, maybe_done: bool) -> OutboxTask:
    """A ticket card row's next try, carried out by hand rather than by the relay."""
    return OutboxTask(
        id=10_000,
        ticket_id=desk.ticket_id,
        action="sync_ticket_card",
        payload={"ticket_id": desk.ticket_id},
        attempts=2,
        maybe_done=maybe_done,
    )


def config_for(world: SandboxWorld) -> Config:
    config = parse_config(CONFIG)
    slack = config.slack.model_copy(update={"api_url": world.slack.api_url})
    return config.model_copy(update={"slack": slack})


@pytest.fixture
def desk(sandbox_world: SandboxWorld, migrated_engine: Engine) -> Desk:
    return desk_for(sandbox_world, migrated_engine)


def desk_for(world: SandboxWorld, engine: Engine) -> Desk:
    """A ticket from alice's question in #help, its cards posted by the relay."""
    config = config_for(world)
    sync_teams(engine, config)
    client = WebClient(
        token=world.slack.bot_token,
        base_url=world.slack.api_url,
        timeout=CLIENT_TIMEOUT,
        retry_handlers=[],
    )
    chat = SlackChatPort(client)
    tickets = TicketService(engine)
    cards = CardSync(chat, tickets, config, AgentDirectory(chat, config))
    skew = [timedelta(0)]

    def now() -> datetime:
        return utcnow() + skew[0]

    relay = OutboxRelay(
        engine,
        {"sync_ticket_card": cards.ticket_card, "sync_triage_card": cards.triage_card},
        owner="test",
        clock=now,
    )
    alice = world.slack.driver.user("alice")
    bob = world.slack.workspace.find_user("bob")
    assert bob is not None
    question = alice.post("#help", "VPN is down")
    created = tickets.create(
        NewTicket(
            team="IT",
            requester=alice.user.id,
            text=question.text,
            origin_kind=IntakeKind.REACTION,
            actor=bob.id,
            origin_channel=question.channel,
            origin_ts=question.ts,
            thread_channel=question.channel,
            thread_ts=question.ts,
        )
    )
    desk = Desk(world, engine, tickets, cards, relay, skew, created.ticket_id)
    desk.run()  # both cards posted
    return desk


def test_a_card_posted_and_unchanged_since_is_not_updated(desk: Desk) -> None:
    desk.change(syncs=2)
    desk.run()
    assert desk.updates_of("ticket") == []
    assert desk.updates_of("triage") == []
    assert desk.results()[1:] == [{"unchanged": desk.card("ticket").ts}] * 2


def test_rows_after_one_change_update_each_card_once(desk: Desk) -> None:
    desk.change("VPN is down for everyone", syncs=2)
    desk.run()
    assert desk.updates_of("ticket") == [200]
    assert desk.updates_of("triage") == [200]
    assert "VPN is down for everyone" in str(desk.card("ticket").blocks)
    assert "VPN is down for everyone" in str(desk.card("triage").blocks)
    ts = desk.card("ticket").ts
    assert desk.results()[1:] == [{"updated": ts}, {"unchanged": ts}]


def test_every_real_change_is_sent(desk: Desk) -> None:
    desk.change("VPN is down for everyone")
    desk.run()
    desk.change("VPN is back, mostly")
    desk.run()
    desk.change("VPN is down for everyone")  # back to what the card showed before: still sent
    desk.run()
    assert desk.updates_of("ticket") == [200, 200, 200]
    assert desk.updates_of("triage") == [200, 200, 200]
    assert "VPN is down for everyone" in str(desk.card("ticket").blocks)


def test_an_update_that_failed_is_sent_again_with_the_same_content(desk: Desk) -> None:
    channel = desk.card("ticket").channel
    desk.world.slack.web.faults.add(f"chat.update:{channel}", Fault(FaultKind.SERVER_ERROR))
    desk.change("VPN is down for everyone", syncs=2)
    desk.run()
    # The failed try, then its retry with the same content; the second row had nothing new.
    assert desk.updates_of("ticket") == [503, 200]
    assert desk.updates_of("triage") == [200]
    assert "VPN is down for everyone" in str(desk.card("ticket").blocks)
    assert desk.statuses() == {"done"}


def test_an_update_whose_answer_was_lost_is_sent_again(desk: Desk) -> None:
    """Slack applied the update but its answer never came: nothing was confirmed, so the
    retry sends the same content again rather than trusting it arrived."""
    channel = desk.card("ticket").channel
    desk.world.slack.web.faults.add(f"chat.update:{channel}", lost_answer())
    desk.change("VPN is down for everyone", syncs=2)
    desk.run()
    # Slack records the call when it carries it out, before it holds the answer back.
    assert eventually(lambda: len(desk.updates_of("ticket")) >= 2)
    assert desk.updates_of("ticket") == [200, 200]
    assert desk.updates_of("triage") == [200]
    assert desk.statuses() == {"done"}
    # Confirmed now: the next row with the same content is not sent.
    desk.change()
    desk.run()
    assert desk.updates_of("ticket") == [200, 200]


def test_nothing_is_remembered_while_an_updates_outcome_is_unknown(desk: Desk) -> None:
    """Were the row to die now, the card might show the new content or the old one: a later
    row must send whatever it renders."""
    channel = desk.card("ticket").channel
    desk.world.slack.web.faults.add(f"chat.update:{channel}", lost_answer())
    desk.change("VPN is down for everyone")
    task = task_for(desk, maybe_done=False)
    with pytest.raises(UnknownOutcomeError):
        desk.cards.ticket_card(task)
    assert desk.digest("ticket") is None


def test_a_row_after_an_unknown_outcome_resends_even_what_was_confirmed(desk: Desk) -> None:
    """A row told its earlier try may have happened does not skip, whatever is remembered."""
    assert desk.digest("ticket") is not None
    ts = desk.card("ticket").ts
    assert desk.cards.ticket_card(task_for(desk, maybe_done=True)) == {"updated": ts}
    assert desk.updates_of("ticket") == [200]


def test_a_card_found_after_its_post_answer_was_lost_is_not_trusted(
    sandbox_world: SandboxWorld, migrated_engine: Engine
) -> None:
    """The post found by its tag shows what was rendered then, not necessarily now: the
    next row sends its content."""
    help_channel = sandbox_world.slack.workspace.find_channel("help")
    assert help_channel is not None
    sandbox_world.slack.web.faults.add(f"chat.postMessage:{help_channel.id}", lost_answer())
    desk = desk_for(sandbox_world, migrated_engine)  # posts the cards, with the fault armed
    assert desk.results() == [
        {"posted": desk.card("ticket").ts, "found_after_unknown_outcome": True}
    ]
    assert desk.digest("ticket") is None
    desk.change()
    desk.run()
    assert desk.updates_of("ticket") == [200]
    assert desk.digest("ticket") is not None


def test_the_digest_covers_text_and_blocks_in_any_key_order() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    reordered = [{"text": {"text": "hi", "type": "mrkdwn"}, "type": "section"}]
    assert content_digest("hi", blocks) == content_digest("hi", reordered)
    assert content_digest("hi", blocks) != content_digest("hello", blocks)
    assert content_digest("hi", blocks) != content_digest("hi", [*blocks, {"type": "divider"}])
    assert len(content_digest("hi", blocks)) == 64
