"""Routing cycles that can be seen in the files, refused at load.

A recipe whose top-level conditions name the team(s) it applies to and which routes to
another team is an edge between teams. A cycle of such edges is reported when its recipes
could fire one after the other for one ticket: they share a trigger, and going round the
cycle (from any of its teams), what each recipe's top-level conditions pin (channel,
service, priority, level, status, emoji, form fields, requester) is still possible given the
pins before it and the values the recipes before it set (``set_priority: low`` and so on).

What this cannot see (a recipe routing from *any* team, conditions under ``any``/``not``,
text that can or cannot contain both keywords) is caught at run time: :func:`recipes.engine.
route` stops after a bounded number of hops and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from recipes.compiler import Finding, Loc, WrittenRecipe
from recipes.schema import Condition, Recipe, Trigger

MAX_REPORTED = 20
MAX_STEPS = 100_000
"""Bounds on the search, so a large recipe set still loads quickly."""

_SET_BY = {
    "set_service": "service",
    "set_priority": "priority",
    "set_level": "level",
    "set_status": "status",
}


@dataclass(frozen=True)
class _Edge:
    order: int
    written: WrittenRecipe
    action_loc: Loc
    source: str
    target: str
    triggers: frozenset[Trigger]
    pins: dict[str, frozenset[object]]
    sets: dict[str, object | None]
    """Facts the recipe's actions set: to a known value, or None for one not known."""


def routing_cycles(
    written: Sequence[WrittenRecipe], locate: Callable[[str, Loc], str]
) -> list[Finding]:
    """A finding for each routing cycle (at most :data:`MAX_REPORTED`), placed on the route
    action of the cycle's last-written recipe; ``locate`` renders another place as
    ``file:line``."""
    edges = [edge for order, item in enumerate(written) for edge in _edges(order, item)]
    outgoing: dict[str, list[_Edge]] = {}
    for edge in edges:
        outgoing.setdefault(edge.source, []).append(edge)
    teams = sorted(outgoing)
    rank = {team: position for position, team in enumerate(teams)}
    found: list[tuple[_Edge, ...]] = []
    steps = 0

    def walk(start: str, at: str, path: list[_Edge], triggers: frozenset[Trigger]) -> None:
        nonlocal steps
        for edge in outgoing.get(at, ()):
            steps += 1
            if steps > MAX_STEPS or len(found) >= MAX_REPORTED:
                return
            shared = triggers & edge.triggers
            if not shared or rank.get(edge.target, -1) < rank[start]:
                continue
            if edge.target == start:
                cycle = (*path, edge)
                if _traversable(cycle):
                    found.append(cycle)
            elif edge.target in outgoing and all(step.source != edge.target for step in path):
                walk(start, edge.target, [*path, edge], shared)

    for team in teams:
        walk(team, team, [], frozenset(Trigger))
    return [_finding(cycle, locate) for cycle in found]


def _edges(order: int, written: WrittenRecipe) -> list[_Edge]:
    recipe = written.recipe
    top = recipe.conditions
    routes = [
        (index, action.route)
        for index, action in enumerate(recipe.actions)
        if action.route is not None
    ]
    if not top.team or not routes:
        return []
    index, target = routes[-1]  # the last route of a recipe is where the ticket ends up
    sets: dict[str, object | None] = {}
    for action in recipe.actions:
        for kind, fact in _SET_BY.items():
            value = getattr(action, kind)
            if value is not None:
                sets[fact] = value
                if fact == "status":
                    sets["previous_status"] = None  # whatever the status was before
    return [
        _Edge(
            order=order,
            written=written,
            action_loc=(*written.loc, "actions", index, "route"),
            source=team,
            target=target,
            triggers=frozenset(recipe.trigger),
            pins=_pins(top),
            sets=sets,
        )
        for team in dict.fromkeys(top.team)
        if team != target
    ]


def _pins(condition: Condition) -> dict[str, frozenset[object]]:
    pins: dict[str, frozenset[object]] = {}
    for fact in ("channel", "service", "priority", "level", "status", "previous_status", "emoji"):
        values = getattr(condition, fact)
        if values is not None:
            pins[fact] = frozenset(values)
    for name, values in (condition.fields or {}).items():
        pins[f"fields.{name}"] = frozenset(value.casefold() for value in values)
    if condition.requester is not None and condition.requester.user is not None:
        pins["requester"] = frozenset(condition.requester.user)
    return pins


def _traversable(cycle: tuple[_Edge, ...]) -> bool:
    """Whether one ticket could go all the way round, starting from some team of it."""
    return any(_goes_round(cycle[start:] + cycle[:start]) for start in range(len(cycle)))


def _goes_round(cycle: tuple[_Edge, ...]) -> bool:
    possible: dict[str, frozenset[object] | None] = {}  # None: any value
    for edge in cycle:
        for fact, values in edge.pins.items():
            known = possible.get(fact)
            narrowed = values if known is None else known & values
            if not narrowed:
                return False
            possible[fact] = narrowed
        for fact, value in edge.sets.items():
            possible[fact] = None if value is None else frozenset([value])
    return True


def _finding(cycle: tuple[_Edge, ...], locate: Callable[[str, Loc], str]) -> Finding:
    last = max(cycle, key=lambda edge: edge.order)
    start = cycle.index(last) + 1  # tell it from the recipe after the one reported on
    ordered = cycle[start:] + cycle[:start]
    path = " → ".join([ordered[0].source, *(edge.target for edge in ordered)])
    steps = ", ".join(
        f"{_name(edge.written.recipe)} ({locate(edge.written.file, edge.written.loc)}) routes "
        f"{edge.source} to {edge.target}"
        for edge in ordered
    )
    message = f"routing cycle {path}: {steps}; a ticket would bounce between these teams"
    return Finding(last.written.file, last.action_loc, message)


def _name(recipe: Recipe) -> str:
    return f"'{recipe.name}'"
