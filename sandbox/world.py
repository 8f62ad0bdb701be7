"""A seeded sandbox: fake Slack and Jira with the channels, people and projects a
configuration expects, for ``deskhand sandbox``, the demo and end-to-end tests.

The sandbox knows nothing of Deskhand's configuration format; the caller passes names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Self

from sandbox.clock import Clock
from sandbox.httpserver import Startable
from sandbox.jira.fake import JiraFake
from sandbox.jira.state import Flavour
from sandbox.slack.fake import SlackFake

REQUESTERS = ("alice", "dave")
AGENTS = ("bob", "carol")


@dataclass
class Layout:
    """What to create: public request channels, private triage channels, Jira projects."""

    request_channels: list[str] = field(default_factory=lambda: ["help"])
    triage_channels: list[str] = field(default_factory=lambda: ["it-triage"])
    jira_projects: list[str] = field(default_factory=lambda: ["IT"])
    jira_flavour: Flavour = "cloud"


class SandboxWorld(Startable):
    """Both fakes, seeded: requesters in the request channels, agents in every triage channel
    (and in Jira under the same email), the bot in all of them."""

    def __init__(
        self,
        layout: Layout | None = None,
        *,
        clock: Clock | None = None,
        rate_limits: bool = True,
    ) -> None:
        self.layout = layout or Layout()
        self.clock = clock or Clock()
        self.slack = SlackFake(clock=self.clock, rate_limits=rate_limits)
        self.jira = JiraFake(
            self.layout.jira_flavour,
            self.clock,
            projects=[(key, f"{key} requests") for key in self.layout.jira_projects] or [],
        )
        self._seed(REQUESTERS, AGENTS)

    def _seed(self, requesters: Iterable[str], agents: Iterable[str]) -> None:
        ws = self.slack.workspace
        people = [ws.add_user(name) for name in requesters]
        staff = [ws.add_user(name) for name in agents]
        for name in self.layout.request_channels:
            ws.add_channel(name, members=[ws.bot, *people, *staff])
        for name in self.layout.triage_channels:
            ws.add_channel(name, private=True, members=[ws.bot, *staff])
        for user in staff:
            assert user.email is not None
            self.jira.add_user(user.name, user.email, user.real_name)

    def start(self) -> Self:
        self.slack.start()
        self.jira.start()
        return self

    def stop(self) -> None:
        self.jira.stop()
        self.slack.stop()
