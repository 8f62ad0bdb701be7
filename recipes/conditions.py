"""Compiled conditions: small predicate objects built once at load, run per event.

Each predicate's ``match`` returns None when it does not hold, or the reasons it holds, in
words for people ("matched 'payroll'", "in #help-it"). ``describe`` says what it asks for
(used under ``not``, where nothing matched to quote). Predicates never raise on an event.

``needs`` serves the recipe set's index: the *tokens* (a word of the text, a pattern that
matched, the channel, a form field's value, …) of which an event must have at least one for
the condition to possibly hold, or None when there is no such cheap test. Only facts that no
action changes (the text, channel, fields, emoji, requester) give tokens, so the index stays
right while a ticket's team or priority changes during an evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import time
from functools import cached_property
from zoneinfo import ZoneInfo

from recipes.events import RecipeEvent
from recipes.safe_regex import PatternSet, SafePattern

Reasons = tuple[str, ...]
Token = Hashable
"""A word of the text (a casefolded str) or a tagged fact such as ``("c", "help")``."""
Tokens = frozenset[Token]

_WORD = re.compile(r"\w+")
"""What a keyword-matching word is (linear: one fixed pattern, no user input in it)."""

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_QUOTE_LIMIT = 60


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def quoted(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 1] + "…"
    return f"'{text}'"


class PatternIndex:
    """The text patterns of a whole recipe set and the one-pass scanner over them."""

    def __init__(self, patterns: Sequence[SafePattern]) -> None:
        self.patterns = tuple(patterns)
        self.scanner = PatternSet(self.patterns)


class Facts:
    """One event seen by the predicates, with what is derived from its text worked out
    once, and only when a predicate asks.

    The engine replaces ``event`` as actions change the ticket's facts; actions never change
    the text, so what is derived from it stays valid.
    """

    def __init__(self, event: RecipeEvent, patterns: PatternIndex) -> None:
        self.event = event
        self._patterns = patterns

    @cached_property
    def text_bytes(self) -> bytes:
        return self.event.text.encode("utf-8", errors="replace")

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(words_of(self.event.text))

    @cached_property
    def folded_word_list(self) -> list[str]:
        return words_of(self.event.text.casefold())

    @cached_property
    def folded_words(self) -> frozenset[str]:
        return frozenset(self.folded_word_list)

    @cached_property
    def phrase_text(self) -> str:
        return f" {' '.join(words_of(self.event.text))} "

    @cached_property
    def folded_phrase_text(self) -> str:
        return f" {' '.join(self.folded_word_list)} "

    @cached_property
    def matching_patterns(self) -> frozenset[int]:
        if not self._patterns.patterns:
            return frozenset()
        return self._patterns.scanner.matching(self.text_bytes, self._patterns.patterns)

    def tokens(self) -> Iterable[Token]:
        """The event's tokens (see :meth:`Predicate.needs`)."""
        event = self.event
        yield from self.folded_words
        for index in self.matching_patterns:
            yield ("p", index)
        if event.channel is not None:
            yield ("c", event.channel)
        for name, answer in event.fields.items():
            for value in (answer,) if isinstance(answer, str) else answer:
                if isinstance(value, str):
                    yield ("f", name, value.casefold())
        if event.emoji is not None:
            yield ("e", event.emoji)
        if event.requester_id is not None:
            yield ("u", event.requester_id)


class Predicate:
    """A compiled condition."""

    __slots__ = ()

    def cost(self) -> int:
        """Rough relative cost; ``all`` checks cheap parts first."""
        return 1

    def match(self, facts: Facts) -> Reasons | None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def needs(self) -> Tokens | None:
        """Tokens of which an event must have one for this to hold; None: no such test."""
        return None


class Always(Predicate):
    __slots__ = ()

    def match(self, facts: Facts) -> Reasons | None:
        return ()

    def describe(self) -> str:
        return "always"


def _listing(values: Iterable[object]) -> str:
    return " or ".join(str(value) for value in values)


_TOKEN_TAGS = {"channel": "c", "emoji": "e"}
"""Facts no action changes, which the index may use."""


class FactIn(Predicate):
    """A single fact of the event (team, channel, priority, …) is one of some values."""

    __slots__ = ("_accepted", "_attribute", "_values", "_wording")

    def __init__(self, attribute: str, values: Sequence[object], wording: str) -> None:
        self._attribute = attribute
        self._values = tuple(values)
        self._accepted = frozenset(values)
        self._wording = wording

    def needs(self) -> Tokens | None:
        tag = _TOKEN_TAGS.get(self._attribute)
        if tag is None:
            return None
        return frozenset((tag, value) for value in self._values)

    def match(self, facts: Facts) -> Reasons | None:
        value = getattr(facts.event, self._attribute)
        if value is None or value not in self._accepted:
            return None
        return (self._wording.format(value),)

    def describe(self) -> str:
        return self._wording.format(_listing(self._values))


