"""The demo's clock: the labelled times of a Monday in the demo's time zone, set step by step."""

from __future__ import annotations

from datetime import UTC, datetime

from deskhand.demo_clock import MONDAY, DemoClock, local_time


def test_the_clock_says_the_step_being_played_on_a_monday() -> None:
    clock = DemoClock("Europe/Berlin")
    assert MONDAY.weekday() == 0
    assert clock() == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Berlin (CET)
    clock.set("09:15")
    assert clock() == datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    assert clock().tzinfo is not None  # recipes refuse naive times
    assert local_time(clock(), "America/New_York") == "03:15"
    assert clock.at("08:58") == datetime(2026, 3, 2, 7, 58, tzinfo=UTC)
    assert clock() == datetime(2026, 3, 2, 8, 15, tzinfo=UTC)  # at() does not move it
