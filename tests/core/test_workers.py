"""A loop's failed steps in the log: an outage of the other side as a few short lines, from its
first failure to its recovery; a bug with its full traceback, every time.

Time is the loop's clock, moved by the test; each ``turn()`` is one step, run in the test's own
thread (the loop's thread is never started).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from deskhand.ports import (
    PacedError,
    RateLimitedError,
    RejectedError,
    UnavailableError,
    UnknownOutcomeError,
)
from deskhand.step_failures import CAUSE_LIMIT, duration, short_cause
from deskhand.workers import Loop

POLL = 10.0
"""Seconds between two polls, as the Jira poller's loop runs by default."""
SECRET = "JSESSIONID=s3cr3t-cookie"


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Step:
    """A step that fails with ``failure()`` while ``failure`` is set, and counts its runs."""

    failure: Callable[[], Exception] | None = None
    runs: int = 0
    done: int = 3

    def __call__(self) -> int:
        self.runs += 1
        if self.failure is not None:
            raise self.failure()
        return self.done


@dataclass
class Harness:
    clock: Clock
    step: Step
    loop: Loop
    caplog: pytest.LogCaptureFixture
    seen: int = field(default=0)

    def turns(self, count: int, every: float = POLL) -> list[int]:
        """``count`` steps, each ``every`` seconds after the one before."""
        done = []
        for _ in range(count):
            self.clock.now += every
            done.append(self.loop.turn())
        return done

    def new_records(self) -> list[logging.LogRecord]:
        """The loop's records logged since the last call."""
        records = [r for r in self.caplog.records if r.name == "deskhand.workers"]
        fresh, self.seen = records[self.seen :], len(records)
        return fresh


@pytest.fixture
def harness(caplog: pytest.LogCaptureFixture) -> Harness:
    caplog.set_level(logging.DEBUG, logger="deskhand.workers")
    clock, step = Clock(), Step()
    loop = Loop("jira-poll", step, interval=POLL, clock=clock, report_every=300.0)
    return Harness(clock, step, loop, caplog)


def outage() -> Exception:
    """What the Jira adapter raises for a 503: the port's error, chained to the client's,
    whose text carries the response's headers."""
    try:
        raise RuntimeError(f"JiraError HTTP 503\n\tresponse headers = {{'Set-Cookie': '{SECRET}'}}")
    except RuntimeError as client_error:
        error = UnavailableError("HTTP 503 Service Unavailable")
        error.__cause__ = client_error
        return error


def one_line(record: logging.LogRecord) -> str:
    message = record.getMessage()
    assert "\n" not in message
    assert record.exc_info is None
    return message


def test_an_outage_is_one_line_then_one_line_every_report_interval_then_a_recovery(
    harness: Harness,
) -> None:
    harness.step.failure = outage
    assert harness.turns(18) == [0] * 18  # two minutes and 50 s of polls
    [first] = harness.new_records()
    assert first.levelno == logging.WARNING
    assert one_line(first) == "jira-poll: step failed, will retry: HTTP 503 Service Unavailable"

    harness.turns(13)  # the 31st failure comes 300 s after the first
    [still] = harness.new_records()
    assert still.levelno == logging.WARNING
    assert one_line(still) == (
        "jira-poll: still failing (31 times in 5 min): HTTP 503 Service Unavailable"
    )
    harness.turns(29)  # 290 s more: not yet another report
    assert harness.new_records() == []
    harness.turns(1)
    [again] = harness.new_records()
    assert one_line(again).startswith("jira-poll: still failing (61 times in 10 min): ")

    harness.step.failure = None
    assert harness.turns(1) == [3]
    [recovered] = harness.new_records()
    assert recovered.levelno == logging.INFO
    assert one_line(recovered) == "jira-poll: recovered after 10 min, 61 failed steps"
    assert SECRET not in harness.caplog.text
    assert "Traceback" not in harness.caplog.text

    harness.turns(5)  # going well: nothing more to say
    assert harness.new_records() == []


def test_the_next_outage_is_reported_afresh(harness: Harness) -> None:
    harness.step.failure = outage
    harness.turns(3)
    harness.step.failure = None
    harness.turns(1)
    assert len(harness.new_records()) == 2  # failed, recovered
    assert not harness.loop.failures.failing
    harness.step.failure = lambda: UnavailableError("connection error: Connection refused")
    harness.turns(2)
    messages = [one_line(r) for r in harness.new_records()]
    assert messages == ["jira-poll: step failed, will retry: connection error: Connection refused"]
    assert harness.loop.failures.failing


