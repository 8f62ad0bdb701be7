"""Plain text as Jira wiki markup that Jira shows literally.

Jira's renderer takes ``\\`` before ``! [ ] ^ ~ + ? % { } ( ) * _ - | @ #`` as "this character,
literally", renders HTML entities (``&#104;`` is ``h``), and reads a lot of ordinary text as
markup: ``*``/``_``/``-``/``+``/``^``/``~``/``??`` around words, ``{macros}``, ``[links]``,
``!images!``, ``|tables|``, ``h1.``/``bq.``/``* ``/``# ``/``- `` at a line start, ``----``,
``--``/``---`` (dashes), ``\\\\`` (a line break), emoticons such as ``:)`` or ``(y)``.
:func:`escape_jira` escapes exactly what could be read as markup where it stands, so that
``i-use-dashes`` or ``snake_case`` stay readable in the Jira source.

Written by hand: no library writes Jira wiki markup from plain text.
"""

from __future__ import annotations

import re

ESCAPABLE = frozenset("![]^~+?%{}()*_-|@#")
"""What Jira's renderer un-escapes after a backslash."""

_PHRASE_MARKERS = frozenset("*_-+^~")
_ALWAYS = frozenset("{}[]|")
_ENTITY = re.compile(r"&(?:#[0-9]{1,10}|[A-Za-z]{1,10});")
_LINE_START_WORD = re.compile(r"[ \t]*(h[1-6]\.|bq\.)")
_LINE_START_MARKERS = re.compile(r"[ \t]*([*#-])[*#-]*(?:[ \t]|$)")
# Jira's emoticons: :) :( ;) :P :D and (y) (n) (i) (/) (x) (!) (+) (-) (?) (on) (off) (*) ….
_EMOTICON = re.compile(
    r"[:;][()]|:[PpDd](?![A-Za-z0-9])|\((?:y|n|i|/|x|!|\+|-|\?|on|off|\*[rgby]?|flag|flagoff)\)"
)
_BACKSLASH_ENTITY = "&#92;"


def escape_jira(text: str, *, before: str = "", after: str = "", line_start: bool = False) -> str:
    """``text`` as Jira wiki markup that shows it literally.

    ``before`` and ``after`` are the characters around ``text`` in the line (``""`` at the
    line's edges): whether ``*`` or ``-`` could start or end a phrase depends on them.
    ``line_start`` says ``text`` begins a line, where ``h1.``, ``bq.`` and list markers count.
    """
    context = before[-1:] + text + after[:1]
    offset = len(before[-1:])
    special = _special_positions(text, line_start=line_start)
    out: list[str] = []
    for index, char in enumerate(text):
        previous = context[offset + index - 1] if offset + index > 0 else ""
        following = context[offset + index + 1 : offset + index + 2]
        if index in special:
            out.append(special[index])
        elif char == "\\":
            out.append(_backslash(following))
        elif char == "&" and _ENTITY.match(text, index):
            out.append("&amp;")
        elif _needs_backslash(char, previous, following):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _special_positions(text: str, *, line_start: bool) -> dict[int, str]:
    """Escapes decided by a pattern rather than by one character and its neighbours."""
    special: dict[int, str] = {}
    for match in _EMOTICON.finditer(text):
        index = match.start() + 1 if text[match.start()] in ":;" else match.start()
        char = text[index]
        special[index] = "\\" + char if char in ESCAPABLE else f"&#{ord(char)};"
    if line_start:
        word = _LINE_START_WORD.match(text)
        if word:
            special[word.start(1)] = f"&#{ord(text[word.start(1)])};"
        marker = _LINE_START_MARKERS.match(text)
        if marker:
            special[marker.start(1)] = "\\" + marker.group(1)
    return special


def _backslash(following: str) -> str:
    """A literal backslash: as is, unless it would escape what follows or make ``\\\\``."""
    if following == "" or following == "\\" or following in ESCAPABLE:
        return _BACKSLASH_ENTITY
    return "\\"


def _needs_backslash(char: str, previous: str, following: str) -> bool:
    if char in _ALWAYS:
        return True
    if char == "?":
        return "?" in (previous, following)
    if char == "!":
        return following != "" and not following.isspace()
    if char in _PHRASE_MARKERS:
        could_open = not previous.isalnum() and following != "" and not following.isspace()
        could_close = previous != "" and not previous.isspace() and not following.isalnum()
        return could_open or could_close
    return False
