"""One line of Slack mrkdwn as Jira wiki markup: phrases, code spans and ``<…>`` constructs.

A phrase marker (``*``, ``_``, ``~``) opens where Slack would open it (after a non-word
character, before a non-space) and closes at the first marker that can close it (after a
non-space, before a non-word character), on the same line; phrases of different markers nest,
as in Slack. Code spans and ``<…>`` constructs are atoms that no phrase reaches into.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from jira_sync.markup_jira_text import escape_jira

NameLookup = Callable[[str], str | None]
"""A Slack user or channel id -> its display name, or ``None`` if unknown."""

ANGLE = re.compile(r"<([^<>\n]+)>")
"""Slack's ``<…>`` constructs: links, mentions, broadcasts (a typed ``<`` arrives as ``&lt;``)."""
_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
_JIRA_PHRASE = {"*": "*", "_": "_", "~": "-"}
_JIRA_LINK_SCHEMES = ("http://", "https://", "mailto:")
_URL_UNSAFE_IN_JIRA = re.compile(r"[\s\[\]|{}<>\"]")


def _no_name(_: str) -> str | None:
    return None


@dataclass(frozen=True)
class Names:
    """Who ``<@U…>`` and ``<#C…>`` are."""

    user: NameLookup = _no_name
    channel: NameLookup = _no_name


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` in message text."""
    return _SLACK_ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def inline_to_jira(line: str, names: Names, *, line_start: bool) -> str:
    """One line of mrkdwn as Jira markup; ``line_start``: it begins a line in the output too."""
    return _Inline(line, names).render(line_start=line_start)


@dataclass(frozen=True)
class _Atom:
    """A piece that formatting never reaches into: a code span or a ``<…>`` construct."""

    start: int
    end: int
    kind: str  # "code" or "angle"


class _Inline:
    """One line of mrkdwn, rendered as Jira markup."""

    def __init__(self, line: str, names: Names) -> None:
        self.line = line
        self.names = names
        self.atoms = {atom.start: atom for atom in _atoms(line)}
        inside = {i for atom in self.atoms.values() for i in range(atom.start, atom.end)}
        self.closers = {
            marker: [
                i
                for i, char in enumerate(line)
                if char == marker and i not in inside and self._can_close(i)
            ]
            for marker in _JIRA_PHRASE
        }

    def render(self, *, line_start: bool) -> str:
        return self._render(0, len(self.line), frozenset(), line_start=line_start)

    def _render(self, start: int, end: int, active: frozenset[str], *, line_start: bool) -> str:
        out: list[str] = []
        text_start = index = start
        while index < end:
            atom = self.atoms.get(index)
            if atom is not None and atom.end <= end:
                out.append(self._text(text_start, index, line_start=line_start))
                out.append(self._atom(atom))
                index = text_start = atom.end
                continue
            char = self.line[index]
            closer = self._closer(char, index, end) if char not in active else None
            if closer is not None:
                out.append(self._text(text_start, index, line_start=line_start))
                inner = self._render(index + 1, closer, active | {char}, line_start=False)
                out.append(_JIRA_PHRASE[char] + inner + _JIRA_PHRASE[char])
                index = text_start = closer + 1
                continue
            index += 1
        out.append(self._text(text_start, end, line_start=line_start))
        return "".join(out)

    def _can_open(self, index: int) -> bool:
        before = self.line[index - 1] if index > 0 else ""
        after = self.line[index + 1 : index + 2]
        return not before.isalnum() and after != "" and not after.isspace()

    def _can_close(self, index: int) -> bool:
        before = self.line[index - 1] if index > 0 else ""
        after = self.line[index + 1 : index + 2]
        return before != "" and not before.isspace() and not after.isalnum()

    def _closer(self, char: str, index: int, end: int) -> int | None:
        """Where the phrase opened by ``char`` at ``index`` closes (before ``end``), if it does."""
        if char not in _JIRA_PHRASE or not self._can_open(index):
            return None
        candidates = self.closers[char]
        found = bisect.bisect_left(candidates, index + 2)
        if found < len(candidates) and candidates[found] < end:
            return candidates[found]
        return None

    def _text(self, start: int, end: int, *, line_start: bool) -> str:
        if start >= end:
            return ""
        return escape_jira(
            unescape_slack(self.line[start:end]),
            before=self.line[start - 1] if start > 0 else "",
            after=self.line[end : end + 1],
            line_start=line_start and start == 0,
        )

    def _atom(self, atom: _Atom) -> str:
        before = self.line[atom.start - 1] if atom.start > 0 else ""
        after = self.line[atom.end : atom.end + 1]
        body = self.line[atom.start + 1 : atom.end - 1]
        if atom.kind == "code":
            return "{{" + escape_jira(unescape_slack(body), before="{", after="}") + "}}"
        link = _link(body)
        if link is not None:
            return link
        return escape_jira(angle_as_text(body, self.names), before=before, after=after)


def _atoms(line: str) -> list[_Atom]:
    """Code spans and ``<…>`` constructs, left to right, never overlapping."""
    atoms: list[_Atom] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == "`":
            close = line.find("`", index + 1)
            if close > index + 1:
                atoms.append(_Atom(index, close + 1, "code"))
                index = close + 1
                continue
        elif char == "<":
            angle = ANGLE.match(line, index)
            if angle is not None:
                atoms.append(_Atom(index, angle.end(), "angle"))
                index = angle.end()
                continue
        index += 1
    return atoms


def _link(body: str) -> str | None:
    """``[label|url]`` for a Slack ``url|label`` body with a web or mail URL, else ``None``."""
    url, _, label = body.partition("|")
    url, label = unescape_slack(url).strip(), unescape_slack(label).strip()
    if not url.lower().startswith(_JIRA_LINK_SCHEMES):
        return None
    safe_url = _URL_UNSAFE_IN_JIRA.sub(lambda m: quote(m.group(), safe=""), url)
    if not label or label == url:
        return f"[{safe_url}]"
    return f"[{escape_jira(label, before='[', after='|')}|{safe_url}]"


def angle_as_text(body: str, names: Names) -> str:
    """What a ``<…>`` construct shows, as plain text: ``@Name``, ``#channel``, a URL."""
    target, _, label = body.partition("|")
    label = unescape_slack(label)
    if target.startswith("@"):
        return "@" + (names.user(target[1:]) or label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (names.channel(target[1:]) or label.lstrip("#") or target[1:])
    if target.startswith("!"):
        keyword = target[1:]
        if keyword in ("here", "channel", "everyone"):
            return "@" + keyword
        if keyword.startswith("subteam^"):
            return label or "@" + keyword.removeprefix("subteam^")
        if keyword.startswith("date^"):
            return label
        return label or "@" + keyword
    if label:
        return label
    return unescape_slack(target)
