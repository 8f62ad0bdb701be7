"""bot.text: escaping defuses every ping and link; truncate and split keep Slack's limits."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import text as t

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123>",
    "<!subteam^S123|@oncall>",
    "<@U123>",
    "<#C123>",
    "<https://evil|ok>",
    "@here",
    "@channel",
    "@everyone",
    "@HERE",
    "&",
    "&amp;",
    "&lt;",
    "<",
    ">",
    "!",
    "@",
    "|",
    "channel",
    "here",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "word",
    "e\u0301",
    "\U0001f1eb\U0001f1f7",
    "\U0001f469\u200d\U0001f4bb",
    "\U0001f44d\U0001f3fd",
]
hostile_text = st.one_of(st.text(), st.lists(st.sampled_from(HOSTILE)).map("".join))
PINGS = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@", "<#", "<http")
BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)  # not @here0, a name
PARTIAL_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


@given(hostile_text)
def test_escape_leaves_no_markup_and_no_ping(text: str) -> None:
    out = t.escape(text)
    assert "<" not in out
    assert ">" not in out
    for ping in PINGS:
        assert ping not in out
    assert not BROADCAST.search(out)
    assert not PARTIAL_ENTITY.search(out)


@given(hostile_text)
def test_escape_is_undone_by_unescape_except_for_the_word_joiner(text: str) -> None:
    if t.WORD_JOINER in text:
        return
    assert t.unescape(t.escape(text)).replace(t.WORD_JOINER, "") == text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Ping <!channel> now", "Ping &lt;!channel&gt; now"),
        ("<!here> VPN down", "&lt;!here&gt; VPN down"),
        ("cc <!subteam^S123>", "cc &lt;!subteam^S123&gt;"),
        ("hey @here and @channel", "hey @\u2060here and @\u2060channel"),
        ("click <https://evil|ok>", "click &lt;https://evil|ok&gt;"),
        ("from Jira: <@U123> & co", "from Jira: &lt;@U123&gt; &amp; co"),
        ("@heretic stays", "@heretic stays"),
    ],
)
def test_hostile_text_from_jira_or_slack_is_shown_literally(raw: str, shown: str) -> None:
    assert t.escape(raw) == shown


@given(hostile_text)
def test_quote_prefixes_every_line_after_escaping(text: str) -> None:
    out = t.quote(text)
    lines = out.split("\n")
    assert len(lines) == text.count("\n") + 1
    assert all(line.startswith(">") for line in lines)
    assert "<" not in out


def test_mention_and_link_are_the_only_constructs() -> None:
    assert t.mention("U012AB3CD") == "<@U012AB3CD>"
    assert t.mention("<!channel>") == "&lt;!channel&gt;"
    assert t.link("https://jira.example/browse/IT-1?a=1&b=2", "IT-1 <x>") == (
        "<https://jira.example/browse/IT-1?a=1&amp;b=2|IT-1 &lt;x&gt;>"
    )
    assert t.link("https://x.example/a|b>c d", "go") == "<https://x.example/a%7Cb%3Ec%20d|go>"
    assert t.link("javascript:alert(1)", "@here") == "@\u2060here"


@given(hostile_text, st.integers(min_value=1, max_value=60), st.booleans())
def test_truncate_keeps_the_limit_and_a_prefix(text: str, room: int, with_link: bool) -> None:
    url = "https://deskhand.example/t/1?x=1&y=2" if with_link else None
    tail = "…" + (" " + t.link(url, "more") if url else "")
    limit = room + len(tail)
    out = t.truncate(text, limit, link=url)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        assert out.endswith(tail)
        head = out[: -len(tail)]
        assert text.startswith(head)
        assert head == head.rstrip()


@given(hostile_text, st.integers(min_value=2, max_value=80))
def test_truncate_never_cuts_an_entity_of_escaped_text(text: str, limit: int) -> None:
    assert not PARTIAL_ENTITY.search(t.truncate(t.escape(text), limit))


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("e\u0301e\u0301e\u0301e\u0301", 4, "e\u0301…"),  # never strands a combining accent
        (
            "\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea\U0001f1ee\U0001f1f9",
            4,
            "\U0001f1eb\U0001f1f7…",
        ),
        ("ab\U0001f469\u200d\U0001f4bbcd", 5, "ab…"),  # ZWJ emoji stays whole
        ("\U0001f44d\U0001f3fd\U0001f44d\U0001f3fd", 3, "\U0001f44d\U0001f3fd…"),  # skin tone
        ("a&amp;b&amp;c", 8, "a&amp;b…"),  # entity stays whole
        ("see <@U123> ok", 8, "see…"),  # a mention is never cut open
        ("hello wonderful world", 17, "hello wonderful…"),  # word boundary in the last 10%
    ],
)
def test_truncate_cuts_at_safe_boundaries(text: str, limit: int, expected: str) -> None:
    assert t.truncate(text, limit) == expected


def test_truncate_refuses_a_limit_without_room_for_the_tail() -> None:
    with pytest.raises(ValueError, match="no room"):
        t.truncate("long enough text", 5, link="https://deskhand.example/t/1")


def _dropped_between(text: str, chunks: list[str]) -> list[str]:
    """What split dropped: after each chunk, the whitespace skipped before the next one."""
    dropped: list[str] = []
    pos = 0
    for n, chunk in enumerate(chunks):
        assert text.startswith(chunk, pos)
        pos += len(chunk)
        following = chunks[n + 1] if n + 1 < len(chunks) else None
        run = re.compile(r"\s*").match(text, pos)
        assert run is not None
        skip = run.group() if following is None or not following[:1].isspace() else ""
        dropped.append(skip)
        pos += len(skip)
    assert pos == len(text)
    return dropped


@given(hostile_text, st.integers(min_value=1, max_value=50))
def test_split_respects_the_limit_and_drops_only_whitespace_at_cuts(text: str, limit: int) -> None:
    chunks = t.split(text, limit)
    assert all(0 < len(chunk) <= limit for chunk in chunks)
    dropped = _dropped_between(text, chunks)
    assert all(not run or run.isspace() for run in dropped)
    rebuilt = "".join(chunk + run for chunk, run in zip(chunks, dropped, strict=True))
    assert rebuilt == text


@given(hostile_text, st.integers(min_value=6, max_value=50))
def test_split_never_cuts_an_entity_of_escaped_text(text: str, limit: int) -> None:
    for chunk in t.split(t.escape(text), limit):
        assert not PARTIAL_ENTITY.search(chunk)


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    text = "First paragraph here.\n\nSecond one, a line\nand another line here."
    assert t.split(text, 30) == [
        "First paragraph here.",
        "Second one, a line",
        "and another line here.",
    ]
    assert t.split("alpha beta gamma delta", 11) == ["alpha beta", "gamma delta"]
    assert t.split("abcdefgh", 3) == ["abc", "def", "gh"]
    assert t.split("", 10) == []
    assert t.split("short", 10) == ["short"]


def test_split_of_a_long_message_fits_slack() -> None:
    text = ("A sentence of a long Jira comment. " * 40 + "\n\n") * 30
    chunks = t.split(text, t.ADVISED_TEXT)
    assert len(chunks) > 1
    assert all(len(chunk) <= t.ADVISED_TEXT for chunk in chunks)
    # cuts fall on the blank lines; only the last chunk keeps its trailing whitespace
    assert all(chunk.endswith(".") for chunk in chunks[:-1])
    assert chunks[-1].endswith(". \n\n")


token_text = st.lists(st.sampled_from(HOSTILE)).map("".join)


def assert_whole_characters(piece: str) -> None:
    """No stranded accent, skin tone or ZWJ at the edges; flags (pairs of indicators) whole."""
    if piece:
        assert not unicodedata.combining(piece[0])
        assert piece[0] not in ("\u200d", "\U0001f3fd")
        assert piece[-1] != "\u200d"
    assert sum(0x1F1E6 <= ord(c) <= 0x1F1FF for c in piece) % 2 == 0


@given(token_text, st.integers(min_value=30, max_value=80))
def test_split_and_truncate_keep_user_perceived_characters_whole(text: str, limit: int) -> None:
    for chunk in t.split(text, limit):
        assert_whole_characters(chunk)
    assert_whole_characters(t.truncate(text, limit).removesuffix("…"))
