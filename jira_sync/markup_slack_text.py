"""Safe pieces of Slack mrkdwn: escaped text and the only links Jira text may become.

Everything a Jira author wrote reaches Slack through :func:`escape`: ``&``, ``<`` and ``>``
become entities, as Slack asks (https://api.slack.com/reference/surfaces/formatting#escaping),
which defuses every ``<!channel>``, ``<!here>``, ``<!subteam^…>``, ``<@U…>`` and
``<url|label>``; bare ``@channel``, ``@here`` and ``@everyone`` get a WORD JOINER (U+2060) after
the ``@``, so they look the same but match no mention. :func:`link` makes the only ``<…>``
sequences in what we send.

This mirrors the Slack adapter's own escaping on purpose rather than importing it: the Jira
adapter does not depend on the Slack adapter, and these few lines are the whole contract.
"""

from __future__ import annotations

import re
from urllib.parse import quote

WORD_JOINER = "\u2060"
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
PIPE_LOOKALIKE = "\u2223"
"""DIVIDES (U+2223): stands in for ``|`` in a link label, where Slack reads ``|`` as syntax."""

_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Characters that would end or split a ``<url|label>`` or that Slack does not accept in a URL.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f<>|\"`\\^{}]")
_OUR_LINK = re.compile(r"<[^<>]*>")
_WHITESPACE = re.compile(r"\s+")


def defuse_broadcasts(text: str) -> str:
    """``@here``, ``@channel`` and ``@everyone`` with a WORD JOINER after the ``@``."""
    return _BROADCAST.sub("@" + WORD_JOINER, text)


def escape(text: str) -> str:
    """``text`` shown literally in any mrkdwn field: it can neither ping nor link."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return defuse_broadcasts(escaped)


def defuse_broadcasts_outside_links(mrkdwn: str) -> str:
    """:func:`defuse_broadcasts` on finished mrkdwn, leaving our ``<url|label>`` links alone.

    Escaped pieces are already defused one by one; this catches a broadcast word that only
    forms where two pieces meet (``@`` in one, ``here`` in the next).
    """
    pieces: list[str] = []
    start = 0
    for match in _OUR_LINK.finditer(mrkdwn):
        pieces.append(defuse_broadcasts(mrkdwn[start : match.start()]))
        pieces.append(match.group())
        start = match.end()
    pieces.append(defuse_broadcasts(mrkdwn[start:]))
    return "".join(pieces)


def link_scheme(url: str) -> str:
    """The URL's scheme in lower case, or ``""`` when it has none."""
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else ""


def link(url: str, label: str) -> str | None:
    """``<url|label>`` for an http, https or mailto ``url``; ``None`` for any other scheme.

    The URL is percent-encoded where Slack's syntax needs it and its ``&`` escaped; the label
    is escaped, kept on one line and has no ``|``. A label that only repeats the URL is left
    out (``<url>``), as Slack then shows the URL itself.
    """
    url = url.strip()
    if link_scheme(url) not in LINK_SCHEMES:
        return None
    safe_url = _URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), url).replace("&", "&amp;")
    label = _WHITESPACE.sub(" ", label).strip()
    if not label or label == url:
        return f"<{safe_url}>"
    return f"<{safe_url}|{escape(label.replace('|', PIPE_LOOKALIKE))}>"
