"""What recipes may name, according to ``config.yaml``: teams, channels, services, form fields.

Each check returns None when the name is known, or a message saying what is known instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from deskhand.config import Config
from recipes.conditions import Hours


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    ordered = sorted(known)
    by_folded = {option.casefold(): option for option in ordered}
    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=1)
    hint = f"; did you mean {by_folded[close[0]]!r}?" if close else ""
    listing = ", ".join(ordered) if ordered else "none"
    return f"no {kind} called {name!r}{hint} (known: {listing})"


class KnownNames:
    """The names a configuration defines."""

    def __init__(self, config: Config) -> None:
        self.teams = {team.name: team for team in config.teams}
        slack = config.slack
        self.channels = frozenset(
            [
                *slack.request_channels,
                *slack.auto_ticket_channels,
                *(team.triage_channel for team in config.teams),
            ]
        )
        self.services = frozenset(service for team in config.teams for service in team.services)
        self.fields = frozenset(
            field.id for team in config.teams for form in team.forms for field in form.fields
        )
        self.has_jira = config.jira is not None
        self.jira_projects = frozenset(
            team.jira.project for team in config.teams if team.jira is not None
        )
        self.hours: Mapping[str, Hours] = MappingProxyType(
            {
                team.name: Hours(
                    team.business_hours.timezone,
                    team.business_hours.days,
                    team.business_hours.start,
                    team.business_hours.end,
                )
                for team in config.teams
            }
        )

    def team(self, name: str) -> str | None:
        return None if name in self.teams else _unknown("team", name, self.teams)

    def channel(self, name: str) -> str | None:
        if name in self.channels:
            return None
        return _unknown("request or triage channel", name, self.channels)

    def service(self, name: str, team: str | None = None) -> str | None:
        if team is not None and team in self.teams:
            services = self.teams[team].services
            if name in services:
                return None
            return _unknown(f"service of {team}", name, services)
        return None if name in self.services else _unknown("service", name, self.services)

    def jira_project(self, name: str) -> str | None:
        """Only a configured team's project: its issue type is known, and the poller and
        webhooks watch it, so the issue stays in sync."""
        if name in self.jira_projects:
            return None
        return _unknown("team's Jira project", name, self.jira_projects)

    def field(self, name: str) -> str | None:
        return None if name in self.fields else _unknown("form field", name, self.fields)
