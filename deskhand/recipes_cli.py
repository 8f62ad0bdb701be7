"""``deskhand recipes``: lint, test, replay, reload and schema.

Bad input (an unusable config.yaml, recipe file, option or database) exits with status 2 and
says why on stderr, one ``file:line:col: path: message`` per problem where there is a file;
``reload`` keeps 2 for the files and options, and has codes of its own for the rest (see its
help). No command creates a database: a SQLite file that is not there is reported, not made.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from deskhand.cli_database import UnusableDatabaseError, existing_engine, explain
from deskhand.config import Config, ConfigError, load_config
from deskhand.domain import Priority, TicketStatus
from recipes.actions import RouteTo, summary
from recipes.book import loaded_message
from recipes.engine import DEFAULT_MAX_HOPS, Routing, route
from recipes.events import FieldValue, RecipeEvent
from recipes.loader import configured_paths, load_recipes
from recipes.recipe_set import RecipeSet
from recipes.references import KnownNames
from recipes.schema import Trigger, json_schema

EXIT_BAD_INPUT = 2
"""Exit status for unusable input (as for a usage error and for check-config)."""
EXIT_NOT_RELOADED = 1
"""``reload``: no running Deskhand answered, or one could not load the files."""
EXIT_DATABASE = 3
"""``reload``: the database cannot be used (missing, unreachable or not migrated)."""
NOTHING_RELOADED = "Nothing was reloaded."
TEST_REQUESTER = "U0REQUESTER"
"""``recipes test``: the requester's Slack id when --requester is not given, so that a reply
shows where the mention goes (``Thanks <@U0REQUESTER>``) instead of a gap."""

recipes_app = typer.Typer(
    help="Work with routing recipes: lint, test, replay, reload, schema.", no_args_is_help=True
)

ConfigPath = Annotated[
    Path, typer.Option("--config", "-c", help="Path to config.yaml.", envvar="DESKHAND_CONFIG")
]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides database.url.")]
RecipePaths = Annotated[
    list[Path] | None,
    typer.Argument(help="Recipe files or folders; default: recipes.paths of config.yaml."),
]


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(*lines: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    err = _err()
    for line in lines:
        err.print(line, markup=False)
    return typer.Exit(code)


def _config(path: Path, *after: str) -> Config:
    """The configuration; its problems (and the lines ``after``) otherwise, exit status 2."""
    try:
        return load_config(path)
    except ConfigError as exc:
        raise _fail(*(str(problem) for problem in exc.problems), *after) from None


def _recipes(config: Config, config_path: Path, paths: list[Path] | None, *after: str) -> RecipeSet:
    """The recipes; their problems (and the lines ``after``) otherwise, exit status 2."""
    chosen = paths or configured_paths(config, config_path)
    try:
        return load_recipes(chosen, config)
    except ConfigError as exc:
        raise _fail(*(str(problem) for problem in exc.problems), *after) from None


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


@recipes_app.command("lint")
def lint(paths: RecipePaths = None, config: ConfigPath = Path("config.yaml")) -> None:
    """Check recipe files against config.yaml: print file:line:col: path: message for each
    problem (exit status 2), or how many recipes are fine."""
    loaded = _recipes(_config(config), config, paths)
    recipes, files = _counted(len(loaded), "recipe"), _counted(len(loaded.files), "file")
    _out().print(f"OK: {recipes} in {files}", markup=False)


def _engine(config: Config, database_url: str | None, *, code: int, after: str = "") -> Engine:
    """The database, which must exist already (these commands never create one); exit
    status ``code`` with the reason (and ``after``) otherwise."""
    try:
        return existing_engine(database_url or config.database.url)
    except UnusableDatabaseError as exc:
        raise _fail(*exc.lines, *([after] if after else []), code=code) from None


@recipes_app.command("reload")
def reload_command(
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds to wait for the running Deskhands' answers; 0: ask, and do not wait.",
        ),
    ] = 10.0,
    database_url: DatabaseUrl = None,
    config: ConfigPath = Path("config.yaml"),
) -> None:
    """Lint the configured recipe files, then ask every running Deskhand (any transport, any
    number of replicas on the database) to reload them, and print each one's outcome. Exit
    status 0: every Deskhand that answered reloaded (with --wait 0: the request is made);
    1: no Deskhand answered, or one could not load the files (it keeps its last good set);
    2: config.yaml or the recipe files have problems (nothing is asked); 3: the database
    cannot be used (missing, unreachable or not migrated)."""
    from recipes.reloads import POLL_SECONDS, request_reload, wait_for_answers

    loaded_config = _config(config, NOTHING_RELOADED)
    recipes = _recipes(loaded_config, config, None, NOTHING_RELOADED)
    engine = _engine(loaded_config, database_url, code=EXIT_DATABASE, after=NOTHING_RELOADED)
    out = _out()
    looks = f"Each running Deskhand looks for requests every {POLL_SECONDS:g} s and reloads then."
    requested = False
    try:
        request = request_reload(engine)
        requested = True
        if wait == 0:
            requested_now = f"{loaded_message(recipes)}: reload requested, not waiting (--wait 0)."
            out.print(requested_now, markup=False)
            out.print(looks, markup=False)
            return
        out.print(
            f"{loaded_message(recipes)}: reload requested; waiting up to {wait:g} s",
            markup=False,
        )
        answered, missing = wait_for_answers(engine, request, wait)
    except SQLAlchemyError as exc:
        cause, hint = explain(exc)
        stands = "The request stands: running Deskhands reload when they see it."
        raise _fail(
            f"cannot use the database: {cause}",
            hint,
            stands if requested else NOTHING_RELOADED,
            code=EXIT_DATABASE,
        ) from None
    finally:
        engine.dispose()
    for answer in answered:
        out.print(f"{answer.replica}: {answer.outcome}", markup=False)
    for replica in sorted(missing):
        out.print(f"{replica}: no answer within {wait:g} s", markup=False)
    if not answered:
        first = (
            f"None of the running Deskhands answered within {wait:g} s; a longer --wait "
            "gives them time."
            if missing
            else f"No running Deskhand answered within {wait:g} s: is one running on this database?"
        )
        _err().print(f"{first} {looks}", markup=False)
        raise typer.Exit(EXIT_NOT_RELOADED)
    if not all(answer.ok for answer in answered):
        raise typer.Exit(EXIT_NOT_RELOADED)


@recipes_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of recipe files, for editors."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def _fields(pairs: list[str]) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise _fail(f"--field {pair!r}: expected NAME=VALUE")
        earlier = fields.get(name)
        if earlier is None:
            fields[name] = value
        else:
            fields[name] = (*((earlier,) if isinstance(earlier, str) else earlier), value)
    return fields


def _moment(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--at {value!r}: expected an ISO date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _refuse_unknown(
    config: Config,
    team: str | None,
    channel: str | None,
    service: str | None,
    fields: dict[str, FieldValue],
) -> None:
    """Refuse names config.yaml does not define, as ``recipes lint`` does: no real event
    could carry them, so no recipe could be tried on them."""
    known = KnownNames(config)
    named = [
        ("--team", team, team and known.team(team)),
        ("--channel", channel, channel and known.channel(channel)),
        ("--service", service, service and known.service(service)),
        *(("--field", name, known.field(name)) for name in fields),
    ]
    problems = [f"{option} {name!r}: {problem}" for option, name, problem in named if problem]
    if problems:
        raise _fail(*problems)


@recipes_app.command("test")
def try_event(
    paths: RecipePaths = None,
    text: Annotated[str, typer.Option(help="The request's text.")] = "",
    channel: Annotated[
        str | None, typer.Option(help="A request or triage channel's name, without '#'.")
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option(help="A form field, NAME=VALUE (repeatable).")
    ] = None,
    emoji: Annotated[
        str | None, typer.Option(help="An emoji name; the trigger becomes reaction.added.")
    ] = None,
    trigger: Annotated[
        Trigger | None,
        typer.Option(help="Default: reaction.added with --emoji, else ticket.created."),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(help="The ticket's team; default: the first team (where tickets start)."),
    ] = None,
    service: Annotated[str | None, typer.Option(help="The ticket's service.")] = None,
    priority: Annotated[
        Priority | None, typer.Option(help="The ticket's priority; default: normal.")
    ] = None,
    level: Annotated[
        int | None, typer.Option(min=1, max=3, help="The ticket's support level; default: 1.")
    ] = None,
    status: Annotated[TicketStatus | None, typer.Option(help="The ticket's status.")] = None,
    previous_status: Annotated[
        TicketStatus | None,
        typer.Option(help="The status before the change (--trigger ticket.status_changed)."),
    ] = None,
    requester: Annotated[
        str, typer.Option(help="The requester's Slack user id (a stand-in by default).")
    ] = TEST_REQUESTER,
    email: Annotated[str | None, typer.Option(help="The requester's email.")] = None,
    group: Annotated[list[str] | None, typer.Option(help="A requester's group.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="A label on the ticket.")] = None,
    at: Annotated[
        str | None, typer.Option(help="When, ISO 8601 (UTC unless given); default: now.")
    ] = None,
    max_hops: Annotated[
        int, typer.Option(min=1, help="At most this many moves between teams.")
    ] = DEFAULT_MAX_HOPS,
    config: ConfigPath = Path("config.yaml"),
) -> None:
    """Show which recipes fire for an event and what they would do. Changes nothing."""
    loaded_config = _config(config)
    recipes = _recipes(loaded_config, config, paths)
    channel = channel.lstrip("#") if channel else None
    fields = _fields(field or [])
    _refuse_unknown(loaded_config, team, channel, service, fields)
    chosen = trigger or (Trigger.REACTION_ADDED if emoji else Trigger.TICKET_CREATED)
    if team is None and chosen is not Trigger.MESSAGE_POSTED:
        team = loaded_config.teams[0].name
    event = RecipeEvent(
        trigger=chosen,
        at=_moment(at),
        text=text,
        channel=channel,
        team=team,
        service=service,
        priority=priority or (None if chosen is Trigger.MESSAGE_POSTED else Priority.NORMAL),
        level=level or (None if chosen is Trigger.MESSAGE_POSTED else 1),
        status=status,
        previous_status=previous_status,
        fields=fields,
        requester_id=requester,
        requester_email=email,
        requester_groups=frozenset(group or ()),
        labels=frozenset(label or ()),
        emoji=emoji.strip(":") if emoji else None,
    )
    _print_routing(_out(), route(recipes, event, max_hops), event)


def _print_routing(out: Console, routing: Routing, event: RecipeEvent) -> None:
    where = f" in #{event.channel}" if event.channel else ""
    out.print(f"{event.trigger.value}{where}, team {event.team or '-'}", markup=False)
    if not routing.fired:
        out.print("No recipe fires.", markup=False)
    else:
        fired = Table("recipe", "where", "matched", title="Recipes that fire", title_justify="left")
        for firing in routing.fired:
            fired.add_row(firing.recipe, firing.source, firing.because)
        out.print(fired)
        actions = Table("#", "action", "reason", title="What they would do", title_justify="left")
        for number, decision in enumerate(routing.actions, start=1):
            actions.add_row(str(number), summary(decision.action), decision.reason)
        out.print(actions)
    for error in routing.errors:
        out.print(f"left out: {error}", markup=False)
    if routing.notice:
        out.print(routing.notice, markup=False)
    if routing.hops:
        teams = " → ".join(str(team) for team in routing.teams)
        out.print(f"Team: {teams}", markup=False)


@recipes_app.command("replay")
def replay_command(
    paths: RecipePaths = None,
    since: Annotated[str, typer.Option(help="How far back: 30d, 12h, 2w, or an ISO date.")] = "30d",
    database_url: DatabaseUrl = None,
    channel_name: Annotated[
        list[str] | None,
        typer.Option(
            help="ID=NAME: the name of a channel id tickets came from (repeatable); names are "
            "otherwise found in the database, and this overrides them."
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every ticket, not only those that differ.")
    ] = False,
    config: ConfigPath = Path("config.yaml"),
) -> None:
    """Replay stored tickets against the recipes and show where routing would differ from
    what happened. Reads the database only."""
    from recipes.replay import parse_since, replay, stored_tickets

    loaded_config = _config(config)
    recipes = _recipes(loaded_config, config, paths)
    try:
        cutoff = parse_since(since, datetime.now(UTC))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    names: dict[str, str] = {}
    for pair in channel_name or []:
        channel_id, equals, name = pair.partition("=")
        if not equals:
            raise _fail(f"--channel-name {pair!r}: expected ID=NAME")
        names[channel_id] = name.lstrip("#")
    engine = _engine(loaded_config, database_url, code=EXIT_BAD_INPUT)
    try:
        tickets = stored_tickets(engine, cutoff, names, loaded_config)
    except SQLAlchemyError as exc:
        cause, hint = explain(exc)
        raise _fail(f"cannot read tickets from the database: {cause}", hint) from None
    finally:
        engine.dispose()
    results = replay(recipes, tickets)
    out = _out()
    differing = [result for result in results if result.differs]
    shown = results if show_all else differing
    if shown:
        table = Table(
            "ticket",
            "filed in",
            "first routed to",
            "ended in",
            "recipes route to",
            "verdict",
            "why",
        )
        for result in shown:
            routes = [d.reason for d in result.routing.actions if isinstance(d.action, RouteTo)]
            table.add_row(
                result.ticket.key,
                result.ticket.filed_in,
                result.ticket.first_team,
                result.ticket.ended_in,
                result.candidate_team,
                result.verdict,
                "; ".join(routes) or "no route recipe fires",
            )
        out.print(table)
    unnamed = sorted({t.channel_id for t in tickets if t.channel_id and not t.channel_named})
    if unnamed:
        out.print(
            f"No name known for channel {', '.join(unnamed)}: channel conditions see the id "
            "(--channel-name ID=NAME names it).",
            markup=False,
        )
    better = sum(1 for result in differing if result.verdict.startswith("better"))
    out.print(
        f"{len(results)} tickets since {cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{len(differing)} would be routed differently"
        + (f", {better} of them straight to the team they ended up in" if differing else ""),
        markup=False,
    )
