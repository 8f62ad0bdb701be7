"""Slack mrkdwn (as message events carry it) to Jira wiki markup.

Written by hand: no library converts mrkdwn to Jira markup. It follows Slack's documented
formatting (https://api.slack.com/reference/surfaces/formatting):

* blocks: ```` ```pre``` ```` -> ``{noformat}`` on lines of its own (Slack's code blocks have no
  language, and ``{code}`` would highlight them as Java); ``>`` quote lines -> ``bq.`` (one
  line) or ``{quote}`` (several; ``>>>`` quotes the rest); ``•``/``◦``/``-``/``*`` and
  ``1.``/``1)`` lines -> ``*``/``#`` lists, nested by indentation;
* inline: ``*bold*``, ``_italic_``, ``~strike~`` -> ``*bold*``, ``_italic_``, ``-strike-``
  where Slack would format them (a marker opens after a non-word character and closes before
  one); `` `code` `` -> ``{{code}}``; ``<url|label>`` -> ``[label|url]`` (http, https, mailto);
  ``<@U…>``, ``<#C…>``, ``<!here>``, ``<!subteam^…|@team>`` -> plain ``@Name``, ``#channel``,
  ``@here``, ``@team`` text, never a Jira mention;
* everything else is text: Slack's ``&amp; &lt; &gt;`` are undone and the text escaped for
  Jira (:func:`~jira_sync.markup_jira_text.escape_jira`).
"""

from __future__ import annotations

import itertools
import re

from jira_sync.markup_slack_inline import (
    ANGLE,
    NameLookup,
    Names,
    angle_as_text,
    inline_to_jira,
    unescape_slack,
)

_QUOTE_REST = re.compile(r"(?:&gt;|>){3} ?")
"""``>>>``: Slack quotes everything after it."""
_QUOTE_LINE = re.compile(r"(?:&gt;|>) ?")
_BULLETS = "\u2022\u25e6\u25aa\u25ab\u2023\u2043\u2219*-"
"""Bullets people and Slack's editor put before a list item (•, ◦, ▪ and the like), ``*``, ``-``."""
_LIST_ITEM = re.compile(
    rf"(?P<indent>[ \t]*)(?P<marker>[{_BULLETS}]|\d{{1,3}}[.)])[ \t]+(?P<body>.*)"
)
_PRE = "```"
_NOFORMAT = re.compile(r"\{noformat\}", re.IGNORECASE)


def _no_name(_: str) -> str | None:
    return None


def slack_to_jira(
    text: str, *, user_name: NameLookup = _no_name, channel_name: NameLookup = _no_name
) -> str:
    """Jira wiki markup for Slack message ``text``: formatting kept, everything else literal.

    ``user_name`` and ``channel_name`` resolve ``<@U…>`` and ``<#C…>``; without an answer the
    label Slack sent (``<@U1|ann>``) or else the id is shown.
    """
    names = Names(user_name, channel_name)
    out = ""
    after_block = False
    for is_code, segment in _split_pre(text.replace("\r\n", "\n")):
        if is_code:
            if out and not out.endswith("\n"):  # a code block starts a line in Jira
                out = out.rstrip(" \t") + "\n"
            out += _noformat(segment, names)
        else:
            if after_block and segment and not segment.startswith("\n"):
                out += "\n"
            out += _lines(segment.split("\n"), names, quotes=True)
        after_block = is_code
    return out


# -- blocks ------------------------------------------------------------------------------------


def _split_pre(text: str) -> list[tuple[bool, str]]:
    """``(is_code, text)`` pieces: each ```` ```…``` ```` pair is code; an unpaired one is text."""
    pieces: list[tuple[bool, str]] = []
    position = 0
    while True:
        start = text.find(_PRE, position)
        end = text.find(_PRE, start + len(_PRE)) if start >= 0 else -1
        if start < 0 or end < 0:
            pieces.append((False, text[position:]))
            return pieces
        pieces.append((False, text[position:start]))
        pieces.append((True, text[start + len(_PRE) : end]))
        position = end + len(_PRE)


def _noformat(code: str, names: Names) -> str:
    if code.startswith("\n"):
        code = code[1:]
    if code.endswith("\n"):
        code = code[:-1]
    pieces = ANGLE.split(code)  # text, construct body, text, …
    plain = "".join(
        angle_as_text(piece, names) if odd else unescape_slack(piece)
        for odd, piece in zip(itertools.cycle((False, True)), pieces, strict=False)
    )
    # {noformat} would end the block early; a ZERO WIDTH SPACE keeps it from being one.
    return "{noformat}\n" + _NOFORMAT.sub("{noformat\u200b}", plain) + "\n{noformat}"


def _lines(lines: list[str], names: Names, *, quotes: bool) -> str:
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if quotes and _QUOTE_LINE.match(line):
            index = _quote(lines, index, names, out)
            continue
        if _LIST_ITEM.fullmatch(line):
            end = index
            while end < len(lines) and _LIST_ITEM.fullmatch(lines[end]):
                end += 1
            out.extend(_list(lines[index:end], names))
            index = end
            continue
        out.append(inline_to_jira(line, names, line_start=True))
        index += 1
    return "\n".join(out)


def _quote(lines: list[str], index: int, names: Names, out: list[str]) -> int:
    """Render the quote starting at ``lines[index]``; return the index after it."""
    quoted: list[str] = []
    end = index
    while end < len(lines):
        rest = _QUOTE_REST.match(lines[end])
        if rest is not None:
            quoted.append(lines[end][rest.end() :])
            quoted.extend(lines[end + 1 :])
            end = len(lines)
            break
        marker = _QUOTE_LINE.match(lines[end])
        if marker is None:
            break
        quoted.append(lines[end][marker.end() :])
        end += 1
    inner = _lines(quoted, names, quotes=False)
    if len(quoted) == 1 and not _LIST_ITEM.fullmatch(quoted[0]):
        out.append("bq. " + inner)
    else:
        out.append("{quote}\n" + inner + "\n{quote}")
    return end


def _list(lines: list[str], names: Names) -> list[str]:
    """List lines as Jira items: one marker per level, ``#`` for numbered, ``*`` for bullets."""
    levels: list[tuple[int, str]] = []  # (indent width, "#" or "*")
    out: list[str] = []
    for line in lines:
        item = _LIST_ITEM.fullmatch(line)
        assert item is not None
        indent = len(item.group("indent").expandtabs(4))
        kind = "#" if item.group("marker")[0].isdigit() else "*"
        while levels and indent < levels[-1][0]:
            levels.pop()
        if levels and indent == levels[-1][0]:
            levels[-1] = (indent, kind)
        else:
            levels.append((indent, kind))
        markers = "".join(level_kind for _, level_kind in levels)
        body = inline_to_jira(item.group("body"), names, line_start=False)
        out.append(f"{markers} {body}".rstrip())
    return out
