"""Jira wiki markup to Markdown: jira2markdown's grammar, with a few elements of ours.

jira2markdown (a pyparsing grammar that passes its own test suite) knows Jira's many inline
rules. What we change, and why:

* the author's ``&``, ``<``, ``>`` and ``](`` are hidden from Markdown before the grammar
  runs (:func:`~jira_sync.markup_mrkdwn.hide_from_markdown`): they mean nothing in Jira, and
  Markdown would read ``<https://evil|ok>`` or ``[ok](https://evil)`` as links;
* block macros (``{code}``, ``{noformat}``, ``{quote}``, ``{panel}``) written in the middle of
  a line are moved to a line of their own, as Jira shows them: a Markdown fence or quote only
  works there;
* mentions: jira2markdown's element only knows names of letters, digits, ``:`` and ``-``
  and ignores an alias; ours also takes Server user names such as ``john.doe``, asks a lookup
  for the display name (else shows the alias, else the id), and Markdown-escapes the name it
  writes (a display name is text a Jira user chose);
* Jira Cloud's smart links (``[title|url|smart-link]``) lose their display option;
* a line of nothing but ``|`` is text (jira2markdown's table element fails on it);
* a code block holding a line of backticks gets a longer fence, so it stays one block.

Speed. Building the grammar costs far more than parsing a typical comment (about 80 ms
against a few), so each thread builds it once and reuses it; the only state it keeps between
parses, the list indentation, is reset before each one. Scanning, the grammar tries its 28
elements at every position; a guard lets it try them only where one could start (a line
start or a markup character), which makes long prose about twenty times faster. Some inputs
still take the grammar quadratic time or worse (a comment of 8,000 ``[`` takes minutes), so
a parse has a time budget: past it, :class:`MarkupTooSlowError`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import jira2markdown.parser  # noqa: F401 (sets pyparsing's default whitespace, as the grammar needs)
from jira2markdown.elements import MarkupElements
from jira2markdown.markup.advanced import Code, Noformat
from jira2markdown.markup.base import AbstractMarkup
from jira2markdown.markup.links import Link, Mention
from jira2markdown.markup.lists import ListIndentState, OrderedList, UnorderedList
from jira2markdown.markup.tables import Table
from pyparsing import Forward, ParseException, ParserElement, ParseResults, Regex, Token

from jira_sync.markup_mrkdwn import hide_from_markdown

NameLookup = Callable[[str], str | None]
"""A Jira account id or user name -> the person's display name, or ``None`` if unknown."""

TIME_BUDGET = 5.0
"""Seconds one conversion may take; a 32,000-character comment of prose takes well under one."""


class MarkupTooSlowError(Exception):
    """The grammar ran out of its time budget on this text."""


_BLOCK_MACRO = re.compile(
    r"\{(code|noformat|quote|panel)(?::[^}\n]*)?\}.*?\{\1\}", re.DOTALL | re.IGNORECASE
)
_LIST_MARKERS = re.compile(r"\s*[*#-]+\s+")
_SMART_LINK_OPTIONS = frozenset({"smart-link", "smart-card", "smart-embed"})
_MENTION = re.compile(
    r"\[(?:(?P<alias>[^\]|\n]*)\|)?~(?:accountid:)?(?P<key>[^\]\s|\[]+)\]", re.IGNORECASE
)
_COULD_START_MARKUP = re.compile(r"(?<![^\n])|[-*+?^~{\[!|\\]|(?i:https?|ftp)://")
"""Where any of jira2markdown's elements can begin: a line start or one of these characters."""
_MARKDOWN_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]()<>&~!#|])")


def jira_to_markdown(
    text: str, *, user_name: NameLookup | None = None, time_budget: float | None = None
) -> str:
    """Markdown for Jira wiki markup ``text``, the author's ``&<>`` and ``](`` hidden.

    Raises :class:`MarkupTooSlowError` past ``time_budget`` seconds (:data:`TIME_BUDGET`
    unless given).
    """
    budget = TIME_BUDGET if time_budget is None else time_budget
    grammar = getattr(_PER_THREAD, "grammar", None)
    if grammar is None:
        grammar = _PER_THREAD.grammar = _Grammar()
    jira = hide_from_markdown(_block_macros_on_own_lines(text))
    return grammar.convert(jira, user_name, deadline=time.monotonic() + budget)


def _block_macros_on_own_lines(text: str) -> str:
    """A line break before and after each block macro that shares a line with other text.

    A macro after list markers (``* {quote}``) stays: that is a quote inside a list item.
    """
    out: list[str] = []
    start = 0
    for match in _BLOCK_MACRO.finditer(text):
        out.append(text[start : match.start()])
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start : match.start()]
        if before.strip() and not _LIST_MARKERS.fullmatch(before):
            out.append("\n")
        out.append(match.group())
        if text[match.end() : match.end() + 1] not in ("", "\n"):
            out.append("\n")
        start = match.end()
    out.append(text[start:])
    return "".join(out)