@pytest.mark.parametrize(
    "error",
    [
        UnavailableError("HTTP 502"),
        RateLimitedError(7, "jira-burst-based", service="jira"),
        PacedError(0.5, "pacing conversations.replies", service="slack"),
        UnknownOutcomeError("timed out waiting for Jira"),
    ],
    ids=["unavailable", "rate-limited", "paced", "timeout"],
)
def test_the_other_side_being_down_or_slow_is_a_warning_without_traceback(
    harness: Harness, error: Exception
) -> None:
    harness.step.failure = lambda: error
    harness.turns(10)
    [record] = harness.new_records()
    assert record.levelno == logging.WARNING
    assert one_line(record) == f"jira-poll: step failed, will retry: {error}"


def test_a_refusal_is_an_error_line_without_traceback_at_the_same_pace(harness: Harness) -> None:
    harness.step.failure = lambda: RejectedError("401", "Client must be authenticated")
    harness.turns(31)
    first, still = harness.new_records()
    assert (first.levelno, still.levelno) == (logging.ERROR, logging.ERROR)
    assert (
        one_line(first) == "jira-poll: step failed, will retry: 401: Client must be authenticated"
    )
    assert one_line(still).startswith("jira-poll: still failing (31 times in 5 min): 401")


def test_a_bug_logs_its_traceback_at_error_every_time(harness: Harness) -> None:
    def bug() -> Exception:
        return KeyError("fields")

    harness.step.failure = bug
    harness.turns(3)
    records = harness.new_records()
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.ERROR, "jira-poll: step failed")
    ] * 3
    assert all(r.exc_info is not None and r.exc_info[0] is KeyError for r in records)
    assert harness.caplog.text.count("Traceback (most recent call last)") == 3
    assert "KeyError: 'fields'" in harness.caplog.text


def test_a_bug_during_an_outage_keeps_its_traceback_and_counts_as_a_failed_step(
    harness: Harness,
) -> None:
    harness.step.failure = outage
    harness.turns(2)
    harness.step.failure = lambda: ValueError("bad page")
    harness.turns(1)
    harness.step.failure = None
    harness.turns(1, every=20)
    first, bug, recovered = harness.new_records()
    assert first.levelno == logging.WARNING
    assert bug.levelno == logging.ERROR
    assert bug.exc_info is not None
    assert one_line(recovered) == "jira-poll: recovered after 40 s, 3 failed steps"


def test_a_failed_step_does_no_work_and_a_good_one_says_how_much(harness: Harness) -> None:
    assert harness.loop.turn() == 3
    harness.step.failure = outage
    assert harness.loop.turn() == 0
    assert harness.step.runs == 2
    assert harness.new_records()[0].getMessage().startswith("jira-poll: step failed")


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("HTTP 503 Service Unavailable", "HTTP 503 Service Unavailable"),
        # An HTML error page as the detail: its first line, without markup.
        ("HTTP 503 <!DOCTYPE html>\n<html><body>Down</body></html>", "HTTP 503"),
        ("HTTP 502 <html><title>502 Bad Gateway</title></html>", "HTTP 502 502 Bad Gateway"),
        ("line one\nresponse headers = {'Authorization': 'x'}", "line one"),
        ("", "UnavailableError"),
    ],
)
def test_the_short_cause_is_the_first_line_of_the_message(message: str, cause: str) -> None:
    assert short_cause(UnavailableError(message)) == cause


def test_a_long_cause_keeps_its_start_and_its_end() -> None:
    message = (
        "connection error: HTTPSConnectionPool(host='jira.example.com', port=443): Max retries "
        "exceeded with url: /rest/api/2/search?jql=" + "x" * 400 + " (Caused by "
        "NewConnectionError(': Failed to establish a new connection: [Errno 111] Connection "
        "refused'))"
    )
    cause = short_cause(UnavailableError(message))
    assert len(cause) <= CAUSE_LIMIT
    assert cause.startswith("connection error: HTTPSConnectionPool(host='jira.example.com'")
    assert cause.endswith("Connection refused'))")
    assert " … " in cause


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.4, "under a second"),
        (45.9, "45 s"),
        (89, "1 min"),
        (150, "3 min"),
        (3599, "1 h"),
        (2 * 3600 + 5 * 60, "2 h 5 min"),
    ],
)
def test_durations_read_as_people_say_them(seconds: float, said: str) -> None:
    assert duration(seconds) == said
