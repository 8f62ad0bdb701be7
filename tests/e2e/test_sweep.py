"""Replies whose events Slack lost for good still become comments: the thread sweep reads
open tickets' threads and hands what it finds to the inbox, once, within the rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.slack_port import SlackChatPort
from deskhand.sweep import ThreadSweep
from sandbox.slack.state import Message
from storage.models import Comment
from tests.e2e.conftest import Running
from tests.e2e.test_triage_actions import open_ticket


@pytest.fixture
def running(running: Running) -> Running:
    """Deskhand without its own sweep loop, which sweeps at start and then every minute: were
    it to run late (a loaded machine) or a minute into a test, it would read the threads and
    store the lost replies before the test's sweep. The tests sweep when they choose."""
    for loop in running.deskhand.loops:
        if loop.name == "sweep":
            loop.stop()
    return running


def sweep_for(running: Running, *, budget_per_run: int = 40) -> ThreadSweep:
    """A sweep built from the running Deskhand's parts, with its own Slack client."""
    slack = running.world.slack
    chat = SlackChatPort(WebClient(base_url=slack.api_url, token=slack.bot_token))
    engine = running.deskhand.tickets.engine
    return ThreadSweep(engine, chat, running.deskhand.inbox, budget_per_run=budget_per_run)


def comments(running: Running) -> list[tuple[str, str, str]]:
    with Session(running.deskhand.tickets.engine) as session:
        rows = session.scalars(select(Comment).order_by(Comment.id))
        return [(c.visibility, c.slack_ts or "", c.body) for c in rows]


def lost(running: Running, post: Any) -> tuple[Message, dict[str, Any]]:
    """Post with Slack holding the event back for good; (the message, its lost event)."""
    router = running.world.slack.router
    router.hold = lambda envelope: True
    try:
        message: Message = post()
    finally:
        router.hold = None
    [event] = [e for e in router.delivered if e["event"].get("ts") == message.ts]
    return message, event


def replies_calls(running: Running) -> int:
    return len(running.world.slack.web.calls_to("conversations.replies"))


def test_a_sweep_turns_replies_whose_events_were_lost_into_comments_once(
    running: Running,
) -> None:
    question, triage = open_ticket(running)
    slack = running.world.slack.driver
    reply, reply_event = lost(running, lambda: slack.user("alice").reply(question, "still down"))
    note, _ = lost(running, lambda: slack.user("carol").reply(triage, "cert expired?"))
    running.settle()
    assert comments(running) == []  # the events never came

    sweep = sweep_for(running)
    before = replies_calls(running)
    assert sweep.run_once() == 2
    assert replies_calls(running) - before == 2  # one read per thread: the ticket's two
    running.deskhand.wake()
    running.settle()
    expected = [("public", reply.ts, "still down"), ("internal", note.ts, "cert expired?")]
    assert comments(running) == expected

    # Swept again, or the lost event arriving late after all: still one comment each.
    assert sweep.run_once() == 0
    running.world.slack.transport().deliver_event(reply_event)
    running.deskhand.wake()
    running.settle()
    assert comments(running) == expected


def test_each_sweep_reads_no_more_threads_than_its_budget(running: Running) -> None:
    slack = running.world.slack.driver
    questions = [slack.user("alice").post("#help", f"problem {n}") for n in range(3)]
    for question in questions:
        slack.user("bob").react(question, "ticket")
    running.settle()
    assert len(running.tickets()) == 3
    replies = [
        lost(running, lambda q=q: slack.user("alice").reply(q, f"more on {q.text}"))[0]
        for q in questions
    ]
    running.settle()
    sweep = sweep_for(running, budget_per_run=4)  # 3 tickets: 6 threads, two sweeps

    found = []
    for _ in range(2):
        before = replies_calls(running)
        found.append(sweep.run_once())
        assert replies_calls(running) - before == 4
    assert found == [2, 1]  # tickets 1 and 2 (both threads each), then ticket 3
    running.deskhand.wake()
    running.settle()
    assert sorted(ts for _, ts, _ in comments(running)) == sorted(r.ts for r in replies)
