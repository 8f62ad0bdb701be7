"""Agents work a ticket from its triage card; both cards and the timeline follow; anyone
else is refused with an ephemeral explanation and nothing changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.slack.state import Message
from storage.models import Ticket, TimelineEvent
from tests.e2e.conftest import Running


def open_ticket(running: Running, text: str = "VPN is down") -> tuple[Message, Message]:
    """A ticket from alice's question; (the question, the triage card)."""
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", text)
    slack.user("bob").react(question, "ticket")
    running.settle()
    [triage] = slack.bot_posts("#it-triage")
    return question, triage


def ticket(running: Running) -> Ticket:
    [only] = running.tickets()
    return only


def timeline(running: Running) -> list[tuple[str, str, dict[str, object]]]:
    with Session(running.deskhand.tickets.engine) as session:
        events = session.scalars(select(TimelineEvent).order_by(TimelineEvent.id))
        return [(e.kind, e.actor, e.data) for e in events]


def ws_bot(running: Running) -> str:
    return running.world.slack.workspace.bot.id


def ticket_card(running: Running, question: Message) -> Message:
    bot = running.world.slack.workspace.bot.id
    [card] = [m for m in running.world.slack.driver.thread(question) if m.user == bot and m.blocks]
    return card


def test_claim_assigns_the_agent_and_updates_both_cards(running: Running) -> None:
    question, triage = open_ticket(running)
    slack = running.world.slack.driver
    bob = slack.user("bob")
    bob.click(triage, "claim")
    running.settle()

    assert ticket(running).assignee == bob.user.id
    assert ticket(running).status == "in_progress"
    card = ticket_card(running, question)
    assert f"<@{bob.user.id}>" in str(card.blocks)
    assert "In progress" in str(card.blocks)
    assert triage.edited is not None  # updated in place, not posted again
    assert len(slack.bot_posts("#it-triage")) == 1
    assert timeline(running)[-1] == ("assigned", bob.user.id, {"from": None, "to": bob.user.id})


def test_status_priority_level_and_assign_from_the_card(running: Running) -> None:
    question, triage = open_ticket(running)
    carol = running.world.slack.driver.user("carol")
    dave = running.world.slack.workspace.find_user("dave")
    assert dave is not None
    carol.click(triage, "set_priority", value="high")
    running.settle()
    carol.click(triage, "escalate")
    running.settle()
    carol.click(triage, "assign", value=dave.id)
    running.settle()
    carol.click(triage, "set_status", value="resolved")
    running.settle()

    done = ticket(running)
    assert (done.priority, done.level, done.assignee, done.status) == (
        "high",
        2,
        dave.id,
        "resolved",
    )
    assert done.resolved_at is not None
    kinds = [kind for kind, _, _ in timeline(running)]
    assert kinds == [
        "created",
        "priority_changed",
        "level_changed",
        "assigned",
        "status_changed",
    ]
    # The requester hears about each change in one short line in their thread, and the
    # agent is named there, not mentioned (a mention would ping them in a stranger's thread).
    lines = [m.text for m in running.world.slack.driver.thread(question) if not m.blocks]
    assert lines[1:] == [
        "IT-1's priority is now *high*.",
        f"{dave.real_name} is now working on IT-1.",
        "IT-1 is now *resolved*. Reply here if it is not fixed.",
    ]


def test_someone_who_is_not_an_agent_is_refused_and_nothing_changes(running: Running) -> None:
    _, triage = open_ticket(running)
    dave, alice = running.world.slack.driver.user("dave"), running.world.slack.driver.user("alice")
    before = timeline(running)
    dave.click(triage, "set_status", value="closed")
    alice.click(triage, "move_team", value="HR")  # the requester is no agent either
    running.settle()
    assert ticket(running).status == "open"
    assert ticket(running).team == "IT"
    # Neither can be shown an ephemeral in #it-triage (not members): they hear it in a DM.
    for person in (dave, alice):
        dm = running.world.slack.workspace.im_channel(person.user.id, ws_bot(running))
        [refusal] = running.world.slack.driver.messages(dm.id)
        assert "Only agents of IT" in refusal.text
        assert "Nothing was changed" in refusal.text
    assert timeline(running) == before


def test_the_requester_may_close_and_reopen_their_own_ticket(running: Running) -> None:
    question, _ = open_ticket(running)
    alice = running.world.slack.driver.user("alice")
    alice.click(ticket_card(running, question), "close_ticket")
    running.settle()
    assert ticket(running).status == "closed"
    assert ticket(running).closed_at is not None
    alice.click(ticket_card(running, question), "reopen_ticket")
    running.settle()
    assert ticket(running).status == "open"
    # alice made both changes, so no status lines were posted to her.
    assert [m for m in running.world.slack.driver.thread(question) if not m.blocks][1:] == []


def test_moving_to_another_team_retires_the_old_card_and_posts_a_new_one(
    running: Running,
) -> None:
    _, triage = open_ticket(running, "Payroll shows the wrong bank account")
    slack = running.world.slack.driver
    slack.user("bob").click(triage, "move_team", value="HR")
    running.settle()

    assert ticket(running).team == "HR"
    [old] = slack.bot_posts("#it-triage")
    assert "moved to HR" in old.text
    [new] = slack.bot_posts("#hr-triage")
    assert "IT-1" in new.text
    assert ticket(running).triage_ts == new.ts


def test_only_the_requester_or_an_agent_may_close_a_ticket(running: Running) -> None:
    question, _ = open_ticket(running)
    dave = running.world.slack.driver.user("dave")
    dave.click(ticket_card(running, question), "close_ticket")
    running.settle()
    assert ticket(running).status == "open"
    [refusal] = running.world.slack.driver.ephemerals(dave)
    assert refusal["channel"] == question.channel
    assert "Only agents of IT" in refusal["text"]
