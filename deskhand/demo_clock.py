"""The demo's clock: the morning its steps are labelled with, whatever day it runs on.

Recipes read the time of each event (``business_hours`` conditions); with the machine's clock
a demo run on a Saturday, or at night, answers every ticket with "out of office", and the
output changes with the day. The demo gives the recipes this clock instead: a Monday, at the
time of the step being played, in the time zone of its first team.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

MONDAY = date(2026, 3, 2)
"""The demo's day: a Monday, so every team with weekday hours works that day."""


class DemoClock:
    """A clock that says the time it was last :meth:`set` to, on :data:`MONDAY` in ``zone``.

    Called with no arguments it gives that moment in UTC, as the real clock does
    (:func:`storage.types.utcnow`); worker threads may call it while the demo sets it.
    """

    def __init__(self, zone: str, start: str = "08:00") -> None:
        self.zone = ZoneInfo(zone)
        self._now = self.at(start)

    def at(self, label: str) -> datetime:
        """The demo's moment for a step's label ("09:15"), in UTC."""
        local = datetime.combine(MONDAY, time.fromisoformat(label), self.zone)
        return local.astimezone(UTC)

    def set(self, label: str) -> None:
        self._now = self.at(label)

    def __call__(self) -> datetime:
        return self._now


def local_time(moment: datetime, zone: str) -> str:
    """``moment`` as the clock on the wall in ``zone`` shows it ("03:15")."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")
