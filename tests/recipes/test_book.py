"""The recipe book: the set in use, replaced whole on reload, kept when a reload fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskhand.config import Config, load_config
from recipes.book import RecipeBook
from recipes.loader import RecipeError
from tests.conftest import ROOT
from tests.recipes.conftest import CONFIG_YAML


def write(path: Path, *names: str) -> None:
    path.write_text(
        "recipes:\n"
        + "".join(f"  - {{name: {name}, trigger: ticket.created, stop: true}}\n" for name in names)
    )


def test_a_good_reload_replaces_the_set(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    write(path, "one")
    book = RecipeBook.from_paths([path], config)
    before = book.current
    write(path, "one", "two")
    result = book.reload()
    assert result.ok
    assert result.problems == ()
    assert book.current is result.recipes
    assert book.current is not before
    assert [recipe.name for recipe in book.current] == ["one", "two"]
    assert [recipe.name for recipe in before] == ["one"]  # the old set is never changed
    assert result.message == "loaded 2 recipes from 1 file"


def test_the_first_load_raises(config: Config, tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("recipes: [\n")
    with pytest.raises(RecipeError):
        RecipeBook.from_paths([tmp_path / "r.yaml"], config)


def test_a_deleted_file_is_a_failed_reload(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    write(path, "one")
    book = RecipeBook.from_paths([path], config)
    path.unlink()
    result = book.reload()
    assert not result.ok
    assert [recipe.name for recipe in book.current] == ["one"]
    assert f"{path}:1:1: <root>: no such file or folder" in result.message


def test_a_reload_can_read_config_yaml_again(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(CONFIG_YAML + "recipes: {paths: [rules]}\n")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(
        "recipes:\n  - {name: legal, trigger: ticket.created, actions: [{route: Legal}]}\n"
    )

    def load() -> object:
        from recipes.loader import load_configured_recipes

        return load_configured_recipes(load_config(config_path), config_path)

    book = RecipeBook(load)  # type: ignore[arg-type]
    assert "legal" in book.current
    # the team goes away from config.yaml: the recipes no longer fit, the old set stays
    config_path.write_text(
        CONFIG_YAML.replace("name: Legal", "name: Law") + "recipes: {paths: [rules]}\n"
    )
    result = book.reload()
    assert not result.ok
    assert "no team called 'Legal'" in result.message
    assert "legal" in book.current
    # a broken config.yaml is a failed reload too
    config_path.write_text("teams: [\n")
    assert not book.reload().ok
    assert "legal" in book.current


def test_builtins_from_the_shipped_config() -> None:
    config = load_config(ROOT / "config.yaml")
    book = RecipeBook.from_config(config, ROOT / "config.yaml")
    assert len(book.current) == 4
    assert book.reload().ok
