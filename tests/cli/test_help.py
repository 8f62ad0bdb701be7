"""``--help`` reads well for every command: no type beside a flag, one line per command in a
list, and docstrings rewrapped into paragraphs rather than broken where the source was."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from deskhand.cli import app

runner = CliRunner()
WIDTH = 80


def command_paths(group: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(group, TyperGroup):
        for name, command in sorted(group.commands.items()):
            yield from command_paths(command, (*path, name))


EVERY_COMMAND = list(command_paths(typer.main.get_command(app)))


def help_of(path: tuple[str, ...]) -> str:
    result = runner.invoke(app, [*path, "--help"], terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_is_walked() -> None:
    assert ("config", "lint") in EVERY_COMMAND
    assert ("recipes", "reload") in EVERY_COMMAND
    assert len(EVERY_COMMAND) > 15


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=lambda path: " ".join(path) or "deskhand")
def test_help_shows_no_type_beside_a_flag(path: tuple[str, ...]) -> None:
    text = help_of(path)
    assert "--help  " in text
    assert "<bool>" not in text


@pytest.mark.parametrize(
    "path", [(), ("config",), ("recipes",), ("sync",)], ids=lambda path: " ".join(path) or "/"
)
def test_each_command_of_a_list_takes_one_line(path: tuple[str, ...]) -> None:
    text = help_of(path)
    listing = text.split("Commands:\n", 1)[1].splitlines()
    group = typer.main.get_command(app)
    for name in path:
        assert isinstance(group, TyperGroup)
        group = group.commands[name]
    assert isinstance(group, TyperGroup)
    assert sorted(line.split()[0] for line in listing) == sorted(group.commands)
    assert all(line.startswith("  ") and not line.startswith("   ") for line in listing)


def paragraphs(text: str) -> Iterator[list[str]]:
    """The description's paragraphs (between the usage line and the first section)."""
    description = text.split("\n\n", 1)[1].split("\nOptions:", 1)[0].split("\nArguments:", 1)[0]
    for paragraph in description.strip("\n").split("\n\n"):
        yield paragraph.splitlines()


@pytest.mark.parametrize(
    "path",
    [("run",), ("sandbox",), ("check-config",), ("recipes", "lint"), ("recipes", "reload")],
    ids=" ".join,
)
def test_docstrings_are_rewrapped_to_the_width(path: tuple[str, ...]) -> None:
    """Greedy wrapping: no line of a paragraph ends where the next word would still fit."""
    found = list(paragraphs(help_of(path)))
    assert found
    for lines in found:
        for line, following in itertools.pairwise(lines):
            assert len(line) <= WIDTH
            assert len(line) + 1 + len(following.split()[0]) > WIDTH, (line, following)


DOES_NOT_READ_CONFIG = {("config", "schema"), ("recipes", "schema")}
"""They print a JSON Schema, the same whatever the configuration."""


def leaf_commands() -> Iterator[tuple[tuple[str, ...], Any]]:
    root = typer.main.get_command(app)
    for path in EVERY_COMMAND:
        command: Any = root
        for name in path:
            command = command.commands[name]
        if not isinstance(command, TyperGroup):
            yield path, command


def test_every_command_that_reads_the_config_takes_config_and_deskhand_config() -> None:
    """As the README says: --config/-c PATH, or DESKHAND_CONFIG."""
    leaves = dict(leaf_commands())
    assert set(leaves) >= DOES_NOT_READ_CONFIG
    for path, command in leaves.items():
        options = [param for param in command.params if "--config" in param.opts]
        if path in DOES_NOT_READ_CONFIG:
            assert options == [], path
            continue
        [option] = options
        assert set(option.opts) == {"--config", "-c"}, path
        assert option.envvar == "DESKHAND_CONFIG", path
