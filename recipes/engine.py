"""Evaluate recipes: a pure function of the recipe set and the event.

``evaluate`` consults the recipes of the event's trigger in order; each whose conditions hold
*fires*: its actions are added, with a reason, and a recipe with ``stop`` ends the
evaluation. Each recipe sees the ticket as the actions before it left it (a recipe after
"route: HR" sees team HR). Nothing is changed and nothing raises: a template that fails for
this event leaves its action out and says why in ``errors``.

``route`` follows routing: when an evaluation moves the ticket to another team, the recipes
are consulted again from the top, as the new team sees the ticket (each recipe fires at most
once per event), until the team settles. A move back to a team already visited (a cycle) or
past ``max_hops`` moves is not made, and routing says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from recipes.actions import Action, Decision, RouteTo, describe
from recipes.conditions import Facts
from recipes.events import RecipeEvent
from recipes.plans import ticket_after
from recipes.recipe_set import RecipeSet
from recipes.templates import RenderError

DEFAULT_MAX_HOPS = 5


@dataclass(frozen=True)
class Firing:
    """A recipe that fired and the conditions that matched ("matched 'payroll'")."""

    recipe: str
    matched: tuple[str, ...]
    source: str
    """Where the recipe is written, ``file:line``."""

    @property
    def because(self) -> str:
        return " and ".join(self.matched) if self.matched else "no conditions"


@dataclass(frozen=True)
class Evaluation:
    event: RecipeEvent
    actions: tuple[Decision, ...]
    """What to do, in order, each with its recipe and reason."""
    fired: tuple[Firing, ...]
    stopped_by: str | None
    """The recipe whose ``stop`` ended the evaluation, if one did."""
    errors: tuple[str, ...] = ()
    """Actions left out, and why (a template that failed for this event)."""

    @property
    def route_target(self) -> str | None:
        """The team the last route action names, if any."""
        for decision in reversed(self.actions):
            if isinstance(decision.action, RouteTo):
                return decision.action.team
        return None


def evaluate(
    recipes: RecipeSet, event: RecipeEvent, *, skip: frozenset[str] = frozenset()
) -> Evaluation:
    """The actions the recipes ask for this event, in order; ``skip`` names recipes not to
    consult (those that already fired for this event)."""
    facts = Facts(event, recipes.patterns)
    ticket = event
    decisions: list[Decision] = []
    fired: list[Firing] = []
    errors: list[str] = []
    stopped_by: str | None = None
    for recipe in recipes.candidates(facts):
        if recipe.teams is not None and ticket.team not in recipe.teams:
            continue
        if recipe.name in skip:
            continue
        matched = recipe.condition.match(facts)
        if matched is None:
            continue
        firing = Firing(recipe.name, matched, recipe.where)
        fired.append(firing)
        because = firing.because
        for plan in recipe.plans:
            try:
                action: Action = plan.build(ticket, recipe.name)
            except RenderError as exc:
                errors.append(f"{recipe.name} ({recipe.source}): {plan.kind} left out: {exc}")
                continue
            ticket = facts.event = ticket_after(ticket, action)
            reason = f"{describe(action)} by `{recipe.name}`: {because}"
            decisions.append(Decision(action, recipe.name, reason))
        if recipe.stop:
            stopped_by = recipe.name
            break
    return Evaluation(event, tuple(decisions), tuple(fired), stopped_by, tuple(errors))


Outcome = Literal["settled", "cycle", "hop_limit"]


@dataclass(frozen=True)
class Routing:
    """The evaluations of one event across the teams it was routed through."""

    evaluations: tuple[Evaluation, ...]
    """In order; the last one cut short at the move that was not made, if one was not."""
    teams: tuple[str | None, ...]
    """The team before the first evaluation, then each team the ticket moved to."""
    outcome: Outcome
    notice: str | None
    """Why routing stopped early, for people; None when it settled by itself."""

    @property
    def actions(self) -> tuple[Decision, ...]:
        return tuple(decision for hop in self.evaluations for decision in hop.actions)

    @property
    def fired(self) -> tuple[Firing, ...]:
        return tuple(firing for hop in self.evaluations for firing in hop.fired)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(error for hop in self.evaluations for error in hop.errors)

    @property
    def final_team(self) -> str | None:
        return self.teams[-1]

    @property
    def hops(self) -> int:
        """How many times the ticket moved."""
        return len(self.teams) - 1


def route(recipes: RecipeSet, event: RecipeEvent, max_hops: int = DEFAULT_MAX_HOPS) -> Routing:
    """Evaluate, and again from the top after each evaluation that moved the ticket.

    A move to a team the ticket has already been in (a cycle), or one more than ``max_hops``
    moves, is not made: routing stops before it, keeps the decisions before it, drops the
    rest, and ``notice`` says what happened. Applied in order, the decisions leave the ticket
    in ``final_team``.
    """
    if max_hops < 1:
        raise ValueError("max_hops must be at least 1")
    evaluations: list[Evaluation] = []
    teams: list[str | None] = [event.team]
    already: frozenset[str] = frozenset()
    current = event
    while True:
        evaluation = evaluate(recipes, current, skip=already)
        already |= {firing.recipe for firing in evaluation.fired}
        team = current.team
        for index, decision in enumerate(evaluation.actions):
            action = decision.action
            if not isinstance(action, RouteTo) or action.team == team:
                continue
            if action.team in teams or len(teams) > max_hops:
                outcome: Outcome = "cycle" if action.team in teams else "hop_limit"
                evaluations.append(_cut(evaluation, index))
                notice = _notice(outcome, teams, decision, max_hops)
                return Routing(tuple(evaluations), tuple(teams), outcome, notice)
            teams.append(action.team)
            team = action.team
        evaluations.append(evaluation)
        if team == current.team:
            return Routing(tuple(evaluations), tuple(teams), "settled", None)
        for decision in evaluation.actions:
            current = ticket_after(current, decision.action)


def _cut(evaluation: Evaluation, index: int) -> Evaluation:
    """The evaluation as far as its decision ``index`` (excluded)."""
    last = evaluation.actions[index].recipe
    names = [firing.recipe for firing in evaluation.fired]
    fired = evaluation.fired[: names.index(last) + 1]
    kept = {firing.recipe for firing in fired}
    return Evaluation(
        evaluation.event,
        evaluation.actions[:index],
        fired,
        evaluation.stopped_by if evaluation.stopped_by in kept else None,
        evaluation.errors,
    )


def _notice(outcome: Outcome, teams: list[str | None], decision: Decision, max_hops: int) -> str:
    target = decision.action.team if isinstance(decision.action, RouteTo) else "?"
    path = " → ".join(str(team) for team in [*teams, target])
    if outcome == "cycle":
        return (
            f"Routing cycle {path}: the move back to {target} by `{decision.recipe}` "
            f"was not made; the ticket stays in {teams[-1]}"
        )
    return (
        f"Routing stopped after {max_hops} hops: the move to {target} by "
        f"`{decision.recipe}` was not made ({path}); the ticket stays in {teams[-1]}"
    )
