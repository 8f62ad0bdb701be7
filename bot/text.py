"""Safe text for Slack: escaping, quoting, truncating and splitting.

Everything a person wrote (in Slack, in Jira, in a form) reaches Slack through :func:`escape`,
so it is shown literally and can never ping anyone or smuggle in a link. Deskhand's own
constructs (:func:`mention`, :func:`link`) are the only ``<…>`` sequences in what we send.

Lengths are counted in code points, as the sandbox's checker counts them.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote as _percent_quote
from urllib.parse import urlsplit

# Slack's limits (https://api.slack.com/reference/block-kit/blocks, .../composition-objects,
# https://api.slack.com/methods/chat.postMessage, https://api.slack.com/reference/surfaces/views).
TEXT_LIMIT = 40_000
ADVISED_TEXT = 4_000
SECTION_TEXT = 3_000
SECTION_FIELD = 2_000
SECTION_FIELDS = 10
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
HEADER_TEXT = 150
BUTTON_TEXT = 75
BLOCKS_PER_MESSAGE = 50
BLOCKS_PER_VIEW = 100
MODAL_TITLE = 24
PRIVATE_METADATA = 3_000
OPTION_TEXT = 75
OPTION_VALUE = 150
SELECT_OPTIONS = 100
PLACEHOLDER = 150
URL = 3_000
ACTION_ID = 255
BLOCK_ID = 255
VALUE = 2_000

WORD_JOINER = "\u2060"
"""Invisible and zero-width: ``@\u2060here`` looks like ``@here`` but matches no mention."""

# Bare broadcast words: Slack turns these into pings when text is posted with ``link_names``
# or parsed by mrkdwn's automatic mention parsing. Escaping ``<>`` does not reach them.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_LINK_SCHEMES = ("http", "https", "mailto")


def escape(text: str) -> str:
    """Escape user text for any mrkdwn field: it is shown literally and cannot ping.

    ``&``, ``<`` and ``>`` become entities, as Slack asks
    (https://api.slack.com/reference/surfaces/formatting#escaping), which defuses every
    ``<!channel>``, ``<!here>``, ``<!subteam^…>``, ``<@U…>`` and ``<url|label>``. Bare
    ``@channel``, ``@here`` and ``@everyone`` get a WORD JOINER (U+2060) after the ``@``: they
    display the same but no longer match Slack's mention parsing. We chose an invisible
    character over visibly altering the text (a backslash or a space); the cost is that a
    copy-paste of such text carries the invisible character along.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + WORD_JOINER, escaped)