class LabelIn(Predicate):
    __slots__ = ("_labels",)

    def __init__(self, labels: Sequence[str]) -> None:
        self._labels = tuple(labels)

    def match(self, facts: Facts) -> Reasons | None:
        found = [label for label in self._labels if label in facts.event.labels]
        return (f"labelled {', '.join(found)}",) if found else None

    def describe(self) -> str:
        return f"labelled {_listing(self._labels)}"


class Keywords(Predicate):
    """Any of some words or phrases occurs as whole words."""

    __slots__ = ("_case_sensitive", "_first_words", "_phrases", "_word_set", "_words")

    def cost(self) -> int:
        return 3

    def __init__(self, keywords: Sequence[str], *, case_sensitive: bool) -> None:
        self._case_sensitive = case_sensitive
        words: list[tuple[str, str]] = []
        phrases: list[tuple[str, str]] = []
        for keyword in keywords:
            parts = words_of(keyword if case_sensitive else keyword.casefold())
            if len(parts) == 1:
                words.append((parts[0], keyword))
            elif parts:
                phrases.append((f" {' '.join(parts)} ", keyword))
        self._words = tuple(words)
        self._word_set = frozenset(word for word, _ in words)
        self._phrases = tuple(phrases)
        # An event can only hold a keyword if it has the keyword's first (folded) word.
        first_words = [words_of(keyword.casefold())[:1] for keyword in keywords]
        self._first_words: Tokens | None = (
            frozenset(first[0] for first in first_words) if all(first_words) else None
        )

    def needs(self) -> Tokens | None:
        return self._first_words

    def match(self, facts: Facts) -> Reasons | None:
        found: list[str] = []
        if self._words:
            present = facts.words if self._case_sensitive else facts.folded_words
            if not present.isdisjoint(self._word_set):
                found += [keyword for word, keyword in self._words if word in present]
        if self._phrases:
            text = facts.phrase_text if self._case_sensitive else facts.folded_phrase_text
            found += [keyword for phrase, keyword in self._phrases if phrase in text]
        if not found:
            return None
        return (f"matched {', '.join(quoted(keyword) for keyword in found)}",)

    def describe(self) -> str:
        keywords = [keyword for _, keyword in (*self._words, *self._phrases)]
        return f"text mentions {' or '.join(quoted(keyword) for keyword in keywords)}"


class TextPattern(Predicate):
    """A regex searched in the text, or a glob the whole text matches (both on RE2)."""

    __slots__ = ("_glob", "_index", "_pattern")

    def cost(self) -> int:
        return 4

    def __init__(self, pattern: SafePattern, index: int, *, glob: bool) -> None:
        self._pattern = pattern
        self._index = index
        self._glob = glob

    def needs(self) -> Tokens | None:
        return frozenset([("p", self._index)])

    def match(self, facts: Facts) -> Reasons | None:
        if self._index not in facts.matching_patterns:
            return None
        if self._glob:
            return (f"text matches {quoted(self._pattern.source)}",)
        matched = self._pattern.search(facts.text_bytes)
        if matched is None:  # the set and the pattern alone disagree: trust the pattern
            return None
        return (f"matched {quoted(matched)}",)

    def describe(self) -> str:
        kind = "glob" if self._glob else "pattern"
        return f"text matches {kind} {quoted(self._pattern.source)}"


class FieldIn(Predicate):
    """A form field's answer is one of some values (ignoring case)."""

    __slots__ = ("_accepted", "_field", "_values")

    def cost(self) -> int:
        return 2

    def __init__(self, field: str, values: Sequence[str]) -> None:
        self._field = field
        self._values = tuple(values)
        self._accepted = frozenset(value.casefold() for value in values)

    def needs(self) -> Tokens | None:
        return frozenset(("f", self._field, value) for value in self._accepted)

    def match(self, facts: Facts) -> Reasons | None:
        answer = facts.event.fields.get(self._field)
        if answer is None:
            return None
        answers = (answer,) if isinstance(answer, str) else answer
        for value in answers:
            if isinstance(value, str) and value.casefold() in self._accepted:
                return (f"{self._field} is {quoted(value)}",)
        return None

    def describe(self) -> str:
        return f"{self._field} is {_listing(quoted(value) for value in self._values)}"


class RequesterUser(Predicate):
    __slots__ = ("_users",)

    def __init__(self, users: Sequence[str]) -> None:
        self._users = frozenset(users)

    def needs(self) -> Tokens | None:
        return frozenset(("u", user) for user in self._users)

    def match(self, facts: Facts) -> Reasons | None:
        user = facts.event.requester_id
        return (f"requester is <@{user}>",) if user in self._users else None

    def describe(self) -> str:
        return f"requester is {_listing(f'<@{user}>' for user in sorted(self._users))}"


