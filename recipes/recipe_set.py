"""A loaded, checked and compiled set of recipes: immutable, shared by every thread.

Recipes keep their order (files in the order given, a folder's files by name, recipes in
file order). For speed they are indexed by trigger, then by *tokens*: a recipe whose
conditions can only hold when the event has one of some tokens (a word of its keywords, its
pattern having matched in the one pass over all patterns, its channel, a form field's value;
see :meth:`recipes.conditions.Predicate.needs`) is only consulted for events that have one.
The others are consulted for every event of their trigger. Candidates keep their order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from recipes.conditions import Facts, PatternIndex, Predicate, Token, Tokens
from recipes.plans import ActionPlan
from recipes.schema import Trigger


@dataclass(frozen=True)
class Source:
    """Where a recipe is written."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class CompiledRecipe:
    name: str
    description: str
    triggers: frozenset[Trigger]
    condition: Predicate = field(repr=False)
    plans: tuple[ActionPlan, ...] = field(repr=False)
    stop: bool
    source: Source
    needs: Tokens | None = None
    """Tokens of which an event must have one for this recipe to fire (for the index)."""
    teams: frozenset[str] | None = None
    """The teams its top-level conditions require, if any (a cheap first check)."""
    where: str = field(init=False, compare=False)
    """``file:line`` of the recipe (kept ready: every firing names it)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", str(self.source))


class RecipeSet:
    """Recipes ready to evaluate. Build one with :mod:`recipes.loader`."""

    __slots__ = ("_by_name", "_files", "_index", "_patterns", "_recipes")

    def __init__(
        self,
        recipes: Sequence[CompiledRecipe],
        patterns: PatternIndex,
        files: Sequence[str] = (),
    ) -> None:
        self._recipes = tuple(recipes)
        self._patterns = patterns
        self._files = tuple(files)
        self._by_name = {recipe.name: recipe for recipe in self._recipes}
        self._index = _index(self._recipes)

    @classmethod
    def empty(cls) -> RecipeSet:
        return cls((), PatternIndex(()))

    @property
    def recipes(self) -> tuple[CompiledRecipe, ...]:
        return self._recipes

    @property
    def patterns(self) -> PatternIndex:
        return self._patterns

    @property
    def files(self) -> tuple[str, ...]:
        """The files the recipes were read from, in order."""
        return self._files

    def __len__(self) -> int:
        return len(self._recipes)

    def __iter__(self) -> Iterator[CompiledRecipe]:
        return iter(self._recipes)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> CompiledRecipe | None:
        return self._by_name.get(name)

    def candidates(self, facts: Facts) -> tuple[CompiledRecipe, ...]:
        """The recipes that may fire for this event, in order."""
        index = self._index.get(facts.event.trigger)
        if index is None:
            return ()
        if not index.by_token:
            return index.always_recipes
        positions = set(index.always)
        by_token = index.by_token
        for token in facts.tokens():
            found = by_token.get(token)
            if found is not None:
                positions.update(found)
        recipes = self._recipes
        return tuple(recipes[position] for position in sorted(positions))


@dataclass(frozen=True)
class _TriggerIndex:
    always: tuple[int, ...]
    always_recipes: tuple[CompiledRecipe, ...]
    by_token: dict[Token, tuple[int, ...]]


def _index(recipes: tuple[CompiledRecipe, ...]) -> dict[Trigger, _TriggerIndex]:
    index: dict[Trigger, _TriggerIndex] = {}
    for trigger in Trigger:
        always: list[int] = []
        by_token: dict[Token, list[int]] = {}
        for position, recipe in enumerate(recipes):
            if trigger not in recipe.triggers:
                continue
            if recipe.needs is None:
                always.append(position)
            else:
                for token in recipe.needs:
                    by_token.setdefault(token, []).append(position)
        if always or by_token:
            index[trigger] = _TriggerIndex(
                tuple(always),
                tuple(recipes[position] for position in always),
                {token: tuple(found) for token, found in by_token.items()},
            )
    return index