def unescape(text: str) -> str:
    """Undo Slack's own escaping of message text (events carry ``&lt;`` for a typed ``<``).

    Call this on message text from Slack before storing it as plain text, so that
    :func:`escape` later does not show ``&amp;lt;``.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def quote(text: str) -> str:
    """Escape ``text`` and show it as a mrkdwn block quote (every line starts with ``>``)."""
    return "\n".join(">" + line for line in escape(text).split("\n"))


def mention(user_id: str) -> str:
    """``<@U…>`` for a Slack user id; anything that is not a user id is shown as plain text."""
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape(user_id)


def link(url: str, label: str) -> str:
    """A mrkdwn link ``<url|label>``; a URL that is not http(s)/mailto shows the label only."""
    if urlsplit(url).scheme.lower() not in _LINK_SCHEMES:
        return escape(label)
    safe_url = _percent_quote(url, safe="/:?#[]@!$&'()*+,;=%~-._").replace("&", "&amp;")
    return f"<{safe_url}|{escape(label)}>"


# -- cutting ----------------------------------------------------------------------------------
# Hand-written because no grapheme library is in the dependency set: an approximation of
# UAX #29 extended grapheme clusters that covers what shows up in chat (combining marks, emoji
# ZWJ sequences, skin tones, flags, tags, variation selectors, Hangul jamo, CR LF, surrogates).

_ZWJ = "\u200d"
# Slack entities and <…> constructs: never cut inside one (a cut `&am` or `<@U1` is garbage).
_MARKUP = re.compile(r"&(?:amp|lt|gt);|<[^<>\n]*>")
_WHITESPACE = re.compile(r"\s+")


def _extends(char: str) -> bool:
    """True when ``char`` belongs to the cluster before it."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char == _ZWJ
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences
        or 0x1160 <= code <= 0x11FF  # Hangul vowel and trailing jamo
        or 0xD7B0 <= code <= 0xD7FF
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _grapheme_boundary(text: str, i: int) -> bool:
    """May ``text`` be cut before index ``i`` without splitting a user-perceived character?"""
    if i <= 0 or i >= len(text):
        return True
    before, after = text[i - 1], text[i]
    if before == "\r" and after == "\n":
        return False
    if "\ud800" <= before <= "\udbff" and "\udc00" <= after <= "\udfff":
        return False
    if before == _ZWJ or _extends(after):
        return False
    if 0x1100 <= ord(before) <= 0x115F and (0x1100 <= ord(after) <= 0x11FF or _hangul(after)):
        return False
    if _is_regional(before) and _is_regional(after):
        run = 0
        while i - run - 1 >= 0 and _is_regional(text[i - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _hangul(char: str) -> bool:
    return 0xAC00 <= ord(char) <= 0xD7A3


class _Cuts:
    """Where a text may be cut: grapheme boundaries outside entities and ``<…>`` constructs."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.inside = bytearray(len(text) + 1)
        for match in _MARKUP.finditer(text):
            self.inside[match.start() + 1 : match.end()] = b"\x01" * (len(match.group()) - 1)

    def ok(self, i: int, *, markup: bool = True, grapheme: bool = True) -> bool:
        if markup and self.inside[i]:
            return False
        return not grapheme or _grapheme_boundary(self.text, i)

    def hard(self, start: int, end: int) -> int:
        """The last cut in ``(start, end]``, as safe as the room allows.

        Rather a split user-perceived character (it still shows) than a split entity or
        ``<…>`` construct (it shows as garbage); failing both, ``end``.
        """
        for markup, grapheme in ((True, True), (True, False), (False, True)):
            for i in range(end, start, -1):
                if self.ok(i, markup=markup, grapheme=grapheme):
                    return i
        return end

    def soft(self, start: int, end: int, *, prefer_from: int) -> tuple[int, int] | None:
        """The best whitespace run starting in ``(start, end]`` as ``(run start, run end)``.

        Runs with a blank line beat runs with a line break beat other whitespace, among the runs
        starting at or after ``prefer_from``; failing those, the last run anywhere.
        """
        best: tuple[int, int, int] | None = None
        fallback: tuple[int, int] | None = None
        for match in _WHITESPACE.finditer(self.text, start + 1, end + 1):
            run_start = match.start()
            run_end = _WHITESPACE.match(self.text, run_start)
            stop = run_end.end() if run_end else match.end()
            if not (self.ok(run_start) and self.ok(stop)) or self.text[run_start - 1].isspace():
                continue
            fallback = (run_start, stop)
            if run_start >= prefer_from:
                rank = min(self.text.count("\n", run_start, stop), 2)
                if best is None or rank >= best[0]:
                    best = (rank, run_start, stop)
        if best is not None:
            return best[1], best[2]
        return fallback


def truncate(text: str, limit: int, *, suffix: str = "…", link: str | None = None) -> str:
    """``text`` if it fits in ``limit``, else a cut of it + ``suffix`` (+ `` <link|more>``).

    The cut is at a grapheme boundary outside entities and ``<…>`` constructs, at a word
    boundary if there is one in the last 10% of the room; whitespace before the suffix is
    dropped. The result is never longer than ``limit``.
    """
    if len(text) <= limit:
        return text
    tail = suffix + (" " + _more(link) if link else "")
    room = limit - len(tail)
    if room < 0:
        raise ValueError(f"limit {limit} leaves no room for {tail!r}")
    cuts = _Cuts(text)
    soft = cuts.soft(0, room, prefer_from=room - room // 10)
    if soft is not None and soft[0] >= room - room // 10:
        head = text[: soft[0]]
    else:
        # 0 is always a safe cut: truncate may give up room, never safety.
        head = text[: next(i for i in range(room, -1, -1) if cuts.ok(i))]
    return head.rstrip() + tail


def _more(url: str) -> str:
    return link(url, "more")


def split(text: str, limit: int) -> list[str]:
    """Cut ``text`` into chunks of at most ``limit``: at paragraphs, then lines, then words.

    Each chunk is a slice of ``text``. At a cut on whitespace the whole whitespace run there
    is dropped (it would only render as a blank edge of a message); a cut inside a word (no
    whitespace in reach) drops nothing. So ``text`` is exactly the chunks joined with those
    dropped runs in between, plus a dropped trailing run. Empty text gives no chunks.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    cuts = _Cuts(text)
    chunks: list[str] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        soft = cuts.soft(start, end, prefer_from=start + limit // 2)
        if soft is not None:
            chunks.append(text[start : soft[0]])
            start = soft[1]
        else:
            cut = cuts.hard(start, end)
            chunks.append(text[start:cut])
            start = cut
    if start < len(text):
        chunks.append(text[start:])
    return chunks
