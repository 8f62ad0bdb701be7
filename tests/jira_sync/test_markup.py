"""jira_sync.markup: Jira text reaches Slack with its formatting and pings nobody (ACCEPTANCE
35); Slack text reaches Jira with its formatting and nothing Jira would read as markup.

The published conversion cases are in test_markup_cases.py.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jira_sync import markup_jira_grammar
from jira_sync.markup import jira_to_slack, slack_to_jira
from jira_sync.markup_jira_grammar import MarkupTooSlowError, jira_to_markdown
from jira_sync.markup_jira_text import escape_jira
from jira_sync.markup_mrkdwn import markdown_to_mrkdwn
from jira_sync.markup_slack_text import PIPE_LOOKALIKE, WORD_JOINER, link

WJ = WORD_JOINER
OUR_LINK = re.compile(r"<(?:https?://|mailto:)[^\s<>|]+(?:\|[^<>|\n]+)?>")
BROADCAST = re.compile(r"@(?:here|channel|everyone)\b", re.IGNORECASE)
BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def assert_safe_for_slack(mrkdwn: str) -> None:
    """No ping, no link but ours, no entity Slack would not decode."""
    assert "<!" not in mrkdwn
    assert "<@" not in mrkdwn
    assert "<#" not in mrkdwn
    assert BROADCAST.search(mrkdwn) is None, mrkdwn
    assert BARE_AMPERSAND.search(mrkdwn) is None, mrkdwn
    without_links = OUR_LINK.sub("", mrkdwn)
    assert "<" not in without_links, mrkdwn
    assert ">" not in without_links.replace("\n>", "\n").removeprefix(">"), mrkdwn


def shown_as(mrkdwn: str) -> str:
    """What Slack displays for escaped text (entities decoded, word joiners invisible)."""
    return mrkdwn.replace(WJ, "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# -- Jira -> Slack: nobody pinged, nothing linked (ACCEPTANCE 35) ------------------------------

HOSTILE_JIRA = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S1>",
    "<!subteam^S1|@oncall>",
    "<@U123>",
    "<#C123|general>",
    "@here",
    "@channel",
    "@everyone",
    "@HERE, look",
    "<https://evil.example|ok>",
    "<https://evil.example>",
    "&lt;!here&gt;",
]


@pytest.mark.parametrize("text", HOSTILE_JIRA)
def test_hostile_jira_text_is_shown_literally_and_pings_nobody(text: str) -> None:
    out = jira_to_slack(text)
    assert_safe_for_slack(out)
    assert shown_as(out) == text


@pytest.mark.parametrize(
    "jira",
    [
        "*<!here>*",
        "_<!channel>_ and -<!everyone>-",
        "{{<!here>}}",
        "{code}<!here> @channel <@U1>{code}",
        "{noformat}<https://evil.example|ok>{noformat}",
        "h1. <!here>",
        "* <!channel>\n** @here",
        "||<!here>||\n|@channel|",
        "bq. <!subteam^S1>",
        "{quote}@everyone{quote}",
        "{panel:title=<!here>}<!channel>{panel}",
        "[<!here>|https://example.com]",
        "[~here] [~channel]",
        "@{color:red}here{color}",
        "@*here*",
    ],
)
def test_pings_hidden_in_jira_markup_stay_harmless(jira: str) -> None:
    assert_safe_for_slack(jira_to_slack(jira))


@pytest.mark.parametrize(
    "jira",
    [
        "[ok|javascript:alert(1)]",
        "[ok|JavaScript:alert(1)]",
        "[ok|data:text/html,x]",
        "[ok](https://evil.example)",
        "![ok](https://evil.example/x.png)",
        "[ok]\n\n[ok]: https://evil.example",
        "<https://evil.example|ok>",
    ],
)
def test_jira_text_that_is_not_a_jira_link_is_no_link(jira: str) -> None:
    out = jira_to_slack(jira)
    assert_safe_for_slack(out)
    assert "<" not in out
    assert "ok" in out


def test_a_javascript_link_shows_as_the_text_it_is() -> None:
    assert jira_to_slack("[ok|javascript:alert(1)]") == "[ok|javascript:alert(1)]"


def test_a_jira_link_to_a_web_page_is_a_slack_link() -> None:
    assert jira_to_slack("see [the docs|https://example.com/a?b=1&c=2]") == (
        "see <https://example.com/a?b=1&amp;c=2|the docs>"
    )


def test_a_display_name_cannot_smuggle_markup() -> None:
    names = {"x": "<!here> [a](https://evil.example) *b*"}.get
    out = jira_to_slack("ping [~accountid:x]", user_name=names)
    assert_safe_for_slack(out)
    assert shown_as(out) == "ping @<!here> [a](https://evil.example) *b*"


def test_link_labels_and_urls_cannot_break_out_of_a_link() -> None:
    assert link("https://x.example/<!here>|y", "a|b>c<!channel>") == (
        f"<https://x.example/%3C!here%3E%7Cy|a{PIPE_LOOKALIKE}b&gt;c&lt;!channel&gt;>"
    )
    assert link("javascript:alert(1)", "ok") is None
    assert link(" HTTPS://x.example ", "HTTPS://x.example") == "<HTTPS://x.example>"
    assert link("mailto:a@b.example", "a@b.example") == "<mailto:a@b.example|a@b.example>"


JIRA_MARKUP = st.sampled_from(
    [
        "*",
        "_",
        "-",
        "+",
        "^",
        "~",
        "??",
        "{{",
        "}}",
        "{code}",
        "{noformat}",
        "{quote}",
        "{panel:title=t}",
        "{panel}",
        "{color:red}",
        "{color}",
        "[",
        "]",
        "|",
        "||",
        "!",
        "\\\\",
        "\n",
        "\n* ",
        "\n# ",
        "\nh1. ",
        "\nbq. ",
        "[~x]",
        "[a|https://example.com]",
        "[https://example.com]",
        "[mailto:a@b.example]",
        "https://example.com/x_y",
        "](",
        " ",
        "word",
        *HOSTILE_JIRA,
        "<",
        ">",
        "&",
        "&amp;",
        "\ue001",
        "\u2060",
        "`",
    ]
)
jira_text = st.one_of(st.text(max_size=80), st.lists(JIRA_MARKUP, max_size=25).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jira_text)
def test_jira_to_slack_never_pings_nor_links_on_its_own(text: str) -> None:
    assert_safe_for_slack(jira_to_slack(text))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jira_text, st.text(max_size=20))
def test_no_display_name_makes_a_ping(text: str, name: str) -> None:
    assert_safe_for_slack(jira_to_slack(text + " [~someone]", user_name=lambda _: name))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_markdown_stage_alone_never_pings_nor_links_unsafely(markdown: str) -> None:
    assert_safe_for_slack(markdown_to_mrkdwn(markdown))


# -- Jira -> Slack: formatting kept ------------------------------------------------------------


@pytest.mark.parametrize(
    ("jira", "slack"),
    [
        ("*bold* _italic_ -strike- {{code}}", "*bold* _italic_ ~strike~ `code`"),
        ("h2. Title with *bold*", "*Title with bold*"),
        ("* a\n** b\n* c", "• a\n  • b\n• c"),
        ("# one\n## two\n# three", "1. one\n  1. two\n2. three"),
        ("bq. quoted", "> quoted"),
        ("{quote}one\ntwo{quote}", "> one\n> two"),
        ("{panel:title=Note}body{panel}", "> *Note*\n> body"),
        ("{code:python}\nprint(1 < 2)\n{code}", "```\nprint(1 &lt; 2)\n```"),
        ("{noformat}\n```\n*x*\n{noformat}", "```\n`\u200b``\n*x*\n```"),
        ("before {noformat}x{noformat} after", "before\n```\nx\n```\nafter"),
        ("||h1||h2||\n|a|b|", "|h1|h2|\n| --- | --- |\n|a|b|"),
        ("[https://example.com]", "<https://example.com>"),
        ("[mailto:a@b.example]", "<mailto:a@b.example|a@b.example>"),
        ("[Home|https://example.com|smart-link]", "<https://example.com|Home>"),
        ("[^report.pdf] and !screen.png!", "report.pdf and screen.png"),
        ("[ftp://files.example]", "ftp://files.example"),
        ("+under+ ^sup^ ~sub~ ??cite??", "under ^sup sub _cite_"),
        ("{color:red}red{color} text", "red text"),
        ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
        ("line\\\\break", "line\nbreak"),
        ("one\ntwo\n\nthree", "one\ntwo\n\nthree"),
        ("----", "\u2500" * 10),
        ("a|b and {braces} and [brackets]", "a|b and {braces} and [brackets]"),
        ("|", "|"),
    ],
)
def test_jira_to_slack_keeps_formatting(jira: str, slack: str) -> None:
    assert jira_to_slack(jira) == slack


@pytest.mark.parametrize(
    ("jira", "slack"),
    [
        ("[~accountid:5b10ac8d82e05b22cc7d4ef5]", "@Ann Lee"),
        ("[~john.doe], hi", "@John Doe, hi"),
        ("[Someone Else|~accountid:unknown]", "@Someone Else"),
        ("[~unknown]text", "@unknown text"),
    ],
)
def test_jira_mentions_become_plain_names(jira: str, slack: str) -> None:
    names = {"5b10ac8d82e05b22cc7d4ef5": "Ann Lee", "john.doe": "John Doe"}.get
    assert jira_to_slack(jira, user_name=names) == slack


def test_formatting_inside_a_word_gets_a_boundary_slack_can_see() -> None:
    assert markdown_to_mrkdwn("he**l**lo") == "he\u200b*l*\u200blo"
    assert markdown_to_mrkdwn("a **b** c") == "a *b* c"


def test_text_the_grammar_cannot_convert_in_time_is_shown_plainly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(MarkupTooSlowError):
        jira_to_markdown("*bold*", time_budget=0)
    monkeypatch.setattr(markup_jira_grammar, "TIME_BUDGET", 0.0)
    assert jira_to_slack("h1. Title\n<!here>\n") == "h1. Title\n&lt;!here&gt;"


def test_threads_convert_independently() -> None:
    texts = [f"* item {i}\n** nested [~user{i}]\n# n\n||h||\n|c|" for i in range(40)]
    expected = [jira_to_slack(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(jira_to_slack, texts)) == expected


# -- Slack -> Jira -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slack", "jira"),
    [
        ("*bold* _italic_ ~strike~ `code`", "*bold* _italic_ -strike- {{code}}"),
        ("_*both*_", "_*both*_"),
        ("a*b*c and 2 * 3", "a*b*c and 2 * 3"),
        ("*not bold *", "\\*not bold *"),
        ("• a\n    ◦ b\n        ▪ c\n• d", "* a\n** b\n*** c\n* d"),
        ("- a\n- b", "* a\n* b"),
        ("1. a\n    • b\n2. c", "# a\n#* b\n# c"),
        ("&gt; one line", "bq. one line"),
        ("&gt; one\n&gt; two\nafter", "{quote}\none\ntwo\n{quote}\nafter"),
        ("&gt;&gt;&gt; all\nof it", "{quote}\nall\nof it\n{quote}"),
        ("```\nx = {1}\n```", "{noformat}\nx = {1}\n{noformat}"),
        ("see ```a *b*``` here", "see\n{noformat}\na *b*\n{noformat}\n here"),
        ("```{noformat}```", "{noformat}\n{noformat\u200b}\n{noformat}"),
        ("``` unclosed", "``` unclosed"),
        ("<https://example.com|the docs>", "[the docs|https://example.com]"),
        ("<https://example.com>", "[https://example.com]"),
        ("<https://example.com/a?q=[1]&amp;r=2|x>", "[x|https://example.com/a?q=%5B1%5D&r=2]"),
        ("<mailto:a@b.example|a@b.example>", "[a@b.example|mailto:a@b.example]"),
        ("<ftp://files.example>", "ftp://files.example"),
        ("a &amp; b &lt;tag&gt;", "a & b <tag>"),
        ("x\r\ny", "x\ny"),
    ],
)
def test_slack_to_jira_keeps_formatting(slack: str, jira: str) -> None:
    assert slack_to_jira(slack) == jira


@pytest.mark.parametrize(
    ("slack", "jira"),
    [
        ("<@U1>", "@Ann"),
        ("<@U2|bob>", "@bob"),
        ("<@U3>", "@U3"),
        ("<#C1>", "#general"),
        ("<#C2|random>", "#random"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S1|@oncall>", "@oncall"),
        ("<!subteam^S1>", "@S1"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
    ],
)
def test_slack_mentions_become_plain_text(slack: str, jira: str) -> None:
    assert slack_to_jira(
        slack, user_name={"U1": "Ann"}.get, channel_name={"C1": "general"}.get
    ) == (jira)


def test_a_slack_name_never_becomes_a_jira_mention() -> None:
    out = slack_to_jira("<@U1> <#C1>", user_name=lambda _: "[~admin]", channel_name=lambda _: "x|y")
    assert out == "@\\[\\~admin\\] #x\\|y"


@pytest.mark.parametrize(
    ("slack", "jira"),
    [
        ("{noformat} {code}", "\\{noformat\\} \\{code\\}"),
        ("[not a link]", "\\[not a link\\]"),
        ("a|b", "a\\|b"),
        ("||not a table||", "\\|\\|not a table\\|\\|"),
        ("h1. Not a heading", "&#104;1. Not a heading"),
        ("  h3. indented", "  &#104;3. indented"),
        ("bq. not a quote", "&#98;q. not a quote"),
        ("# not a list", "\\# not a list"),
        ("----", "\\-\\-\\-\\-"),
        ("a -- b --- c", "a \\-\\- b \\-\\-\\- c"),
        ("!image.png!", "\\!image.png!"),
        ("hello!", "hello!"),
        ("??what??", "\\?\\?what\\?\\?"),
        ("why?", "why?"),
        ("i-use-dashes and snake_case and a - b", "i-use-dashes and snake_case and a - b"),
        ("-1 and +1 and ^2 and ~3", "\\-1 and \\+1 and \\^2 and \\~3"),
        (":) ;) (y) (x) :P", ":\\) ;\\) \\(y) \\(x) :&#80;"),
        ("&amp;copy; &amp;#92;", "&amp;copy; &amp;#92;"),
        ("C:\\temp\\new", "C:\\temp\\new"),
        ("a\\*b and c\\\\d", "a&#92;\\*b and c&#92;\\d"),
        ("<https://example.com|[x]>", "[\\[x\\]|https://example.com]"),
        ("`{{code}}`", "{{\\{\\{code\\}\\}}}"),
    ],
)
def test_slack_text_that_looks_like_jira_markup_is_escaped(slack: str, jira: str) -> None:
    assert slack_to_jira(slack) == jira


def test_escape_jira_takes_the_surrounding_characters_into_account() -> None:
    assert escape_jira("-x", before="a") == "-x"
    assert escape_jira("-x", before=" ") == "\\-x"
    assert escape_jira("x-", after="a") == "x-"
    assert escape_jira("x-", after="") == "x\\-"
    assert escape_jira("\\", after="*") == "&#92;"
    assert escape_jira("* item", line_start=True) == "\\* item"
    assert escape_jira("* item", line_start=False) == "* item"


SLACK_MARKUP = st.sampled_from(
    [
        "*",
        "_",
        "~",
        "`",
        "```",
        "\n",
        "&gt; ",
        "&gt;&gt;&gt;",
        "&amp;",
        "&lt;",
        "• ",
        "    ◦ ",
        "1. ",
        "- ",
        "<@U1>",
        "<@U2|x>",
        "<#C1|c>",
        "<!here>",
        "<!subteam^S1|@t>",
        "<https://example.com|a>",
        "<mailto:a@b.example>",
        "<",
        ">",
        "|",
        "{",
        "}",
        "[",
        "]",
        "\\",
        "h1. ",
        "----",
        "word",
        " ",
    ]
)
slack_text = st.one_of(st.text(max_size=80), st.lists(SLACK_MARKUP, max_size=30).map("".join))
UNESCAPED_JIRA_MENTION = re.compile(r"(?<!\\)\[~")
NOFORMAT_BLOCK = re.compile(r"\{noformat\}\n.*?\n\{noformat\}", re.DOTALL)
"""Jira shows a noformat block as it is: no mention can happen inside one."""


@settings(max_examples=300, deadline=None)
@given(slack_text)
def test_slack_to_jira_never_raises_and_never_mentions(text: str) -> None:
    out = slack_to_jira(text, user_name=lambda user: f"[~{user}]")
    assert isinstance(out, str)
    assert UNESCAPED_JIRA_MENTION.search(NOFORMAT_BLOCK.sub("", out)) is None, out


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slack", "back"),
    [
        ("plain words, nothing else", None),
        ("*bold* and _italic_ and ~strike~", None),
        ("run `make test` first", None),
        ("• one\n• two\n  • nested", None),
        ("1. one\n2. two", None),
        ("&gt; quoted", "> quoted"),
        ("see <https://example.com|the docs> or <https://example.com>", None),
        ("a &amp; b &lt;tag&gt;", None),
        ("snake_case, i-use-dashes, a - b, 50% off!", None),
        ("```\nprint(1)\n```", None),
        ("first line\nsecond line\n\nnew paragraph", None),
        ("[brackets] {braces} a|b h1. mid-line", None),
    ],
)
def test_slack_text_survives_a_trip_through_jira(slack: str, back: str | None) -> None:
    assert jira_to_slack(slack_to_jira(slack)) == (back or slack)


@pytest.mark.parametrize(
    ("jira", "back"),
    [
        ("*bold* _italic_ -strike- {{code}}", None),
        ("[Example|https://example.com] and [https://example.com]", None),
        ("* a\n** b\n* c", None),
        ("# one\n# two", None),
        ("bq. a quote", None),
        ("{noformat}\nraw *text*\n{noformat}", None),
        ("{code:java}\nint x;\n{code}", "{noformat}\nint x;\n{noformat}"),
        ("{quote}\none\ntwo\n{quote}", "{quote}\none\ntwo\n{quote}"),
    ],
)
def test_jira_markup_survives_a_trip_through_slack(jira: str, back: str | None) -> None:
    assert slack_to_jira(jira_to_slack(jira)) == (back or jira)
