"""The running set of recipes, replaced as a whole on reload, kept when a reload fails.

Readers take ``book.current`` (an immutable :class:`~recipes.recipe_set.RecipeSet`) once per
event and use it throughout, so an evaluation never sees half of an old set and half of a new
one. ``reload`` reads the files again; when they are not usable the last good set stays and
the result says why, problem by problem.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deskhand.config import Config, ConfigError, ConfigProblem
from recipes.loader import configured_paths, load_recipes
from recipes.recipe_set import RecipeSet


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    recipes: RecipeSet
    """The set now in use: the new one, or the last good one when the reload failed."""
    problems: tuple[ConfigProblem, ...] = ()

    @property
    def message(self) -> str:
        count = len(self.recipes)
        if self.ok:
            return loaded_message(self.recipes)
        lines = [f"recipes not reloaded; still using the last good set ({count} recipes):"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def loaded_message(recipes: RecipeSet) -> str:
    count, files = len(recipes), len(recipes.files)
    return (
        f"loaded {count} recipe{'s' if count != 1 else ''} "
        f"from {files} file{'s' if files != 1 else ''}"
    )


class RecipeBook:
    """Holds the recipe set in use. The first load raises RecipeError (startup should stop);
    later reloads keep the last good set when ``load`` raises a ConfigError (a RecipeError,
    or the configuration's own when ``load`` reads config.yaml again)."""

    def __init__(self, load: Callable[[], RecipeSet]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._current = load()

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path], config: Config) -> RecipeBook:
        chosen = [Path(path) for path in paths]
        return cls(lambda: load_recipes(chosen, config))

    @classmethod
    def from_config(cls, config: Config, config_path: str | Path) -> RecipeBook:
        """The files ``recipes.paths`` lists, relative to the folder of ``config.yaml``."""
        return cls.from_paths(configured_paths(config, config_path), config)

    @property
    def current(self) -> RecipeSet:
        return self._current

    def reload(self) -> ReloadResult:
        with self._lock:
            try:
                fresh = self._load()
            except ConfigError as exc:  # a RecipeError, or the new config.yaml's own
                return ReloadResult(False, self._current, tuple(exc.problems))
            self._current = fresh
            return ReloadResult(True, fresh)
