"""``deskhand recipes``: lint, test, replay and schema."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import typer
from sqlalchemy.orm import Session
from typer.core import TyperGroup
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.config import load_config
from deskhand.recipes_cli import EXIT_BAD_INPUT, TEST_REQUESTER, recipes_app
from recipes.replay import known_channel_names
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Team, Ticket, TimelineEvent
from tests.conftest import ROOT
from tests.recipes.conftest import CONFIG_YAML

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
SHIPPED = str(ROOT / "config.yaml")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["recipes", *args], env=WIDE)
    return result.exit_code, result.stdout, result.stderr


def test_lint_accepts_the_builtin_examples() -> None:
    code, out, err = invoke("lint", "--config", SHIPPED)
    assert (code, err) == (0, "")
    assert out == "OK: 4 recipes in 4 files\n"


def test_lint_reports_every_problem_on_stderr_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "recipes:\n"
        "  - name: a\n"
        "    trigger: ticket.created\n"
        "    conditions: {colour: red}\n"
        "    stop: true\n"
        "  - name: b\n"
        "    trigger: ticket.created\n"
        "    actions: [{route: Ops}]\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "deskhand", "recipes", "lint", "-c", SHIPPED, str(bad)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **WIDE},
    )
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{bad}:4:18: recipes.0.conditions.colour: unknown key; expected one of: channel, team, "
        "service, text, fields, requester, priority, level, status, previous_status, emoji, "
        "label, business_hours, all, any, not",
        f"{bad}:8:23: recipes.1.actions.0.route: no team called 'Ops' (known: HR, IT)",
    ]


def test_lint_counts_one_recipe_in_the_singular(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    (tmp_path / "r.yaml").write_text(
        "recipes:\n  - {name: only, trigger: ticket.created, stop: true}\n"
    )
    code, out, err = invoke("lint", "-c", str(tmp_path / "config.yaml"), str(tmp_path / "r.yaml"))
    assert (code, err) == (0, "")
    assert out == "OK: 1 recipe in 1 file\n"


def test_lint_reads_a_file_named_twice_once(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    (tmp_path / "recipes").mkdir()
    recipe = tmp_path / "recipes" / "r.yaml"
    recipe.write_text("recipes:\n  - {name: only, trigger: ticket.created, stop: true}\n")
    code, out, err = invoke(
        "lint", "-c", str(tmp_path / "config.yaml"), str(recipe), str(recipe), str(recipe.parent)
    )
    assert (code, err) == (0, "")
    assert out == "OK: 1 recipe in 1 file\n"


def test_lint_refuses_an_assignee_named_rather_than_given_by_id(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "recipes:\n  - name: to-bob\n    trigger: ticket.created\n"
        "    actions: [{assign: {user: bob}}]\n"
    )
    code, out, err = invoke("lint", "-c", str(tmp_path / "config.yaml"), str(recipe))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err.startswith(
        f"{recipe}:4:31: recipes.0.actions.0.assign.user: expected a Slack user id such as "
        "U0123ABC, not a name: use the user's id"
    )
    assert err.rstrip().endswith("(got 'bob')")


def test_lint_refuses_an_unusable_config(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("teams: []\n")
    code, out, err = invoke("lint", "--config", str(tmp_path / "config.yaml"))
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.startswith(f"{tmp_path / 'config.yaml'}:1:8: teams: ")


def test_test_shows_what_fires_and_why() -> None:
    code, out, err = invoke(
        "test",
        "--config",
        SHIPPED,
        "--text",
        "My payslip is wrong",
        "--channel",
        "help",
        "--requester",
        "U0ALICE",
        "--at",
        "2026-11-03T23:00:00+00:00",
    )
    assert (code, err) == (0, "")
    assert out.startswith("ticket.created in #help, team IT\n")
    assert "│ hr-keywords " in out
    assert "recipes/builtin/10-hr-keywords.yaml:6" in out
    assert "Routed to HR by `hr-keywords`: matched 'payslip'" in out
    assert "│ after-hours-runbook " in out  # in HR now, and HR is closed at 18:00 in New York
    assert "reply: Thanks <@U0ALICE>, HR is out of office right now" in out
    assert out.rstrip().endswith("Team: IT → HR")


def test_test_without_a_requester_replies_to_a_stand_in() -> None:
    code, out, _ = invoke(
        "test",
        "--config",
        SHIPPED,
        "--text",
        "My payslip is wrong",
        "--channel",
        "help",
        "--at",
        "2026-11-03T23:00:00+00:00",
    )
    assert code == 0
    assert f"reply: Thanks <@{TEST_REQUESTER}>, HR is out of office right now" in out


def test_every_option_of_test_says_what_it_is() -> None:
    group = typer.main.get_command(recipes_app)
    assert isinstance(group, TyperGroup)
    params = group.commands["test"].params
    assert {"service", "priority", "level", "status", "previous_status"} <= {
        param.name for param in params
    }
    assert [param.name for param in params if not getattr(param, "help", None)] == []


def test_test_with_an_emoji_is_a_reaction() -> None:
    code, out, _ = invoke("test", "--config", SHIPPED, "--emoji", ":hr:", "--label", "vpn")
    assert code == 0
    assert out.startswith("reaction.added, team IT\n")
    assert "Routed to HR by `emoji-to-hr`: reacted :hr: and not (team is HR)" in out
    assert "note: Moved to HR with :hr: (was vpn)." in out


def test_test_reads_fields_and_says_when_nothing_fires(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    (tmp_path / "r.yaml").write_text(
        "recipes:\n  - name: vpn\n    trigger: ticket.created\n"
        "    conditions: {fields: {system: VPN, apps: slack}}\n"
        "    actions: [{set_service: Network}]\n"
    )
    config = str(tmp_path / "config.yaml")
    recipe = str(tmp_path / "r.yaml")
    fields = ["--field", "system=vpn", "--field", "apps=zoom", "--field", "apps=Slack"]
    code, out, _ = invoke("test", "-c", config, recipe, *fields)
    assert code == 0
    assert "Service set to Network by `vpn`: system is 'vpn' and apps is 'Slack'" in out
    code, out, _ = invoke("test", "-c", config, recipe, "--field", "system=email")
    assert code == 0
    assert "No recipe fires." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--field", "system"], "--field 'system': expected NAME=VALUE"),
        (["--at", "yesterday"], "--at 'yesterday': expected an ISO date and time"),
    ],
)
def test_test_refuses_bad_options(args: list[str], message: str) -> None:
    code, out, err = invoke("test", "--config", SHIPPED, *args)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.strip() == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--team", "Finance"], "--team 'Finance': no team called 'Finance' (known: HR, IT)"),
        (
            ["--channel", "#nochannel"],
            "--channel 'nochannel': no request or triage channel called 'nochannel' (known: ",
        ),
        (["--service", "Printers"], "--service 'Printers': no service called 'Printers'"),
        (["--field", "colour=red"], "--field 'colour': no form field called 'colour'"),
    ],
)
def test_test_refuses_names_the_configuration_does_not_know(args: list[str], message: str) -> None:
    """As lint does: no real event could carry them."""
    code, out, err = invoke("test", "--config", SHIPPED, "--text", "payslip", *args)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.startswith(message)
    assert len(err.splitlines()) == 1


def test_test_takes_known_names() -> None:
    code, out, err = invoke(
        "test", "--config", SHIPPED, "--team", "HR", "--channel", "#help", "--service", "Payroll"
    )
    assert (code, err) == (0, "")
    assert out.startswith("ticket.created in #help, team HR\n")


def test_schema_is_a_json_schema_of_recipe_files() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "Deskhand recipe file"
    assert set(schema["properties"]) == {"recipes"}


# replay ---------------------------------------------------------------------------------------

REPLAY_RECIPES = """\
recipes:
  - name: hr-keywords
    trigger: ticket.created
    conditions: {text: {keywords: payroll}}
    actions: [{route: HR}]
  - name: it-help-channel
    trigger: ticket.created
    conditions: {channel: help-it}
    actions: [{route: IT}]
