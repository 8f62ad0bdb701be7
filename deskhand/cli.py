"""The ``deskhand`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from deskhand.config import Config, ConfigError, load_config
from deskhand.manifest import build_manifest
from deskhand.recipes_cli import recipes_app
from deskhand.sync_cli import sync_app

app = typer.Typer(
    help="Deskhand: a Slack-first help desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Work with config.yaml.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(sync_app, name="sync")
app.add_typer(recipes_app, name="recipes")

if TYPE_CHECKING:
    from recipes.book import RecipeBook

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_CONFIG = 2
"""Exit status for an unusable configuration (as for a usage error)."""

ConfigPath = Annotated[
    Path, typer.Option("--config", "-c", help="Path to config.yaml.", envvar="DESKHAND_CONFIG")
]


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(EXIT_CONFIG) from None


@app.command("check-config")
def check_config(
    path: Annotated[Path, typer.Argument(help="The file to check.")] = Path("config.yaml"),
) -> None:
    """Check a configuration file; print file:line:col: path: message for each problem."""
    config = _load(path)
    teams = ", ".join(team.name for team in config.teams)
    out.print(f"{path}: OK ({len(config.teams)} teams: {teams})", markup=False)


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of config.yaml, for editors."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Deskhand config.yaml"
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


@app.command()
def manifest(config: ConfigPath = Path("config.yaml")) -> None:
    """Print the Slack app manifest (JSON) with the fewest scopes this configuration needs."""
    sys.stdout.write(json.dumps(build_manifest(_load(config)), indent=2) + "\n")


@app.command()
def migrate(
    config: ConfigPath = Path("config.yaml"),
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides database.url.")
    ] = None,
) -> None:
    """Create or upgrade the database schema to the latest migration."""
    from storage.migrate import head_revision, upgrade

    url = database_url or _load(config).database.url
    upgrade(url)
    out.print(f"database at revision {head_revision()}", markup=False)


@app.command()
def run(config: ConfigPath = Path("config.yaml")) -> None:
    """Run Deskhand: serve Slack (Socket Mode or HTTP) until stopped. Tokens come from the
    environment: DESKHAND_SLACK_BOT_TOKEN, and DESKHAND_SLACK_APP_TOKEN (Socket Mode) or
    DESKHAND_SLACK_SIGNING_SECRET (HTTP)."""
    from deskhand.config import Secrets
    from deskhand.serve import MissingSecretsError, serve

    loaded = _load(config)
    try:
        serve(loaded, Secrets(), out, recipes=_recipes(loaded, config))
    except MissingSecretsError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(EXIT_CONFIG) from None


def _recipes(config: Config, path: Path) -> RecipeBook | None:
    """The recipes ``recipes.paths`` lists; a bad file stops the start with file:line."""
    from recipes.book import RecipeBook

    if not config.recipes.paths:
        return None
    try:
        return RecipeBook.from_config(config, path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(EXIT_CONFIG) from None


@app.command()
def sandbox(
    config: ConfigPath = Path("config.yaml"),
    jira_flavour: Annotated[
        str | None, typer.Option("--jira-flavour", help="cloud or server; default: jira.flavour.")
    ] = None,
) -> None:
    """Start the local stand-ins for Slack and Jira, seeded from the configuration, and print
    their URLs; they run until interrupted."""
    from deskhand.sandbox_cli import serve_sandbox

    serve_sandbox(_load(config), out, jira_flavour=jira_flavour)


@app.command()
def demo(config: ConfigPath = Path("config.yaml")) -> None:
    """Show Deskhand working against the sandbox."""
    from deskhand.demo import run_demo

    raise typer.Exit(run_demo(config, out))


def main() -> None:
    app()
