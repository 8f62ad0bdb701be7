"""Replies become the ticket's conversation: public comments in the requester's thread,
internal notes in the triage card's thread."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Comment, TimelineEvent
from tests.e2e.conftest import Running
from tests.e2e.test_triage_actions import open_ticket, ticket


def comments(running: Running) -> list[tuple[str, str, str]]:
    with Session(running.deskhand.tickets.engine) as session:
        rows = session.scalars(select(Comment).order_by(Comment.id))
        return [(c.visibility, c.author, c.body) for c in rows]


def kinds(running: Running) -> list[str]:
    with Session(running.deskhand.tickets.engine) as session:
        return list(session.scalars(select(TimelineEvent.kind).order_by(TimelineEvent.id)))


def test_thread_replies_are_comments_and_the_first_agent_reply_is_the_first_response(
    running: Running,
) -> None:
    question, _ = open_ticket(running)
    slack = running.world.slack.driver
    alice, bob = slack.user("alice"), slack.user("bob")
    alice.reply(question, "it started at 9")
    running.settle()
    assert ticket(running).first_response_at is None  # the requester's own reply is not one
    bob.reply(question, "Looking into it")
    running.settle()

    assert comments(running) == [
        ("public", alice.user.id, "it started at 9"),
        ("public", bob.user.id, "Looking into it"),
    ]
    assert ticket(running).first_response_at is not None
    assert kinds(running)[-2:] == ["commented", "first_response"]


def test_replies_in_the_triage_thread_are_internal_notes(running: Running) -> None:
    question, triage = open_ticket(running)
    slack = running.world.slack.driver
    slack.user("carol").reply(triage, "Probably the expired VPN certificate")
    running.settle()
    assert comments(running) == [
        ("internal", slack.user("carol").user.id, "Probably the expired VPN certificate")
    ]
    assert ticket(running).first_response_at is None  # a note is not a response
    # Nothing of the note reaches the requester's thread.
    texts = [m.text for m in slack.thread(question)]
    assert not any("certificate" in text for text in texts)


def test_the_requesters_answer_brings_a_waiting_ticket_back_to_work(running: Running) -> None:
    question, triage = open_ticket(running)
    slack = running.world.slack.driver
    slack.user("bob").click(triage, "claim")
    running.settle()
    slack.user("bob").click(triage, "set_status", value="waiting_on_requester")
    running.settle()
    slack.user("alice").reply(question, "Here is the screenshot")
    running.settle()
    assert ticket(running).status == "in_progress"


def test_a_reply_within_the_reopen_window_reopens_a_closed_ticket(running: Running) -> None:
    question, triage = open_ticket(running)
    slack = running.world.slack.driver
    slack.user("bob").click(triage, "set_status", value="closed")
    running.settle()
    slack.user("dave").reply(question, "same here")  # not the requester: stays closed
    running.settle()
    assert ticket(running).status == "closed"
    slack.user("alice").reply(question, "It is broken again")
    running.settle()
    assert ticket(running).status == "open"
    assert ticket(running).closed_at is None


def test_a_reply_delivered_twice_is_one_comment(running: Running) -> None:
    question, _ = open_ticket(running)
    world = running.world
    world.slack.driver.user("alice").reply(question, "once")
    replies = [e for e in world.slack.router.delivered if e["event"].get("text") == "once"]
    world.slack.transport().deliver_event(replies[0])
    running.settle()
    assert [body for _, _, body in comments(running)] == ["once"]


def test_reply_to_requester_publishes_a_triage_message_in_the_requesters_thread(
    running: Running,
) -> None:
    question, triage = open_ticket(running)
    slack = running.world.slack.driver
    bob = slack.user("bob")
    note = bob.reply(triage, "Please restart the VPN client and try again")
    running.settle()
    bob.shortcut(note, "reply_to_requester")
    bob.shortcut(note, "reply_to_requester")  # used twice: sent twice, as asked
    running.settle()

    sent = [m.text for m in slack.thread(question) if "restart the VPN client" in m.text]
    assert sent == [f"<@{bob.user.id}>: Please restart the VPN client and try again"] * 2
    assert [v for v, _, body in comments(running) if "restart" in body] == [
        "internal",
        "public",
        "public",
    ]
    assert ticket(running).first_response_at is not None


def test_reply_to_requester_outside_a_triage_thread_is_explained(running: Running) -> None:
    question, _ = open_ticket(running)
    slack = running.world.slack.driver
    alice = slack.user("alice")
    alice.shortcut(question, "reply_to_requester")
    running.settle()
    [told] = slack.ephemerals(alice)
    assert "triage thread" in told["text"]
    assert comments(running) == []
