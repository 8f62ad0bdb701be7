"""The ``deskhand`` command line.

Every command that reads the configuration takes ``--config/-c PATH`` (or
``DESKHAND_CONFIG``). Exit statuses are those of :mod:`deskhand.startup`: 2 for an unusable
configuration, option or token, 1 when something Deskhand needs cannot be reached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from deskhand.config import Config, ConfigError, ConfigProblem, load_config, review_config
from deskhand.manifest import ManifestError, build_manifest
from deskhand.recipes_cli import recipes_app
from deskhand.startup import EXIT_CONFIG, StartupError
from deskhand.sync_cli import sync_app

app = typer.Typer(
    help="Deskhand: a Slack-first help desk.\n\n"
    "Every command that reads config.yaml takes --config/-c PATH (or DESKHAND_CONFIG). "
    "Exit status 2 means an unusable configuration, option or file (nothing was done); "
    "each command's help says what else its status means.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help for the whole tree (sub-apps inherit it): it rewraps docstrings into
    # paragraphs and shows no type beside a flag, where typer's rich panels show
    # "--help <bool>" and keep a docstring's line breaks in the list of commands.
    rich_markup_mode=None,
)
config_app = typer.Typer(help="Work with config.yaml: lint, schema.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(sync_app, name="sync")
app.add_typer(recipes_app, name="recipes")

if TYPE_CHECKING:
    from recipes.book import RecipeBook

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

__all__ = ["EXIT_CONFIG", "app", "main"]

ConfigPath = Annotated[
    Path, typer.Option("--config", "-c", help="Path to config.yaml.", envvar="DESKHAND_CONFIG")
]


def _print_problems(problems: list[ConfigProblem]) -> None:
    for problem in problems:
        err.print(str(problem), markup=False)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_CONFIG) from None


def _fail(exc: StartupError) -> NoReturn:
    err.print(str(exc), markup=False)
    raise typer.Exit(exc.exit_code) from None


def check_config(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATH",
            help="The file to check; default: the --config file.",
            show_default=False,
        ),
    ] = None,
    config: ConfigPath = Path("config.yaml"),
) -> None:
    """Check a configuration file.

    Each problem is printed as file:line:col: path: message, and the exit status is 2.
    Warnings (settings that are valid but probably not what was meant) are printed the same
    way, marked "warning:", and leave the exit status at 0.
    """
    target = path or config
    try:
        loaded, warnings = review_config(target)
    except ConfigError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_CONFIG) from None
    _print_problems(warnings)
    teams = ", ".join(team.name for team in loaded.teams)
    noted = f", {_count(len(warnings), 'warning')}" if warnings else ""
    out.print(f"{target}: OK ({_count(len(loaded.teams), 'team')}: {teams}){noted}", markup=False)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


app.command("check-config")(check_config)
config_app.command("lint")(check_config)


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of config.yaml, for editors."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Deskhand config.yaml"
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


@app.command()
def manifest(config: ConfigPath = Path("config.yaml")) -> None:
    """Print the Slack app manifest (JSON) for this configuration.

    It asks for the fewest scopes the configured features need. In HTTP mode it needs
    http.public_url, the address Slack sends events to.
    """
    try:
        built = build_manifest(_load(config))
    except ManifestError as exc:
        err.print(f"{config}: {exc}", markup=False)
        raise typer.Exit(EXIT_CONFIG) from None
    sys.stdout.write(json.dumps(built, indent=2) + "\n")


@app.command()
def migrate(
    config: ConfigPath = Path("config.yaml"),
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Overrides database.url (config.yaml is not read)."),
    ] = None,
) -> None:
    """Create or upgrade the database schema.

    Exit status 1: the database cannot be reached or migrated; 2: the configuration or
    --database-url is unusable.
    """
    from deskhand.startup import migrate_database
    from storage.migrate import head_revision

    if database_url is not None:
        url, source = database_url, "--database-url"
    else:
        url, source = _load(config).database.url, f"database.url in {config}"
    try:
        migrate_database(url, source=source)
    except StartupError as exc:
        _fail(exc)
    out.print(f"database at revision {head_revision()}", markup=False)


@app.command()
def run(config: ConfigPath = Path("config.yaml")) -> None:
    """Serve Slack (Socket Mode or HTTP) until stopped.

    Tokens come from the environment: DESKHAND_SLACK_BOT_TOKEN, and DESKHAND_SLACK_APP_TOKEN
    (Socket Mode) or DESKHAND_SLACK_SIGNING_SECRET (HTTP). Before serving, the bot token is
    checked with Slack and the database is migrated; if either fails, one line says why and
    the exit status is 2 (a missing or refused token, an unusable configuration) or 1 (the
    database or Slack cannot be reached).
    """
    from deskhand.config import Secrets
    from deskhand.serve import serve

    loaded = _load(config)
    try:
        serve(loaded, Secrets(), out, config_path=config, recipes=_recipes(loaded, config))
    except StartupError as exc:
        _fail(exc)


def _recipes(config: Config, path: Path) -> RecipeBook | None:
    """The recipes ``recipes.paths`` lists; a bad file stops the start with file:line."""
    from recipes.book import RecipeBook

    if not config.recipes.paths:
        return None
    try:
        return RecipeBook.from_config(config, path)
    except ConfigError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(EXIT_CONFIG) from None


@app.command()
def sandbox(
    config: ConfigPath = Path("config.yaml"),
    jira_flavour: Annotated[
        str | None, typer.Option("--jira-flavour", help="cloud or server; default: jira.flavour.")
    ] = None,
    write_config: Annotated[
        Path,
        typer.Option("--write-config", help="Where to write the configuration for deskhand run."),
    ] = Path("sandbox-config.yaml"),
) -> None:
    """Start local stand-ins for Slack and Jira, to try Deskhand without them.

    They are seeded from the configuration (teams, channels, Jira projects). The sandbox writes
    the configuration pointed at them (--write-config), prints the deskhand run command that
    uses it, and reads commands that act as its people (help lists them) until quit or Ctrl-C.
    """
    from deskhand.sandbox_cli import serve_sandbox

    serve_sandbox(
        _load(config), out, jira_flavour=jira_flavour, config_path=config, write_to=write_config
    )


@app.command()
def demo(config: ConfigPath = Path("config.yaml")) -> None:
    """Show Deskhand working against the sandbox."""
    from deskhand.demo import run_demo

    raise typer.Exit(run_demo(config, out))


def main() -> None:
    app()
