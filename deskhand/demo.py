"""``deskhand demo``: what Deskhand can show on this machine today.

It checks the configuration, builds the database in a temporary folder, prints the Slack app
manifest's scopes and starts the Slack and Jira stand-ins with a short conversation in them.
The scripted help-desk morning joins it when intake lands; until then the demo says so rather
than pretend.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import inspect

from deskhand.config import Config, ConfigError, load_config
from deskhand.manifest import required_scopes
from deskhand.sandbox_cli import layout_for
from sandbox.world import SandboxWorld
from storage.engine import make_engine
from storage.migrate import current_revision, upgrade


def run_demo(config_path: Path, out: Console) -> int:
    out.rule("Deskhand demo")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        out.print(str(exc), markup=False)
        return 2
    out.print(f"[bold]1. Configuration[/] {config_path}: OK")
    teams = Table("team", "keys", "triage channel", "Jira project", "services")
    for team in config.teams:
        teams.add_row(
            team.name,
            f"{team.key_prefix}-1, {team.key_prefix}-2, …",
            f"#{team.triage_channel}",
            team.jira.project if team.jira else "(Deskhand only)",
            ", ".join(team.services),
        )
    out.print(teams)

    with tempfile.TemporaryDirectory(prefix="deskhand-demo-") as scratch:
        url = f"sqlite:///{scratch}/deskhand.db"
        upgrade(url)
        engine = make_engine(url)
        tables = sorted(inspect(engine).get_table_names())
        revision = current_revision(engine)
        engine.dispose()
    out.print(f"[bold]2. Database[/] SQLite (WAL) migrated to revision {revision}:")
    out.print("   " + ", ".join(table for table in tables if table != "alembic_version"))

    out.print("[bold]3. Slack app[/] scopes the manifest asks for (`deskhand manifest`):")
    for scope, why in required_scopes(config).items():
        out.print(f"   {scope:<18} {why}", markup=False)

    _sandbox_tour(config, out)
    out.print(
        "[bold]5. Help-desk morning[/]: Deskhand's Slack listeners are not built yet; the "
        "scripted morning (a :ticket: reaction, /helpdesk, triage, Jira) lands with the intake "
        "issue (#4).",
        emoji=False,
    )
    return 0


def _sandbox_tour(config: Config, out: Console) -> None:
    """Start the Slack and Jira stand-ins and show people acting in them."""
    with SandboxWorld(layout_for(config), rate_limits=False) as world:
        out.print(
            f"[bold]4. Sandbox[/] fake Slack at {world.slack.api_url}, "
            f"fake Jira ({world.jira.flavour}) at {world.jira.url}"
        )
        slack = world.slack.driver
        question = slack.user("alice").post("#help", "My laptop will not connect to the VPN")
        slack.user("bob").reply(question, "Which office are you in?")
        slack.user("alice").reply(question, "Berlin, since this morning")
        for message in slack.thread(question):
            author = world.slack.workspace.users[message.user].name
            indent = "   #help  " if message.ts == question.ts else "            ↳ "
            out.print(f"{indent}{author}: {message.text}", markup=False)
