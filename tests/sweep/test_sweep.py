"""The thread sweep stores missed replies in the inbox, once, within its budget, fairly."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.events import ThreadReply
from deskhand.inbox import Inbox
from deskhand.ports import ChatMessage, PortError, RateLimitedError, RejectedError
from deskhand.sweep import ThreadSweep
from storage.models import Comment, InboxRow, Team, Ticket
from storage.types import utcnow

HELP, TRIAGE = "C0HELP", "C0TRIAGE"
NOW = time.time()


def ts(offset: float) -> str:
    """A Slack ts ``offset`` seconds from the start of the test run."""
    return f"{NOW + offset:.6f}"


class FakeChat:
    """Threads in memory; records every read, and fails a read when told to."""

    def __init__(self) -> None:
        self.threads: dict[tuple[str, str], list[ChatMessage]] = {}
        self.reads: list[tuple[str, str]] = []
        self.failures: dict[int, PortError] = {}
        """Read number (from 0) -> the error that read raises."""

    def thread(self, channel: str, ts: str) -> list[ChatMessage]:
        number = len(self.reads)
        self.reads.append((channel, ts))
        if number in self.failures:
            raise self.failures[number]
        return list(self.threads.get((channel, ts), []))

    def add(self, channel: str, root: str, *messages: ChatMessage) -> None:
        self.threads.setdefault((channel, root), []).extend(messages)


def message(
    channel: str,
    root: str,
    when: str,
    user: str | None = "U0ALICE",
    text: str = "hello",
    *,
    bot_id: str | None = None,
    subtype: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> ChatMessage:
    return ChatMessage(
        channel=channel,
        ts=when,
        user=user,
        text=text,
        thread_ts=root,
        bot_id=bot_id,
        subtype=subtype,
        files=files or [],
    )


def add_ticket(engine: Engine, number: int, **overrides: object) -> Ticket:
    """Ticket IT-<number>: its question in #help at ts(number), its triage card at
    ts(number + 0.5), made at ts(0) (so the replies' times do not depend on when tests run)."""
    values: dict[str, object] = {
        "created_at": datetime.fromtimestamp(NOW, UTC),
        "key": f"IT-{number}",
        "team": "IT",
        "requester": "U0ALICE",
        "title": "VPN is down",
        "origin_kind": "reaction",
        "origin_channel": HELP,
        "origin_ts": ts(number),
        "thread_channel": HELP,
        "thread_ts": ts(number),
        "triage_channel": TRIAGE,
        "triage_ts": ts(number + 0.5),
    }
    values.update(overrides)
    with Session(engine, expire_on_commit=False) as session:
        if session.get(Team, "IT") is None:
            session.add(Team(name="IT", key_prefix="IT", triage_channel=TRIAGE))
            session.flush()
        ticket = Ticket(**values)
        session.add(ticket)
        session.commit()
    return ticket


def inbox_rows(engine: Engine) -> list[InboxRow]:
    with Session(engine) as session:
        return list(session.scalars(select(InboxRow).order_by(InboxRow.id)))


@pytest.fixture
def chat() -> FakeChat:
    return FakeChat()


def sweep_for(
    engine: Engine, chat: FakeChat, *, budget_per_run: int = 40, reopen_days: int = 7
) -> ThreadSweep:
    return ThreadSweep(
        engine, chat, Inbox(engine), budget_per_run=budget_per_run, reopen_days=reopen_days
    )


def test_missed_replies_of_both_threads_are_stored_as_thread_replies(
    migrated_engine: Engine, chat: FakeChat
) -> None:
    ticket = add_ticket(migrated_engine, 1)
    root, card = ticket.thread_ts, ticket.triage_ts
    assert root is not None
    assert card is not None
    chat.add(
        HELP,
        root,
        message(HELP, root, root, text="VPN is down"),  # the question itself
        message(HELP, root, ts(2), user=None, bot_id="B0BOT", text="IT-1 card"),
        message(HELP, root, ts(3), user="U0BOB", text="Looking into it"),
        message(HELP, root, ts(4), text="thanks", files=[{"id": "F1", "permalink": "https://f"}]),
        message(HELP, root, ts(5), subtype="channel_join"),
    )
    chat.add(
        TRIAGE,
        card,
        message(TRIAGE, card, card, user=None, bot_id="B0BOT"),
        message(TRIAGE, card, ts(6), user="U0CAROL", text="expired certificate"),
    )

    assert sweep_for(migrated_engine, chat).run_once() == 3

    rows = inbox_rows(migrated_engine)
    assert [(r.source, r.kind, r.dedupe_key, r.status) for r in rows] == [
        ("slack", "thread_reply", f"sweep:{HELP}:{ts(3)}", "pending"),
        ("slack", "thread_reply", f"sweep:{HELP}:{ts(4)}", "pending"),
        ("slack", "thread_reply", f"sweep:{TRIAGE}:{ts(6)}", "pending"),
    ]
    assert [ThreadReply.from_payload(r.payload) for r in rows] == [
        ThreadReply("U0BOB", HELP, ts(3), root, "Looking into it"),
        ThreadReply("U0ALICE", HELP, ts(4), root, "thanks", files=["https://f"]),
        ThreadReply("U0CAROL", TRIAGE, ts(6), card, "expired certificate"),
    ]


def test_replies_with_a_comment_the_ticket_message_and_older_replies_are_left_alone(
    migrated_engine: Engine, chat: FakeChat
) -> None:
    # A ticket made from a reply: its origin is not the thread's root.
    ticket = add_ticket(migrated_engine, 1, thread_ts=ts(0), origin_ts=ts(1))
    with Session(migrated_engine) as session:
        session.add(
            Comment(
                ticket_id=ticket.id,
                author="U0BOB",
                body="known",
                origin="slack",
                slack_channel=HELP,
                slack_ts=ts(2),
            )
        )
        session.commit()
    chat.add(
        HELP,
        ts(0),
        message(HELP, ts(0), ts(-3600), text="written an hour before the ticket"),
        message(HELP, ts(0), ts(1), text="the ticket's own message"),
        message(HELP, ts(0), ts(2), user="U0BOB", text="already a comment"),
        message(HELP, ts(0), ts(3), user="U0BOB", text="missed"),
    )

    assert sweep_for(migrated_engine, chat).run_once() == 1
    assert [r.dedupe_key for r in inbox_rows(migrated_engine)] == [f"sweep:{HELP}:{ts(3)}"]


def test_a_second_run_stores_nothing_new(migrated_engine: Engine, chat: FakeChat) -> None:
    ticket = add_ticket(migrated_engine, 1)
    assert ticket.thread_ts is not None
    chat.add(HELP, ticket.thread_ts, message(HELP, ticket.thread_ts, ts(3), user="U0BOB"))
    sweep = sweep_for(migrated_engine, chat)

    assert sweep.run_once() == 1
    assert sweep.run_once() == 0  # still no comment (not handled yet): the key is taken
    assert ThreadSweep(migrated_engine, chat, Inbox(migrated_engine)).run_once() == 0
    assert len(inbox_rows(migrated_engine)) == 1


def test_each_run_reads_at_most_its_budget_least_recently_swept_first(
    migrated_engine: Engine, chat: FakeChat
) -> None:
    tickets = [add_ticket(migrated_engine, n) for n in range(1, 6)]
    threads = {(HELP, t.thread_ts) for t in tickets} | {(TRIAGE, t.triage_ts) for t in tickets}
    sweep = sweep_for(migrated_engine, chat, budget_per_run=3)

    for run in range(1, 5):
        sweep.run_once()
        assert len(chat.reads) == 3 * run
    first_round, second_round = chat.reads[:10], chat.reads[10:]
    assert set(first_round) == threads  # every thread once before any thread twice
    assert second_round == first_round[:2]

    # A new ticket's threads have never been swept: they go first.
    new = add_ticket(migrated_engine, 6)
    chat.reads.clear()
    sweep.run_once()
    assert chat.reads == [(HELP, new.thread_ts), (TRIAGE, new.triage_ts), first_round[2]]


def test_being_rate_limited_ends_the_run_and_the_unread_threads_go_first_next_time(
    migrated_engine: Engine, chat: FakeChat
) -> None:
    for n in (1, 2):
        ticket = add_ticket(migrated_engine, n)
        assert ticket.thread_ts is not None
        chat.add(HELP, ticket.thread_ts, message(HELP, ticket.thread_ts, ts(n + 0.1), "U0BOB"))
    chat.failures[1] = RateLimitedError(30)
    sweep = sweep_for(migrated_engine, chat)

    assert sweep.run_once() == 1  # the first thread's reply; then Slack said wait
    assert len(chat.reads) == 2
    refused = chat.reads[1]

    assert sweep.run_once() == 1
    assert chat.reads[2] == refused
    assert len(inbox_rows(migrated_engine)) == 2


def test_a_thread_that_cannot_be_read_does_not_stop_the_others(
    migrated_engine: Engine, chat: FakeChat
) -> None:
    for n in (1, 2):
        ticket = add_ticket(migrated_engine, n)
        assert ticket.thread_ts is not None
        chat.add(HELP, ticket.thread_ts, message(HELP, ticket.thread_ts, ts(n + 0.1), "U0BOB"))
    chat.failures[0] = RejectedError("thread_not_found")

    assert sweep_for(migrated_engine, chat).run_once() == 1
    assert len(chat.reads) == 4


def test_only_tickets_a_reply_can_still_change_are_swept(
    migrated_engine: Engine, chat: FakeChat
) -> None:
    recent, long_ago = utcnow() - timedelta(days=1), utcnow() - timedelta(days=8)
    swept = [
        add_ticket(migrated_engine, 1, status="open"),
        add_ticket(migrated_engine, 2, status="in_progress"),
        add_ticket(migrated_engine, 3, status="waiting_on_requester"),
        add_ticket(migrated_engine, 4, status="closed", closed_at=recent, resolved_at=long_ago),
        add_ticket(migrated_engine, 5, status="resolved", resolved_at=recent),
        add_ticket(migrated_engine, 11, status="resolved", closed_at=long_ago, resolved_at=recent),
        # Matching more than one of the conditions (live, closed lately, resolved lately): once.
        add_ticket(migrated_engine, 9, status="closed", closed_at=recent, resolved_at=recent),
        add_ticket(migrated_engine, 10, status="open", closed_at=recent, resolved_at=recent),
    ]
    add_ticket(migrated_engine, 6, status="closed", closed_at=long_ago, resolved_at=long_ago)
    add_ticket(migrated_engine, 7, status="resolved", resolved_at=long_ago)
    # A ticket from the request form has no requester thread until its card is posted.
    add_ticket(
        migrated_engine, 8, origin_channel=None, origin_ts=None, thread_channel=None, thread_ts=None
    )

    sweep_for(migrated_engine, chat, reopen_days=7).run_once()

    expected = {(HELP, t.thread_ts) for t in swept} | {(TRIAGE, t.triage_ts) for t in swept}
    assert set(chat.reads) == expected | {(TRIAGE, ts(8.5))}
    assert len(chat.reads) == len(expected) + 1


def test_a_budget_below_one_is_refused(migrated_engine: Engine, chat: FakeChat) -> None:
    with pytest.raises(ValueError, match="budget_per_run"):
        sweep_for(migrated_engine, chat, budget_per_run=0)


def test_run_when_due_sweeps_at_most_once_an_interval(
    migrated_engine: Engine, chat: FakeChat
) -> None:
    ticket = add_ticket(migrated_engine, 1)
    assert ticket.thread_ts is not None
    now = [1000.0]
    sweep = ThreadSweep(
        migrated_engine, chat, Inbox(migrated_engine), interval=60, clock=lambda: now[0]
    )

    sweep.run_when_due()  # the first time: at once
    assert len(chat.reads) == 2
    now[0] += 59
    chat.add(HELP, ticket.thread_ts, message(HELP, ticket.thread_ts, ts(3), user="U0BOB"))
    assert sweep.run_when_due() == 0  # woken early: not yet
    assert len(chat.reads) == 2
    now[0] += 1
    assert sweep.run_when_due() == 1
    assert len(chat.reads) == 4
