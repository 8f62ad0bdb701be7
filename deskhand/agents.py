"""Who the agents are: the members of each team's triage channel, looked up and cached."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from deskhand.config import Config
from deskhand.ports import ChatPort

MEMBERS_TTL = 300.0
"""Seconds a triage channel's member list is trusted before it is looked up again."""


@dataclass
class _Cached:
    channel_id: str | None
    members: frozenset[str]
    fetched_at: float


class AgentDirectory:
    def __init__(
        self,
        chat: ChatPort,
        config: Config,
        *,
        ttl: float = MEMBERS_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chat = chat
        self.config = config
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._teams: dict[str, _Cached] = {}

    def _team(self, name: str) -> _Cached:
        with self._lock:
            cached = self._teams.get(name)
            if cached is not None and self.clock() - cached.fetched_at < self.ttl:
                return cached
        team = self.config.team(name)
        channel_id = self.chat.channel_id(team.triage_channel)
        members = frozenset(self.chat.members(channel_id)) if channel_id else frozenset()
        fresh = _Cached(channel_id, members, self.clock())
        with self._lock:
            self._teams[name] = fresh
        return fresh

    def triage_channel_id(self, team: str) -> str | None:
        return self._team(team).channel_id

    def is_agent(self, user: str, team: str | None = None) -> bool:
        """Whether ``user`` is an agent of ``team`` (of any team when None)."""
        names = [team] if team is not None else [t.name for t in self.config.teams]
        return any(user in self._team(name).members for name in names)

    def agents(self, team: str) -> list[str]:
        """The team's agents: the people (not bots, not Deskhand) in its triage channel."""
        people = []
        for member in sorted(self._team(team).members):
            person = self.chat.person(member)
            if person is not None and not person.is_bot:
                people.append(member)
        return people

    def forget(self) -> None:
        """Drop the cache (after a member_joined_channel or left event, say)."""
        with self._lock:
            self._teams.clear()