class _Grammar:
    """jira2markdown's grammar built once; it is also the ``usernames`` its elements consult."""

    def __init__(self) -> None:
        self.lookup: NameLookup | None = None
        self.deadline = 0.0
        self.list_states: list[ListIndentState] = []
        elements = MarkupElements()
        for theirs, ours in (
            (Mention, _Mention),
            (Link, _Link),
            (Table, _Table),
            (UnorderedList, _UnorderedList),
            (OrderedList, _OrderedList),
            (Code, _Code),
            (Noformat, _Noformat),
        ):
            elements.replace(theirs, ours)
        inline, markup = Forward(), Forward()
        inline_elements = [e for e in elements if e.is_inline_element]
        inline <<= _Guard(self) + elements.expr(inline, markup, self, inline_elements)
        markup <<= _Guard(self) + elements.expr(inline, markup, self, elements)
        self.markup = markup

    def get(self, key: str) -> str | None:
        """The display name for an account id or user name (what ``usernames.get`` does)."""
        return self.lookup(key) if self.lookup is not None else None

    def convert(self, text: str, lookup: NameLookup | None, *, deadline: float) -> str:
        self.lookup = lookup
        self.deadline = deadline
        for state in self.list_states:
            state.reset()
        try:
            return str(self.markup.transform_string(text))
        finally:
            self.lookup = None


_PER_THREAD = threading.local()


class _Guard(Token):
    """Matches nothing, where an element could start; elsewhere fails at once.

    Every scan position passes through it, which also makes it the place to keep the time
    budget: :class:`MarkupTooSlowError` is not a parse failure, so it ends the whole parse.
    """

    def __init__(self, grammar: _Grammar) -> None:
        super().__init__()
        self.grammar = grammar
        self.mayReturnEmpty = True
        self.mayIndexError = False

    def parseImpl(  # noqa: N802 (pyparsing's name)
        self, instring: str, loc: int, do_actions: bool = True
    ) -> tuple[int, list[str]]:
        if time.monotonic() > self.grammar.deadline:
            raise MarkupTooSlowError
        if _COULD_START_MARKUP.match(instring, loc) is None:
            raise ParseException(instring, loc, "no markup can start here", self)
        return loc, []


def _grammar_of(element: AbstractMarkup) -> _Grammar:
    grammar: Any = element.usernames
    assert isinstance(grammar, _Grammar)
    return grammar


class _UnorderedList(UnorderedList):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _grammar_of(self).list_states.append(self.indent_state)


class _OrderedList(OrderedList):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _grammar_of(self).list_states.append(self.indent_state)


class _Mention(AbstractMarkup):  # type: ignore[misc]
    """``[~accountid:…]``, ``[~user.name]`` and ``[Alias|~user]`` -> ``@Display Name``.

    The name is the lookup's answer, else the alias, else the id or user name.

    Like jira2markdown's element, it adds a space where the mention would run into a word
    (``[~ann]text`` -> ``@ann text``).
    """

    def action(self, source: str, location: int, tokens: ParseResults) -> str:
        whole = str(tokens[0])
        key = str(tokens["key"])
        alias = str(tokens["alias"] or "").strip() if "alias" in tokens else ""
        name = _grammar_of(self).get(key) or alias or key
        before = source[location - 1 : location]
        after = source[location + len(whole) : location + len(whole) + 1]
        text = "@" + _MARKDOWN_INLINE_SPECIALS.sub(r"\\\1", name)
        if before.isalnum():
            text = " " + text
        if after.isalnum() or after == "[":
            text += " "
        return text

    @property
    def expr(self) -> ParserElement:
        return Regex(_MENTION).set_parse_action(self.action)


class _Link(Link):  # type: ignore[misc]
    """jira2markdown's link, without Jira Cloud's ``|smart-link`` display option."""

    def action(self, tokens: ParseResults) -> str:
        head, bar, option = str(tokens.url).rpartition("|")
        if bar and option.strip().lower() in _SMART_LINK_OPTIONS:
            tokens["url"] = head
        return str(super().action(tokens))


class _Table(Table):  # type: ignore[misc]
    """jira2markdown's table, which fails on rows with no cells at all (a line of ``|``)."""

    def action(self, tokens: ParseResults) -> str:
        if not any(len(row) for row in tokens):
            return "\\|\n" * len(tokens)
        return str(super().action(tokens))


def _fenced(text: str, info: str = "") -> str:
    """``text`` in a Markdown fence longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


class _Code(Code):  # type: ignore[misc]
    def action(self, tokens: ParseResults) -> str:
        return _fenced(str(tokens.text).strip("\n"), str(tokens.lang or "Java"))


class _Noformat(Noformat):  # type: ignore[misc]
    def action(self, tokens: ParseResults) -> str:
        return _fenced(str(tokens.text).strip("\n"))
