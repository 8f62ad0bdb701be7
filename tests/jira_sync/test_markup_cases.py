"""The markup converters against the published conversion cases in the shared test data.

Which cases apply, and to what:

* ``jira2slack-cases.json`` (jira2slack's own tests): ``toSlack`` cases run through
  :func:`jira_to_slack`, ``toJira`` cases through :func:`slack_to_jira`.
* ``jira2markdown-cases.json``: Jira -> Slack is built on jira2markdown, so its cases test our
  first stage, :func:`jira_to_markdown` (the library with our elements), with the ``&<>``
  it hides from Markdown restored.
* ``slackify-markdown-cases.json``: they test our second stage, :func:`markdown_to_mrkdwn`.

Normalised in every comparison, as deliberate and harmless differences: whitespace at the
ends of the text and at the ends of lines (Markdown drops it; Slack does not show it); for
slackify, U+200B (slackify puts one around every emphasis, we only where a letter touches the
marker).

Every case that still differs is listed below with the reason; a listed case that starts to
match fails too, so the lists stay honest. Score with the test data as it is:

* toSlack (Jira -> Slack): 19 of 30 match
* toJira (Slack -> Jira): 10 of 13 match
* jira2markdown stage: 155 of 157 match
* slackify stage: 27 of 49 match
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from jira_sync.markup import jira_to_slack, slack_to_jira
from jira_sync.markup_jira_grammar import jira_to_markdown
from jira_sync.markup_mrkdwn import markdown_to_mrkdwn, restore_hidden
from tests.conftest import SHARED_TESTDATA

JIRA2SLACK = "jira2slack-cases.json"
JIRA2MARKDOWN = "jira2markdown-cases.json"
SLACKIFY = "slackify-markdown-cases.json"

_NOT_SLACK_HEADING = "Slack has no headings"
_CODE_ON_OWN_LINES = (
    "a code block goes on lines of its own as ```\\n…\\n```, as Jira shows it; "
    "jira2slack keeps it inline"
)
EXPECTED_TO_SLACK_MISMATCHES = {
    "toSlack: Bold (spaced)": "Jira does not bold '* boldy is spaced *' (a phrase may not start "
    "or end with a space); jira2slack trims and bolds it",
    "toSlack: Italic (spaced)": "Jira does not italicise '_…spaced _' (ends with a space)",
    "toSlack: Strikethrough (spaced)": "Jira does not strike '- strikethrough…-' (starts with "
    "a space)",
    "toSlack: Citations": "??citation?? becomes italics, as Jira shows it; jira2slack adds '-- '",
    "toSlack: Huge Citations": "a ??citation?? cannot span lines in Jira: the text stays as typed",
    "toSlack: Subscript": "Slack has no subscript: the text shows plainly; jira2slack leaves a "
    "stray '_'",
    "toSlack: Code": _CODE_ON_OWN_LINES,
    "toSlack: Pre-formatted Text": _CODE_ON_OWN_LINES,
    "toSlack: Quote": "{quote} becomes a '>' quote on a line of its own; jira2slack makes it a "
    "code block",
    "toSlack: Panel": "a panel becomes a quote with its title in bold; jira2slack draws a table",
    "toSlack: Multiple Colors": "'{color: gray}' (space after the colon) is not colour markup in "
    "jira2markdown's grammar, so it shows as typed",
}
EXPECTED_TO_JIRA_MISMATCHES = {
    "toJira: Headings": f"{_NOT_SLACK_HEADING}: a bold line stays a bold line (jira2slack "
    "guesses a heading from a leading space)",
    "toJira: Table": "Slack has no tables: '||a||' typed in Slack is text and escaped so that "
    "Jira shows it (jira2slack expects a Markdown table, which is not Jira markup)",
    "toJira: Citations": "'_-- citation_' is italic text in Slack and stays italic "
    "(jira2slack's own round-trip convention, not Slack syntax)",
}
EXPECTED_JIRA2MARKDOWN_MISMATCHES = {
    "TestMention.test_alias#0": "with no name lookup we show the alias ('Firstname Lastname') "
    "rather than the account id: it names the person",
    "TestTableContent.test_cell_mention#0": "expects the names {'uuid': 'elliot'} that the "
    "upstream test passes, but the recorded case carries no kwargs",
}
_NO_REFERENCES = (
    "link reference definitions are off: Jira text has none, and '[1]: http://…' typed in "
    "Jira must stay text"
)
_SOURCE_SPACING = "blocks are separated as in the source: no blank line added between lines"
_ONE_SPACE_MARKERS = "one space after a bullet or number, as Slack's own lists have"
EXPECTED_SLACKIFY_MISMATCHES = {
    "Definitions": _NO_REFERENCES,
    "Link in reference style with alt": _NO_REFERENCES,
    "Link in reference style with custom label": _NO_REFERENCES,
    "Link in reference style with alt and custom label": _NO_REFERENCES,
    "Link in reference style with title": _NO_REFERENCES,
    "Link in reference style with alt and title": _NO_REFERENCES,
    "Link in reference style with invalid definition": _NO_REFERENCES,
    "Image in reference style with alt": _NO_REFERENCES,
    "Image in reference style with custom label": _NO_REFERENCES,
    "Image in reference style with alt and custom label": _NO_REFERENCES,
    "Image in reference style with title": _NO_REFERENCES,
    "Image in reference style with alt and title": _NO_REFERENCES,
    "Image in reference style with invalid definition": _NO_REFERENCES,
    "Headings": _SOURCE_SPACING,
    "Unordered list": _ONE_SPACE_MARKERS,
    "Ordered list": _ONE_SPACE_MARKERS,
    "Link with angle bracket syntax": "a link labelled with its own URL is written <url>, "
    "which Slack shows as the URL",
    "Code block with deprecated language declaration": "'#!javascript' is code in CommonMark "
    "and is kept as written",
    "User mention": "<@U…> in the text is escaped: Jira text may never mention anyone in Slack",
    "Channel mention": "<#C…> in the text is escaped: Jira text may never link a channel",
    "HTML comment - single line": "HTML blocks are off (Jira text has none): the comment shows "
    "literally, escaped; " + _SOURCE_SPACING,
    "HTML comment - multi-line": "HTML blocks are off (Jira text has none): the comment shows "
    "literally, escaped; " + _SOURCE_SPACING,
}


def _file_cases(directory: Path, name: str) -> list[dict[str, Any]]:
    path = directory / "markup" / name
    if not path.is_file():
        return []
    cases: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["cases"]
    return cases


def _case_id(name: str, case: dict[str, Any], seen: Counter[str]) -> str:
    if name == JIRA2SLACK:
        return f"{case['fn']}: {case['name']}"
    if name == JIRA2MARKDOWN:
        key = str(case["test"])
        seen[key] += 1
        return f"{key}#{seen[key] - 1}"
    return str(case["name"])


@cache
def _cases_by_id(directory: Path, name: str) -> dict[str, dict[str, Any]]:
    seen: Counter[str] = Counter()
    by_id: dict[str, dict[str, Any]] = {}
    for case in _file_cases(directory, name):
        case_id = _case_id(name, case, seen)
        assert case_id not in by_id, f"two cases in {name} are both {case_id!r}"
        by_id[case_id] = case
    return by_id


def _ids(name: str, fn: str | None = None) -> list[str]:
    """Case ids at collection time (none when the shared test data is missing)."""
    return [
        case_id
        for case_id, case in _cases_by_id(SHARED_TESTDATA, name).items()
        if fn is None or case.get("fn") == fn
    ]


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _compare(case_id: str, got: str, want: str, expected_mismatches: dict[str, str]) -> None:
    if case_id in expected_mismatches:
        assert got != want, (
            f"{case_id!r} now matches: take it out of the expected mismatches "
            f"({expected_mismatches[case_id]!r})"
        )
    else:
        assert got == want


@pytest.mark.parametrize("case_id", _ids(JIRA2SLACK, "toSlack"))
def test_jira2slack_to_slack_case(case_id: str, shared_testdata: Path) -> None:
    case = _cases_by_id(shared_testdata, JIRA2SLACK)[case_id]
    got = _normalise(jira_to_slack(case["input"]))
    _compare(case_id, got, _normalise(case["expected"]), EXPECTED_TO_SLACK_MISMATCHES)


@pytest.mark.parametrize("case_id", _ids(JIRA2SLACK, "toJira"))
def test_jira2slack_to_jira_case(case_id: str, shared_testdata: Path) -> None:
    case = _cases_by_id(shared_testdata, JIRA2SLACK)[case_id]
    got = _normalise(slack_to_jira(case["input"]))
    _compare(case_id, got, _normalise(case["expected"]), EXPECTED_TO_JIRA_MISMATCHES)


@pytest.mark.parametrize("case_id", _ids(JIRA2MARKDOWN))
def test_jira2markdown_case_for_the_first_stage(case_id: str, shared_testdata: Path) -> None:
    case = _cases_by_id(shared_testdata, JIRA2MARKDOWN)[case_id]
    kwargs = dict(case["kwargs"] or {})
    usernames: dict[str, str] = kwargs.pop("usernames", {})
    assert not kwargs, f"a jira2markdown option we do not use: {kwargs}"
    markdown = jira_to_markdown(case["input"], user_name=usernames.get)
    got = _normalise(restore_hidden(markdown))
    _compare(case_id, got, _normalise(case["expected"]), EXPECTED_JIRA2MARKDOWN_MISMATCHES)


@pytest.mark.parametrize("case_id", _ids(SLACKIFY))
def test_slackify_case_for_the_second_stage(case_id: str, shared_testdata: Path) -> None:
    case = _cases_by_id(shared_testdata, SLACKIFY)[case_id]
    got = _normalise(markdown_to_mrkdwn(case["input"]).replace("\u200b", ""))
    want = _normalise(case["expected"].replace("\u200b", ""))
    _compare(case_id, got, want, EXPECTED_SLACKIFY_MISMATCHES)


@pytest.mark.parametrize(
    ("name", "expected_mismatches", "fn"),
    [
        (JIRA2SLACK, EXPECTED_TO_SLACK_MISMATCHES, "toSlack"),
        (JIRA2SLACK, EXPECTED_TO_JIRA_MISMATCHES, "toJira"),
        (JIRA2MARKDOWN, EXPECTED_JIRA2MARKDOWN_MISMATCHES, None),
        (SLACKIFY, EXPECTED_SLACKIFY_MISMATCHES, None),
    ],
)
def test_every_listed_mismatch_names_a_case(
    name: str, expected_mismatches: dict[str, str], fn: str | None, shared_testdata: Path
) -> None:
    cases = {
        case_id
        for case_id, case in _cases_by_id(shared_testdata, name).items()
        if fn is None or case.get("fn") == fn
    }
    assert cases, f"no cases in {name}"
    assert set(expected_mismatches) <= cases
