"""Turn validated recipe models into compiled recipes, checking what pydantic cannot: names
of teams, channels, services and form fields against the configuration, patterns, templates,
and conditions that can never hold for a recipe's triggers.

Every problem is a :data:`Finding` (the file, the path inside it, a message); the loader
turns paths into lines and columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deskhand.config import Config
from recipes.actions import (
    AddLabels,
    AssignUser,
    RemoveLabels,
    RouteTo,
    SetJiraProject,
    SetLevel,
    SetPriority,
    SetService,
    SetStatus,
)
from recipes.conditions import (
    AllOf,
    Always,
    AnyOf,
    FactIn,
    FieldIn,
    Keywords,
    LabelIn,
    NoneOf,
    PatternIndex,
    Predicate,
    RequesterDomain,
    RequesterGroup,
    RequesterUser,
    TextPattern,
    WithinHours,
    words_of,
)
from recipes.plans import ActionPlan, Fixed, Note, Post, Reply, RoundRobin
from recipes.recipe_set import CompiledRecipe, RecipeSet, Source
from recipes.references import KnownNames
from recipes.safe_regex import PatternError, SafePattern, compile_glob, compile_regex
from recipes.schema import Action, Condition, Recipe, TextCondition, Trigger
from recipes.templates import RecipeTemplate, TemplateLoadError, compile_template

Loc = tuple[str | int, ...]
_Check = Callable[[str], str | None]
"""A name check of :class:`~recipes.references.KnownNames`: None, or what is wrong."""


@dataclass(frozen=True)
class Finding:
    file: str
    loc: Loc
    message: str


@dataclass(frozen=True)
class WrittenRecipe:
    """A validated recipe and where it is written."""

    recipe: Recipe
    file: str
    loc: Loc
    source: Source


_ONLY_FOR: dict[str, Trigger] = {
    "emoji": Trigger.REACTION_ADDED,
    "previous_status": Trigger.TICKET_STATUS_CHANGED,
}
"""Conditions on facts that only one trigger has."""


class Compiler:
    """Compiles recipes for one configuration; collects findings instead of stopping."""

    def __init__(self, config: Config) -> None:
        self.known = KnownNames(config)
        self.findings: list[Finding] = []
        self._patterns: list[SafePattern] = []
        self._file = ""

    def compile(self, written: Sequence[WrittenRecipe], files: Sequence[str]) -> RecipeSet:
        compiled = [self._recipe(item) for item in written]
        return RecipeSet(compiled, PatternIndex(self._patterns), files)

    def _problem(self, loc: Loc, message: str) -> None:
        self.findings.append(Finding(self._file, loc, message))

    # recipes ---------------------------------------------------------------------------------

    def _recipe(self, written: WrittenRecipe) -> CompiledRecipe:
        self._file = written.file
        recipe, loc = written.recipe, written.loc
        triggers = frozenset(recipe.trigger)
        condition = self._condition(recipe.conditions, (*loc, "conditions"), triggers)
        plans = self._actions(recipe.actions, (*loc, "actions"))
        top = recipe.conditions
        return CompiledRecipe(
            name=recipe.name,
            description=recipe.description,
            triggers=triggers,
            condition=condition,
            plans=plans,
            stop=recipe.stop,
            source=written.source,
            needs=condition.needs(),
            teams=frozenset(top.team) if top.team else None,
        )

    # conditions ------------------------------------------------------------------------------

    def _condition(self, condition: Condition, loc: Loc, triggers: frozenset[Trigger]) -> Predicate:
        parts: list[Predicate] = []
        for key, only in _ONLY_FOR.items():
            if getattr(condition, key) is not None and triggers != {only}:
                others = ", ".join(sorted(trigger.value for trigger in triggers - {only}))
                self._problem(
                    (*loc, key), f"{key} is only known for {only.value} (this recipe: {others})"
                )
        if condition.channel is not None:
            self._names(condition.channel, (*loc, "channel"), self.known.channel)
            parts.append(FactIn("channel", condition.channel, "in #{}"))
        if condition.team is not None:
            self._names(condition.team, (*loc, "team"), self.known.team)
            parts.append(FactIn("team", condition.team, "team is {}"))
        if condition.service is not None:
            self._names(condition.service, (*loc, "service"), self.known.service)
            parts.append(FactIn("service", condition.service, "service is {}"))
        if condition.text is not None:
            parts.append(self._text(condition.text, (*loc, "text")))
        if condition.fields is not None:
            for name, values in condition.fields.items():
                problem = self.known.field(name)
                if problem is not None:
                    self._problem((*loc, "fields", name), problem)
                parts.append(FieldIn(name, values))
        if condition.requester is not None:
            requester = condition.requester
            if requester.user is not None:
                parts.append(RequesterUser(requester.user))
            if requester.group is not None:
                parts.append(RequesterGroup(requester.group))
            if requester.email_domain is not None:
                parts.append(RequesterDomain(requester.email_domain))
        if condition.priority is not None:
            parts.append(FactIn("priority", condition.priority, "priority is {}"))
        if condition.level is not None:
            parts.append(FactIn("level", condition.level, "level is L{}"))
        if condition.status is not None:
            parts.append(FactIn("status", condition.status, "status is {}"))
        if condition.previous_status is not None:
            parts.append(FactIn("previous_status", condition.previous_status, "was {}"))
        if condition.emoji is not None:
            parts.append(FactIn("emoji", condition.emoji, "reacted :{}:"))
        if condition.label is not None:
            parts.append(LabelIn(condition.label))
        if condition.business_hours is not None:
            hours = condition.business_hours
            if hours.team is not None:
                self._names([hours.team], (*loc, "business_hours", "team"), self.known.team)
            parts.append(WithinHours(hours.team, open_=hours.open, hours=self.known.hours))
        if condition.all_ is not None:
            parts.append(
                AllOf(
                    [
                        self._condition(inner, (*loc, "all", index), triggers)
                        for index, inner in enumerate(condition.all_)
                    ]
                )
            )
        if condition.any_ is not None:
            parts.append(
                AnyOf(
                    [
                        self._condition(inner, (*loc, "any", index), triggers)
                        for index, inner in enumerate(condition.any_)
                    ]
                )
            )
        if condition.not_ is not None:
            parts.append(NoneOf(self._condition(condition.not_, (*loc, "not"), triggers)))
        return _all(parts)

    def _text(self, text: TextCondition, loc: Loc) -> Predicate:
        parts: list[Predicate] = []
        if text.keywords is not None:
            for index, keyword in enumerate(text.keywords):
                if not words_of(keyword):
                    self._problem(
                        (*loc, "keywords", index),
                        f"keyword {keyword!r} has no letters or digits to match",
                    )
            parts.append(Keywords(text.keywords, case_sensitive=text.case_sensitive))
        if text.regex is not None:
            pattern = self._pattern(text.regex, (*loc, "regex"), glob=False, text=text)
            if pattern is not None:
                parts.append(pattern)
        if text.glob is not None:
            pattern = self._pattern(text.glob, (*loc, "glob"), glob=True, text=text)
            if pattern is not None:
                parts.append(pattern)
        return _all(parts)

    def _pattern(
        self, source: str, loc: Loc, *, glob: bool, text: TextCondition
    ) -> TextPattern | None:
        compile_ = compile_glob if glob else compile_regex
        try:
            pattern = compile_(source, case_sensitive=text.case_sensitive)
        except PatternError as exc:
            self._problem(loc, f"{'glob' if glob else 'regex'} {source!r} is refused: {exc}")
            return None
        self._patterns.append(pattern)
        return TextPattern(pattern, len(self._patterns) - 1, glob=glob)

    def _names(self, names: Sequence[str], loc: Loc, check: _Check) -> None:
        for index, name in enumerate(names):
            problem = check(name)
            if problem is not None:
                self._problem((*loc, index) if len(names) > 1 else loc, problem)

    # actions ---------------------------------------------------------------------------------

    def _actions(self, actions: Sequence[Action], loc: Loc) -> tuple[ActionPlan, ...]:
        plans: list[ActionPlan] = []
        routed_to: str | None = None
        for index, action in enumerate(actions):
            kind = action.kind
            at: Loc = (*loc, index, kind)
            plan = self._action(action, kind, at, routed_to)
            if plan is None:
                continue
            plans.append(plan)
            if isinstance(plan, Fixed) and isinstance(plan.action, RouteTo):
                routed_to = plan.action.team
        return tuple(plans)

    def _action(
        self, action: Action, kind: str, loc: Loc, routed_to: str | None
    ) -> ActionPlan | None:
        if action.route is not None:
            self._names([action.route], loc, self.known.team)
            return Fixed(kind, RouteTo(action.route))
        if action.set_service is not None:
            team = routed_to if routed_to in self.known.teams else None
            problem = self.known.service(action.set_service, team)
            if problem is not None:
                self._problem(loc, problem)
            return Fixed(kind, SetService(action.set_service))
        if action.set_priority is not None:
            return Fixed(kind, SetPriority(action.set_priority))
        if action.set_level is not None:
            return Fixed(kind, SetLevel(action.set_level))
        if action.set_status is not None:
            return Fixed(kind, SetStatus(action.set_status))
        if action.add_labels is not None:
            return Fixed(kind, AddLabels(tuple(action.add_labels)))
        if action.remove_labels is not None:
            return Fixed(kind, RemoveLabels(tuple(action.remove_labels)))
        if action.assign is not None:
            assign = action.assign
            if assign.user is not None:
                return Fixed(kind, AssignUser(assign.user))
            if assign.team is not None:
                self._names([assign.team], (*loc, "team"), self.known.team)
            return RoundRobin(assign.team)
        if action.reply is not None:
            template = self._template(action.reply, loc)
            return Reply(template) if template is not None else None
        if action.note is not None:
            template = self._template(action.note, loc)
            return Note(template) if template is not None else None
        if action.post is not None:
            self._names([action.post.channel], (*loc, "channel"), self.known.channel)
            template = self._template(action.post.text, (*loc, "text"))
            return Post(action.post.channel, template) if template is not None else None
        if action.jira_project is not None:
            if not self.known.has_jira:
                self._problem(loc, "config.yaml has no jira section: there is no Jira to use")
            else:
                self._names([action.jira_project], loc, self.known.jira_project)
            return Fixed(kind, SetJiraProject(action.jira_project))
        return None  # unreachable: the schema lets exactly one key through

    def _template(self, source: str, loc: Loc) -> RecipeTemplate | None:
        try:
            return compile_template(source)
        except TemplateLoadError as exc:
            where = f"line {exc.line} of the template: " if exc.line > 1 else ""
            self._problem(loc, f"{where}{exc}")
            return None


def _all(parts: list[Predicate]) -> Predicate:
    if not parts:
        return Always()
    if len(parts) == 1:
        return parts[0]
    return AllOf(parts)
