"""The Slack pacer's buckets, on a clock the tests move: tiers per method, posts per channel,
turns held for the request that was told to wait, and Slack's Retry-After."""

from __future__ import annotations

import pytest

from bot import slack_pacing
from bot.slack_pacing import (
    HELD_FOR,
    MARGIN,
    METHOD_TIERS,
    TIER_PER_MINUTE,
    SlackPacer,
    budget_of,
)
from sandbox.slack import rate_limits as sandbox_limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def burst(pacer: SlackPacer, method: str, count: int, channel: str | None = None) -> list[float]:
    """Ask for ``count`` different requests of ``method`` at once; the waits."""
    return [pacer.take(method, f"request {n}", channel=channel) for n in range(count)]


def test_the_tiers_are_slacks_as_the_sandbox_enforces_them() -> None:
    for method, tier in METHOD_TIERS.items():
        assert sandbox_limits.METHOD_TIERS[method] == tier, method
    assert {t: float(n) for t, n in sandbox_limits.TIER_PER_MINUTE.items()} == TIER_PER_MINUTE
    post = budget_of("chat.postMessage")
    assert post.per_second == sandbox_limits.POSTS_PER_SECOND_PER_CHANNEL
    assert post.burst == sandbox_limits.POST_BURST


def test_a_tier_3_method_bursts_then_spaces_its_callers_a_turn_apart(clock: Clock) -> None:
    pacer = SlackPacer(clock)
    waits = burst(pacer, "chat.update", 52)
    assert waits[:49] == [0.0] * 49  # 50 a minute, less the margin
    interval = 60 / 50
    assert waits[49] == pytest.approx(MARGIN * interval)
    # Each caller told to wait gets its own turn, one interval after the one before.
    assert waits[50] == pytest.approx(waits[49] + interval)
    assert waits[51] == pytest.approx(waits[50] + interval)


def test_methods_and_channels_have_budgets_of_their_own(clock: Clock) -> None:
    pacer = SlackPacer(clock)
    assert burst(pacer, "chat.postMessage", 3, channel="C1") == [0.0, 0.0, pytest.approx(0.25)]
    assert burst(pacer, "chat.postMessage", 2, channel="C2") == [0.0, 0.0]
    assert burst(pacer, "chat.update", 1) == [0.0]
    assert burst(pacer, "users.info", 99) == [0.0] * 99  # tier 4: 100 a minute


def test_a_held_turn_goes_to_the_request_that_comes_back_for_it(clock: Clock) -> None:
    pacer = SlackPacer(clock)
    burst(pacer, "conversations.info", 49)
    first = pacer.take("conversations.info", "C1")
    second = pacer.take("conversations.info", "C2")
    assert 0 < first < second
    clock.now += first / 2
    assert pacer.take("conversations.info", "C1") == pytest.approx(first / 2)  # not yet
    clock.now += first / 2
    assert pacer.take("conversations.info", "C1") == 0.0  # its turn: no new token taken
    assert pacer.take("conversations.info", "C2") == pytest.approx(second - first)
    # A newcomer queues behind both.
    assert pacer.take("conversations.info", "C3") == pytest.approx(second - first + 60 / 50)


def test_a_turn_nobody_comes_back_for_lapses(clock: Clock) -> None:
    pacer = SlackPacer(clock)
    burst(pacer, "chat.update", 49)
    wait = pacer.take("chat.update", "gone")
    clock.now += wait + HELD_FOR + 60  # and a minute to fill the bucket again
    # Long after, the bucket is full again and the same request is simply new.
    assert burst(pacer, "chat.update", 49) == [0.0] * 49
    assert pacer.take("chat.update", "gone") > 0


def test_a_429_holds_the_bucket_back_for_retry_after_and_voids_held_turns(clock: Clock) -> None:
    pacer = SlackPacer(clock)
    burst(pacer, "chat.postMessage", 2, channel="C1")
    assert pacer.take("chat.postMessage", "held", channel="C1") > 0
    pacer.pause("chat.postMessage", 5, channel="C1")
    assert pacer.take("chat.postMessage", "held", channel="C1") == pytest.approx(5)
    assert pacer.take("chat.postMessage", "new", channel="C2") == 0.0  # other channels flow
    clock.now += 5
    assert pacer.take("chat.postMessage", "held", channel="C1") == 0.0
    assert pacer.take("chat.postMessage", "next", channel="C1") == pytest.approx(1.0)


def test_an_unknown_method_is_paced_as_a_slow_tier(clock: Clock) -> None:
    pacer = SlackPacer(clock)
    waits = burst(pacer, "bookmarks.list", 21)
    assert waits.count(0.0) == 19
    assert all(wait > 0 for wait in waits[19:])


def test_a_sandbox_running_fast_is_paced_as_fast(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_pacing, "SPEED", 100.0)
    pacer = SlackPacer(clock)
    waits = burst(pacer, "chat.update", 51)
    assert waits[50] - waits[49] == pytest.approx(60 / 50 / 100)
