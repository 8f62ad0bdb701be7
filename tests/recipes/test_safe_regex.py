"""Text patterns run on RE2 (no backtracking); what RE2 cannot run linearly is refused."""

from __future__ import annotations

import re

import pytest
import re2  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from deskhand.config import Config
from recipes.conditions import TextPattern
from recipes.loader import parse_recipes
from recipes.safe_regex import (
    ENGINE,
    PatternError,
    PatternSet,
    compile_glob,
    compile_regex,
    glob_to_re2,
)

EVIL = [r"(a+)+$", r"(a|aa)+$", r"(.*a){20}$", r"^(\w+\s?)*$", r"(x+x+)+y"]
"""Classic patterns that backtrack exponentially (or worse) on Python's re."""


@pytest.mark.parametrize("pattern", EVIL)
def test_evil_patterns_run_on_the_linear_engine(pattern: str) -> None:
    compiled = compile_regex(pattern)
    assert ENGINE == "re2"
    assert compiled.engine == "re2"
    assert isinstance(compiled.compiled, re2._Regexp)
    assert not isinstance(compiled.compiled, re.Pattern)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"(a+)+$", "a" * 40 + "!", None),
        (r"(a+)+$", "a" * 40, "a" * 40),
        (r"(a|aa)+$", "a" * 40 + "b", None),
        (r"(.*a){20}$", "a" * 19 + "b", None),
        (r"(.*a){20}$", "a" * 20, "a" * 20),
        (r"(x+x+)+y", "x" * 40, None),
    ],
)
def test_evil_patterns_still_mean_what_they_say(
    pattern: str, text: str, expected: str | None
) -> None:
    assert compile_regex(pattern).search(text.encode()) == expected


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a+)+\1", "backreferences can backtrack catastrophically"),
        (r"(\w+)\s\1", "backreferences can backtrack catastrophically"),
        (r"(?=(a+))a", "look-around can backtrack catastrophically"),
        (r"(?<=x)a", "look-around can backtrack catastrophically"),
        (r"(?!a)b", "look-around can backtrack catastrophically"),
        (r"((a{100}){100}){100}", "at most 1000 in all"),
        (r"[\p{L}\p{N}]{1000}", "more than the memory budget"),
        (r"(", "missing )"),
    ],
)
def test_what_needs_backtracking_is_refused(pattern: str, why: str) -> None:
    with pytest.raises(PatternError, match=re.escape(why)):
        compile_regex(pattern)


def test_a_recipe_with_an_evil_pattern_loads_onto_re2(config: Config) -> None:
    recipes = parse_recipes(
        "recipes:\n  - name: evil\n    trigger: ticket.created\n"
        "    conditions: {text: {regex: '(a+)+$'}}\n    stop: true\n",
        config,
    )
    (pattern,) = recipes.patterns.patterns
    assert pattern.engine == "re2"
    assert isinstance(recipes.get("evil").condition, TextPattern)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("*pass*reset*", r"\A(?s:.*)pass(?s:.*)reset(?s:.*)\z"),
        ("a?c", r"\Aa(?s:.)c\z"),
        ("[!x]y", r"\A[^x]y\z"),
        ("file.txt", r"\Afile\.txt\z"),
        ("**", r"\A(?s:.*)\z"),
        ("a[b", r"\Aa\[b\z"),
    ],
)
def test_globs_translate_to_anchored_re2(glob: str, expected: str) -> None:
    assert glob_to_re2(glob) == expected


def test_globs_match_the_whole_text() -> None:
    glob = compile_glob("*vpn*")
    assert glob.search(b"my VPN\nis down") is not None
    assert compile_glob("vpn*").search(b"my vpn") is None
    assert compile_glob("vpn*", case_sensitive=True).search(b"VPN down") is None


WORDS = st.sampled_from(["vpn", "VPN", "pay", "slip", "a", "aa", "b", "é", "\n", " ", "-", "x"])
TEXTS = st.lists(WORDS, max_size=12).map("".join)
PATTERNS = [
    compile_regex(r"\bvpn\b"),
    compile_regex(r"(a|aa)+b", case_sensitive=True),
    compile_regex(r"pay\s*slip"),
    compile_glob("*é*"),
    compile_glob("x*", case_sensitive=True),
]


@given(TEXTS)
def test_one_pass_over_all_patterns_agrees_with_each_alone(text: str) -> None:
    scanner = PatternSet(PATTERNS)
    assert scanner.one_pass
    data = text.encode()
    alone = {index for index, pattern in enumerate(PATTERNS) if pattern.search(data) is not None}
    assert scanner.matching(data, PATTERNS) == alone


def test_patterns_over_the_set_budget_still_run_on_re2_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import recipes.safe_regex

    monkeypatch.setattr(recipes.safe_regex, "MAX_PROGRAM_MEMORY", 1024)
    scanner = PatternSet(PATTERNS)
    assert not scanner.one_pass
    text = b"my VPN pay slip aab"
    assert scanner.matching(text, PATTERNS) == {0, 1, 2}
    assert PatternSet(PATTERNS[:1]).matching(b"nothing here", PATTERNS[:1]) == set()
