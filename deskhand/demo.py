"""``deskhand demo``: what Deskhand can show on this machine today.

It checks the configuration, builds the database in a temporary folder, prints the Slack app
manifest's scopes, then plays a scripted morning at the help desk: Deskhand running for real
against the sandbox's Slack and Jira.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import inspect

from deskhand.config import ConfigError, load_config
from deskhand.demo_morning import StalledError, play_morning
from deskhand.manifest import required_scopes
from recipes.book import RecipeBook
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

    out.print("[bold]4. A morning at the help desk[/] (Deskhand against the sandbox):")
    book = RecipeBook.from_config(config, config_path) if config.recipes.paths else None
    if book is not None:
        names = ", ".join(recipe.name for recipe in book.current.recipes)
        out.print(f"   Recipes in force: {names}", markup=False)
    try:
        play_morning(config, out, recipes=book)
    except StalledError as exc:
        out.print(f"The demo stalled: {exc}.", markup=False)
        return 1
    out.print(
        "Not in the demo yet: the scheduler (SLAs, follow-ups, CSAT) and the dashboard.",
        emoji=False,
    )
    return 0