class RequesterGroup(Predicate):
    __slots__ = ("_groups",)

    def __init__(self, groups: Sequence[str]) -> None:
        self._groups = tuple(groups)

    def match(self, facts: Facts) -> Reasons | None:
        for group in self._groups:
            if group in facts.event.requester_groups:
                return (f"requester is in {group}",)
        return None

    def describe(self) -> str:
        return f"requester is in {_listing(self._groups)}"


class RequesterDomain(Predicate):
    __slots__ = ("_domains",)

    def __init__(self, domains: Sequence[str]) -> None:
        self._domains = frozenset(domain.casefold().lstrip("@") for domain in domains)

    def match(self, facts: Facts) -> Reasons | None:
        email = facts.event.requester_email
        if not email or "@" not in email:
            return None
        domain = email.rsplit("@", 1)[1].casefold()
        return (f"requester's email is at {domain}",) if domain in self._domains else None

    def describe(self) -> str:
        return f"requester's email is at {_listing(sorted(self._domains))}"


class Hours:
    """A team's business hours, ready to check (from ``config.yaml``)."""

    __slots__ = ("days", "end", "start", "zone")

    def __init__(self, zone: str, days: Sequence[str], start: time, end: time) -> None:
        self.zone = ZoneInfo(zone)
        self.days = frozenset(_WEEKDAYS.index(day) for day in days)
        self.start = start
        self.end = end

    def open_at(self, facts: Facts) -> bool:
        local = facts.event.at.astimezone(self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end


class WithinHours(Predicate):
    """The event falls within (or outside) a team's business hours.

    With no team named, the ticket's team's hours; without a team (before a ticket exists),
    the condition does not hold either way: there are no hours to be within or outside.
    """

    __slots__ = ("_hours", "_open", "_team")

    def cost(self) -> int:
        return 2

    def __init__(self, team: str | None, *, open_: bool, hours: Mapping[str, Hours]) -> None:
        self._team = team
        self._open = open_
        self._hours = hours

    def match(self, facts: Facts) -> Reasons | None:
        team = self._team or facts.event.team
        hours = self._hours.get(team) if team is not None else None
        if hours is None or hours.open_at(facts) != self._open:
            return None
        return (f"{'within' if self._open else 'outside'} {team}'s business hours",)

    def describe(self) -> str:
        whose = f"{self._team}'s" if self._team else "the team's"
        return f"{'within' if self._open else 'outside'} {whose} business hours"


class AllOf(Predicate):
    """Every part holds. The cheap parts are tried first; the reasons come in the parts' own
    order (for a conditions mapping: the schema's order of keys, channel first)."""

    __slots__ = ("_by_cost", "_parts")

    def __init__(self, parts: Sequence[Predicate]) -> None:
        self._parts = tuple(parts)
        self._by_cost = tuple(sorted(enumerate(self._parts), key=lambda indexed: indexed[1].cost()))

    def cost(self) -> int:
        return sum(part.cost() for part in self._parts)

    def match(self, facts: Facts) -> Reasons | None:
        found: list[tuple[int, Reasons]] = []
        for index, part in self._by_cost:
            reasons = part.match(facts)
            if reasons is None:
                return None
            found.append((index, reasons))
        found.sort(key=lambda pair: pair[0])
        return tuple(reason for _, reasons in found for reason in reasons)

    def describe(self) -> str:
        return " and ".join(part.describe() for part in self._parts) or "always"

    def needs(self) -> Tokens | None:
        """The most telling part's tokens: any but a channel's, which many events share."""
        found = [tokens for tokens in (part.needs() for part in self._parts) if tokens]
        telling = [tokens for tokens in found if not all(_is_channel(t) for t in tokens)]
        chosen = telling or found
        return min(chosen, key=len) if chosen else None


class AnyOf(Predicate):
    """At least one part holds; the reasons are those of the first that does."""

    __slots__ = ("_parts",)

    def __init__(self, parts: Sequence[Predicate]) -> None:
        self._parts = tuple(parts)

    def cost(self) -> int:
        return sum(part.cost() for part in self._parts)

    def match(self, facts: Facts) -> Reasons | None:
        for part in self._parts:
            reasons = part.match(facts)
            if reasons is not None:
                return reasons
        return None

    def describe(self) -> str:
        return "(" + " or ".join(part.describe() for part in self._parts) + ")"

    def needs(self) -> Tokens | None:
        union: set[Token] = set()
        for part in self._parts:
            tokens = part.needs()
            if tokens is None:
                return None
            union |= tokens
        return frozenset(union)


class NoneOf(Predicate):
    """``not``: the inner condition does not hold."""

    __slots__ = ("_inner", "_reasons")

    def __init__(self, inner: Predicate) -> None:
        self._inner = inner
        self._reasons = (f"not ({inner.describe()})",)

    def cost(self) -> int:
        return self._inner.cost()

    def match(self, facts: Facts) -> Reasons | None:
        return None if self._inner.match(facts) is not None else self._reasons

    def describe(self) -> str:
        return self._reasons[0]


def _is_channel(token: Token) -> bool:
    return isinstance(token, tuple) and token[:1] == ("c",)
