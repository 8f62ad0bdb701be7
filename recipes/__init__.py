"""YAML routing recipes: the file format, the loader with file:line errors, a pure engine.

The ticket service builds a :class:`RecipeEvent`, calls :func:`route` (or :func:`evaluate`)
with ``book.current`` of a :class:`RecipeBook`, and applies the returned decisions.
"""

from recipes.actions import Action, Decision
from recipes.book import RecipeBook, ReloadResult
from recipes.engine import Evaluation, Firing, Routing, evaluate, route
from recipes.events import RecipeEvent
from recipes.loader import (
    RecipeError,
    configured_paths,
    load_configured_recipes,
    load_recipes,
    parse_recipes,
)
from recipes.recipe_set import RecipeSet
from recipes.schema import Trigger, json_schema

__all__ = [
    "Action",
    "Decision",
    "Evaluation",
    "Firing",
    "RecipeBook",
    "RecipeError",
    "RecipeEvent",
    "RecipeSet",
    "ReloadResult",
    "Routing",
    "Trigger",
    "configured_paths",
    "evaluate",
    "json_schema",
    "load_configured_recipes",
    "load_recipes",
    "parse_recipes",
    "route",
]
