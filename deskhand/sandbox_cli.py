"""``deskhand sandbox``: the fakes, seeded from a configuration, until interrupted."""

from __future__ import annotations

import signal
import threading
from typing import Any

from rich.console import Console
from rich.table import Table

from deskhand.config import Config
from sandbox.jira.state import Flavour
from sandbox.world import AGENTS, REQUESTERS, Layout, SandboxWorld


def layout_for(config: Config, jira_flavour: str | None = None) -> Layout:
    flavour = jira_flavour or (config.jira.flavour.value if config.jira else "cloud")
    if flavour not in ("cloud", "server"):
        raise ValueError(f"--jira-flavour must be cloud or server, not {flavour!r}")
    chosen: Flavour = "cloud" if flavour == "cloud" else "server"
    return Layout(
        request_channels=[*config.slack.request_channels, *config.slack.auto_ticket_channels],
        triage_channels=[team.triage_channel for team in config.teams],
        jira_projects=[team.jira.project for team in config.teams if team.jira is not None],
        jira_flavour=chosen,
    )


def serve_sandbox(config: Config, out: Console, *, jira_flavour: str | None = None) -> None:
    stop = threading.Event()

    def interrupted(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    with SandboxWorld(layout_for(config, jira_flavour)) as world:
        slack, jira = world.slack, world.jira
        table = Table("what", "where", title="Deskhand sandbox (loopback only)")
        table.add_row("Slack Web API", slack.api_url)
        table.add_row("Slack bot token", slack.bot_token)
        table.add_row("Slack app token", slack.app_token)
        table.add_row("Slack signing secret", slack.signing_secret)
        table.add_row(f"Jira ({jira.flavour})", jira.url)
        table.add_row("Jira account / token", f"{jira.bot.email} / {jira.api_token}")
        table.add_row("Requesters", ", ".join(REQUESTERS))
        table.add_row("Agents (every triage channel)", ", ".join(AGENTS))
        channels = [f"#{name}" for name in world.layout.request_channels]
        channels += [f"#{name} (private)" for name in world.layout.triage_channels]
        table.add_row("Channels", ", ".join(channels))
        out.print(table)
        out.print(f"SLACK_API_URL={slack.api_url}", markup=False, soft_wrap=True)
        out.print(f"JIRA_URL={jira.url}", markup=False, soft_wrap=True)
        out.print("Press Ctrl-C to stop.", markup=False)
        stop.wait()
    out.print("sandbox stopped", markup=False)
