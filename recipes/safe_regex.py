"""Text patterns of recipes, run on RE2: matching time is linear in the text, whatever the
pattern.

Python's ``re`` backtracks, so a pattern such as ``(a+)+$`` can take exponential time on a
short hostile message, and a static "is this pattern evil?" check can only ever be a
heuristic. RE2 (Google's engine, through the ``google-re2`` bindings) compiles every pattern
to an automaton instead and has no backtracking at all. What it cannot run in linear time it
does not support: backreferences and look-around are rejected when the file is loaded, as are
patterns whose automaton would exceed the memory budget.

Globs are translated to RE2 here (``fnmatch.translate`` emits look-ahead and backreferences,
which RE2 does not have).

Every pattern of a recipe set also goes into one ``re2.Set``, so an event's text is scanned
once for all of them (see :class:`PatternSet`); a recipe then only re-runs its own pattern to
say what matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

ENGINE = "re2"
"""The engine text patterns run on; tests assert on it."""

MAX_PROGRAM_MEMORY = 1 << 20
"""Memory budget of one compiled pattern (bytes). A pattern over it is refused at load."""


class PatternError(ValueError):
    """A pattern that cannot be used; the message says why, for the person who wrote it."""


def _options(*, case_sensitive: bool) -> Any:
    options = re2.Options()
    options.log_errors = False  # errors are reported with their file and line, not on stderr
    options.case_sensitive = case_sensitive
    options.max_mem = MAX_PROGRAM_MEMORY
    options.dot_nl = False
    return options


@dataclass(frozen=True)
class SafePattern:
    """A compiled pattern; ``search`` runs in time linear in the text."""

    source: str
    """The pattern as written in the recipe (a regex, or a glob before translation)."""
    expression: str
    """The RE2 expression actually run."""
    case_sensitive: bool
    compiled: Any

    engine: str = ENGINE

    def search(self, text: bytes) -> str | None:
        """The matched text (decoded), or None. ``text`` is UTF-8 (encode once per event)."""
        match = self.compiled.search(text)
        if match is None:
            return None
        matched: bytes = match.group(0)
        return matched.decode("utf-8", errors="replace")


def compile_regex(pattern: str, *, case_sensitive: bool = False) -> SafePattern:
    """Compile a recipe's regex on RE2; PatternError when RE2 cannot run it in linear time."""
    return _compile(pattern, pattern, case_sensitive=case_sensitive)


def compile_glob(pattern: str, *, case_sensitive: bool = False) -> SafePattern:
    """A shell-style pattern matched against the whole text: ``*``, ``?``, ``[...]``."""
    return _compile(pattern, glob_to_re2(pattern), case_sensitive=case_sensitive)


def _compile(source: str, expression: str, *, case_sensitive: bool) -> SafePattern:
    try:
        compiled = re2.compile(expression, _options(case_sensitive=case_sensitive))
    except re2.error as exc:
        raise PatternError(_explain(exc)) from None
    return SafePattern(source, expression, case_sensitive, compiled)


def _explain(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else str(exc)
    detail = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    if "invalid escape sequence: \\" in detail and detail[-1:].isdigit():
        return f"{detail}: backreferences can backtrack catastrophically and are not supported"
    if "invalid perl operator: (?<" in detail or "invalid perl operator: (?=" in detail:
        return f"{detail}: look-around can backtrack catastrophically and is not supported"
    if "invalid perl operator: (?!" in detail:
        return f"{detail}: look-around can backtrack catastrophically and is not supported"
    if "pattern too large" in detail:
        return f"{detail}: the pattern needs more than the memory budget of a linear-time match"
    if "invalid repetition size" in detail:
        return f"{detail}: counts are {{min,max}} with min <= max, and at most 1000 in all"
    return detail


def glob_to_re2(pattern: str) -> str:
    """Translate a glob to an RE2 expression anchored at both ends of the text.

    Written here because ``fnmatch.translate`` targets Python's ``re`` (it emits look-ahead
    and backreferences to keep ``*`` from backtracking, which RE2 needs no help with).
    """
    out: list[str] = []
    index, length = 0, len(pattern)
    while index < length:
        char = pattern[index]
        index += 1
        if char == "*":
            if not out or out[-1] != "(?s:.*)":
                out.append("(?s:.*)")
        elif char == "?":
            out.append("(?s:.)")
        elif char == "[":
            end = index
            if end < length and pattern[end] in "!^":
                end += 1
            if end < length and pattern[end] == "]":
                end += 1
            while end < length and pattern[end] != "]":
                end += 1
            if end >= length:
                out.append(re2.escape("["))
                continue
            body = pattern[index:end]
            index = end + 1
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
            out.append(f"[{'^' if negate else ''}{body}]")
        else:
            out.append(re2.escape(char))
    return "\\A" + "".join(out) + "\\z"


class PatternSet:
    """All the patterns of a recipe set, scanned in one pass over a text.

    ``matching(text)`` gives the indexes of the patterns that match; a recipe's pattern is then
    run alone only when it is in that set (to say what it matched). RE2 sets are compiled with
    one option set, so case-insensitive patterns carry ``(?i)`` instead.
    """

    def __init__(self, patterns: Sequence[SafePattern]) -> None:
        self._set: Any = None
        if not patterns:
            return
        options = _options(case_sensitive=True)
        options.max_mem = max(MAX_PROGRAM_MEMORY, MAX_PROGRAM_MEMORY * len(patterns) // 8)
        built = re2.Set.SearchSet(options)
        try:
            for pattern in patterns:
                flags = "" if pattern.case_sensitive else "(?i)"
                built.Add(f"{flags}(?:{pattern.expression})")
            built.Compile()
        except re2.error:
            return  # over the set's memory budget: each pattern will run alone
        self._set = built

    @property
    def one_pass(self) -> bool:
        """Whether the patterns run as one set (else each alone, still on RE2)."""
        return self._set is not None

    def matching(self, text: bytes, patterns: Sequence[SafePattern]) -> frozenset[int]:
        """Indexes (into the patterns given at construction) of those that match ``text``."""
        if self._set is not None:
            found = self._set.Match(text)  # None when nothing matches
            return frozenset(found) if found else frozenset()
        return frozenset(
            index for index, pattern in enumerate(patterns) if pattern.compiled.search(text)
        )