"""


@pytest.fixture
def replay_setup(tmp_path: Path, sqlite_url: str) -> tuple[Path, str]:
    """A database with four tickets, all filed in IT, and the recipes to replay."""
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        for name, prefix in (("IT", "IT"), ("HR", "HR"), ("Facilities", "FAC"), ("Legal", "LEG")):
            session.add(Team(name=name, key_prefix=prefix, triage_channel=f"{prefix.lower()}-t"))
        session.flush()

        def ticket(key: str, title: str, team: str, days_ago: int, channel: str) -> Ticket:
            made = Ticket(
                key=key,
                team=team,
                requester="U1",
                title=title,
                origin_kind="reaction",
                origin_channel=channel,
                created_at=now - timedelta(days=days_ago),
            )
            session.add(made)
            session.flush()
            session.add(
                TimelineEvent(
                    ticket_id=made.id,
                    actor="U1",
                    kind="created",
                    origin="slack",
                    at=made.created_at,
                    data={"channel": channel},
                )
            )
            return made

        ticket("IT-1", "Printer jammed", "IT", 2, "C0HELP")  # same: nothing routes it
        moved = ticket("HR-1", "Payroll question", "HR", 3, "C0HELP")  # moved by hand to HR
        session.add(
            TimelineEvent(
                ticket_id=moved.id,
                actor="U2",
                kind="team_changed",
                origin="slack",
                data={"from": "IT", "to": "HR"},
            )
        )
        ticket("IT-2", "Payroll of contractors", "IT", 4, "C0HELP")  # stayed in IT
        ticket("IT-3", "Old payroll", "IT", 60, "C0HELP")  # too old for --since 30d
    engine.dispose()
    recipes = tmp_path / "candidate.yaml"
    recipes.write_text(REPLAY_RECIPES)
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    return recipes, sqlite_url


def test_replay_shows_where_routing_would_differ(replay_setup: tuple[Path, str]) -> None:
    recipes, url = replay_setup
    config = str(recipes.parent / "config.yaml")
    code, out, err = invoke(
        "replay", "-c", config, "--since", "30d", "--database-url", url, str(recipes)
    )
    assert (code, err) == (0, ""), err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    cells = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:8]] for line in rows
    }
    # oldest first; only the tickets whose routing would differ
    assert list(cells) == ["IT-2", "HR-1"]
    assert cells["HR-1"] == [
        "IT",
        "IT",
        "HR",
        "HR",
        "better: where it ended up",
        "Routed to HR by `hr-keywords`: matched 'payroll'",
    ]
    assert cells["IT-2"][:5] == ["IT", "IT", "IT", "HR", "differs"]
    assert out.rstrip().endswith(
        "3 tickets since "
        + out.rstrip().split("tickets since ")[1].split(" UTC")[0]
        + " UTC: 2 would be routed differently, 1 of them straight to the team they ended up in"
    )


def test_replay_maps_channel_ids_to_names(replay_setup: tuple[Path, str]) -> None:
    recipes, url = replay_setup
    config = str(recipes.parent / "config.yaml")
    base = ["replay", "-c", config, "--database-url", url, "--all", str(recipes)]
    _, out, _ = invoke(*base)
    assert "Printer jammed" not in out  # titles are not shown, keys are
    printer = next(line for line in out.splitlines() if "IT-1" in line)
    assert "no route recipe fires" in printer
    _, out, _ = invoke(*base, "--channel-name", "C0HELP=help-it")
    printer = next(line for line in out.splitlines() if "IT-1" in line)
    assert "Routed to IT by `it-help-channel`: in #help-it" in printer


def test_replay_finds_channel_names_in_the_database(replay_setup: tuple[Path, str]) -> None:
    """A ticket made since names are stored names its channel for the older tickets from
    there too; a triage channel is named by its team; --channel-name still overrides."""
    recipes, url = replay_setup
    config = str(recipes.parent / "config.yaml")
    base = ["replay", "-c", config, "--database-url", url, "--all", str(recipes)]
    _, out, _ = invoke(*base)
    assert "No name known for channel C0HELP" in out
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        newer = Ticket(
            key="IT-4",
            team="IT",
            requester="U1",
            title="Screen flickers",
            origin_kind="reaction",
            origin_channel="C0HELP",
        )
        from_triage = Ticket(
            key="IT-5",
            team="IT",
            requester="U2",
            title="Noted in triage",
            origin_kind="reaction",
            origin_channel="C0TRIAGE",
            triage_channel="C0TRIAGE",
        )
        session.add_all([newer, from_triage])
        session.flush()
        session.add(
            TimelineEvent(
                ticket_id=newer.id,
                actor="U1",
                kind="created",
                origin="slack",
                data={"channel": "C0HELP", "channel_name": "help-it"},
            )
        )
    engine.dispose()

    code, out, err = invoke(*base)
    assert (code, err) == (0, ""), err
    assert "No name known" not in out
    printer = next(line for line in out.splitlines() if "IT-1" in line)
    assert "Routed to IT by `it-help-channel`: in #help-it" in printer
    engine = make_engine(url)
    with Session(engine) as session:
        names = known_channel_names(session, load_config(config))
    engine.dispose()
    assert names == {"C0HELP": "help-it", "C0TRIAGE": "it-triage"}

    _, out, _ = invoke(*base, "--channel-name", "C0HELP=help")
    printer = next(line for line in out.splitlines() if "IT-1" in line)
    assert "no route recipe fires" in printer


def test_replay_refuses_a_missing_database_and_a_bad_since(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    config = str(tmp_path / "config.yaml")
    missing = tmp_path / "nothing.db"
    code, _, err = invoke("replay", "-c", config, "--database-url", f"sqlite:///{missing}")
    assert code == EXIT_BAD_INPUT
    assert err.splitlines() == [
        f"no database at {missing}",
        "Run deskhand migrate to create or upgrade it.",
    ]
    assert not missing.exists()
    code, _, err = invoke("replay", "-c", config, "--since", "lately")
    assert code == EXIT_BAD_INPUT
    assert "--since 'lately': expected e.g. 30d" in err


@pytest.mark.parametrize(
    "since",
    [
        "9999999d",
        "99999999999999999999w",
        "999999999h",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_replay_refuses_a_since_out_of_range(tmp_path: Path, since: str) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    code, out, err = invoke("replay", "-c", str(tmp_path / "config.yaml"), "--since", since)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err.strip() == (
        f"--since {since!r}: out of range; expected e.g. 30d, 12h, 2w, or a date such as 2026-10-01"
    )


def test_replay_counts_back_from_a_date_in_its_own_zone(replay_setup: tuple[Path, str]) -> None:
    recipes, url = replay_setup
    config = str(recipes.parent / "config.yaml")
    code, out, err = invoke(
        "replay", "-c", config, "--database-url", url, "--since", "2026-10-01T02:00:00+02:00"
    )
    assert (code, err) == (0, "")
    assert "tickets since 2026-10-01 00:00 UTC" in out


def test_replay_on_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    code, _, err = invoke(
        "replay", "-c", str(tmp_path / "config.yaml"), "--database-url", f"sqlite:///{empty}"
    )
    assert code == EXIT_BAD_INPUT
    assert err.splitlines() == [
        "cannot read tickets from the database: no such table: tickets",
        "The database is not migrated. Run deskhand migrate to create or upgrade it.",
    ]
