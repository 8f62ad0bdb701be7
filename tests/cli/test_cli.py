"""The command line: check-config (config lint), config schema, manifest, migrate; one line
for each problem, never a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML
from sqlalchemy import inspect
from typer.testing import CliRunner

from deskhand.cli import EXIT_CONFIG, app
from deskhand.startup import EXIT_UNAVAILABLE
from storage.engine import make_engine
from storage.migrate import head_revision
from tests.conftest import ROOT

runner = CliRunner()

BAD_FILES = {
    "unknown key": (
        "teams:\n  - name: IT\n    key_prefix: IT\n    triage_channel: t\n    colour: red\n",
        ["bad.yaml:5:5: teams.0.colour: unknown key; expected one of:"],
    ),
    "wrong type": (
        "teams:\n  - name: IT\n    key_prefix: IT\n    triage_channel: t\nhttp: {port: high}\n",
        ["bad.yaml:5:14: http.port: Input should be a valid integer"],
    ),
    "bad enum": (
        "slack: {mode: pigeon}\nteams:\n  - {name: IT, key_prefix: IT, triage_channel: t}\n",
        ["bad.yaml:1:15: slack.mode: Input should be 'socket' or 'http' (got 'pigeon')"],
    ),
    "broken yaml": (
        "teams:\n  - name: [IT\n",
        ["bad.yaml:3:1: <root>: invalid YAML:"],
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_check_config_reports_each_kind_of_error_and_changes_nothing(
    kind: str, tmp_path: Path
) -> None:
    text, expected = BAD_FILES[kind]
    (tmp_path / "bad.yaml").write_text(text)
    before = sorted(tmp_path.iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "deskhand", "check-config", "bad.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == EXIT_CONFIG
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line
    assert sorted(tmp_path.iterdir()) == before


def test_check_config_accepts_the_shipped_example() -> None:
    result = runner.invoke(app, ["check-config", str(ROOT / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK (2 teams: IT, HR)" in result.output


def test_config_schema_is_valid_and_accepts_the_shipped_example() -> None:
    result = runner.invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    example = json.loads(json.dumps(YAML(typ="safe").load(ROOT / "config.yaml"), default=str))
    jsonschema.validate(example, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "colour": "red"}, schema)


def test_migrate_creates_the_schema(database_url: str) -> None:
    result = runner.invoke(
        app, ["migrate", "--config", str(ROOT / "config.yaml"), "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    assert f"database at revision {head_revision()}" in result.output
    engine = make_engine(database_url)
    assert {"tickets", "inbox", "outbox", "alembic_version"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_run_without_tokens_names_what_is_missing_and_starts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(f"DESKHAND_{name}", raising=False)
    result = runner.invoke(app, ["run", "--config", str(ROOT / "config.yaml")])
    assert result.exit_code == EXIT_CONFIG
    assert "DESKHAND_SLACK_BOT_TOKEN" in result.output
    assert "DESKHAND_SLACK_APP_TOKEN" in result.output
    assert "DESKHAND_SLACK_SIGNING_SECRET" not in result.output  # not needed in Socket Mode


def test_demo_exits_zero_and_builds_a_database() -> None:
    result = runner.invoke(app, ["demo", "--config", str(ROOT / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert f"migrated to revision {head_revision()}" in result.output
    assert "tickets" in result.output
    assert (
        "deskhand: Ticket IT-1 is resolved: My laptop will not connect to the VPN" in result.output
    ), result.output
    assert "deskhand: New ticket IT-2: Printer on floor 2 is jammed again" in result.output
    assert "deskhand: New ticket IT-3: GitHub access" in result.output
    assert "IT-1 is now *resolved*" in result.output
    # the Jira sync both ways: carol's question from Jira reached alice's thread, and the
    # issue has the thread's replies and notes
    assert "*Carol* (in Jira): Which office are you working from?" in result.output
    assert "[IT-1] My laptop will not" in result.output
    # carol's internal note is in the triage thread only
    assert result.output.count("The gateway certificate expired") == 1
    # alice answers carol's question after it reached her thread, not before
    thread = [line.strip() for line in result.output.splitlines() if "↳" in line]
    question = thread.index("↳ deskhand: *Carol* (in Jira): Which office are you working from?")
    assert thread[question + 1] == "↳ alice: From home today"
    # recipes see the demo's Monday morning in Berlin, whatever day it runs: IT (08:00-18:00
    # there) is open, HR (New York, from 09:00) is not, and the reply names HR's new ticket
    assert "IT is out of office" not in result.output
    assert (
        "↳ deskhand: Thanks @dave, HR is out of office right now and will pick up HR-1 when "
        "they are back. If it cannot wait, follow the on-call runbook: "
        "https://wiki.example.com/runbooks/on-call"
    ) in thread
    assert "routes it to HR, where it is 03:15 (America/New_York)" in result.output


def test_run_with_a_broken_recipe_file_names_it_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ACCEPTANCE 31 at start: a bad recipe stops `deskhand run` with file:line, exit 2."""
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "bad.yaml").write_text(
        "recipes:\n  - name: vpn\n    trigger: ticket.created\n    colour: red\n"
    )
    config = (ROOT / "config.yaml").read_text().replace("- recipes/builtin", "- recipes")
    (tmp_path / "config.yaml").write_text(config)
    monkeypatch.setenv("DESKHAND_SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("DESKHAND_SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.chdir(tmp_path)  # the configured database (sqlite:///deskhand.db) lands here
    result = runner.invoke(app, ["run", "--config", "config.yaml"])
    assert result.exit_code == EXIT_CONFIG
    assert "bad.yaml:4:5: recipes.0.colour: unknown key" in result.output
    assert not (tmp_path / "deskhand.db").exists()


MINIMAL = "teams:\n  - {name: IT, key_prefix: IT, triage_channel: it-triage}\n"


@pytest.fixture
def in_folder_with_a_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a valid ./config.yaml, as the working directory, DESKHAND_CONFIG unset."""
    (tmp_path / "config.yaml").write_text(MINIMAL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DESKHAND_CONFIG", raising=False)
    return tmp_path


@pytest.mark.parametrize("command", [["check-config"], ["config", "lint"]])
def test_check_config_takes_the_config_option_and_deskhand_config(
    in_folder_with_a_config: Path, command: list[str]
) -> None:
    other = in_folder_with_a_config / "other.yaml"
    other.write_text(MINIMAL.replace("IT", "HR"))
    result = runner.invoke(app, [*command, "--config", str(other)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{other}: OK (1 team: HR)\n"
    result = runner.invoke(app, [*command, "-c", str(other)])
    assert result.output == f"{other}: OK (1 team: HR)\n"

    missing = in_folder_with_a_config / "nope.yaml"
    result = runner.invoke(app, command, env={"DESKHAND_CONFIG": str(missing)})
    assert result.exit_code == EXIT_CONFIG
    assert result.output == f"{missing}:1:1: <root>: cannot read: No such file or directory\n"

    # A file named on the command line is the one checked.
    result = runner.invoke(app, [*command, "config.yaml"], env={"DESKHAND_CONFIG": str(missing)})
    assert result.output == "config.yaml: OK (1 team: IT)\n"


def test_check_config_warns_of_http_mode_without_a_public_url(
    in_folder_with_a_config: Path,
) -> None:
    Path("config.yaml").write_text("slack: {mode: http}\n" + MINIMAL)
    result = runner.invoke(app, ["check-config"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "config.yaml:1:15: slack.mode: warning: HTTP mode without http.public_url: deskhand "
        "manifest cannot say where Slack should send events; set http.public_url to this "
        "service's public address\n"
    )
    assert result.stdout == "config.yaml: OK (1 team: IT), 1 warning\n"


def test_manifest_refuses_http_mode_without_a_public_url(in_folder_with_a_config: Path) -> None:
    Path("config.yaml").write_text("slack: {mode: http}\n" + MINIMAL)
    result = runner.invoke(app, ["manifest"])
    assert result.exit_code == EXIT_CONFIG
    assert result.stdout == ""
    assert result.stderr == (
        "config.yaml: slack.mode is http but http.public_url is not set: the manifest has to "
        "tell Slack where to send events; set http.public_url to this service's public address "
        "(e.g. https://deskhand.example.com) and run deskhand manifest again\n"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "bogus://x",
            "--database-url: expected a database URL starting sqlite:/// or postgresql:// "
            "(got 'bogus://x')",
        ),
        (
            "postgresql+nope://x/y",
            "--database-url: Can't load plugin: sqlalchemy.dialects:postgresql.nope",
        ),
    ],
)
def test_migrate_checks_the_database_url_option_as_the_config_s(url: str, expected: str) -> None:
    result = runner.invoke(app, ["migrate", "--database-url", url])
    assert result.exit_code == EXIT_CONFIG
    assert result.output == expected + "\n"


def test_migrate_says_in_one_line_that_the_database_cannot_be_reached() -> None:
    with socket.socket() as held:  # bound, never listening: connecting is refused at once
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        url = f"postgresql://nobody:hush@127.0.0.1:{port}/x"
        result = runner.invoke(app, ["migrate", "--database-url", url])
    assert result.exit_code == EXIT_UNAVAILABLE
    [line] = result.output.splitlines()
    assert line.startswith(f"cannot open the database postgresql://nobody:***@127.0.0.1:{port}/x:")
    assert "Connection refused" in line
    assert line.endswith("(check --database-url, and that the database server is running)")


def test_migrate_names_the_config_file_when_its_database_cannot_be_opened(
    in_folder_with_a_config: Path,
) -> None:
    Path("config.yaml").write_text(MINIMAL + "database: {url: 'sqlite:///no/such/dir/x.db'}\n")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == EXIT_UNAVAILABLE
    assert result.output == (
        "cannot open the database sqlite:///no/such/dir/x.db: unable to open database file "
        "(check database.url in config.yaml, and that its folder exists and may be written to)\n"
    )
