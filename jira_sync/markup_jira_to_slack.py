"""Jira wiki markup to Slack mrkdwn, in two stages: Jira -> Markdown -> mrkdwn.

The first stage is jira2markdown's grammar (:mod:`jira_sync.markup_jira_grammar`), the second
our renderer of markdown-it-py's syntax tree (:mod:`jira_sync.markup_mrkdwn`), which escapes
every piece of text. A hand-written Jira parser would have to relearn the many rules
jira2markdown already gets right (where ``*`` may open or close, lists in quotes, tables,
panels); Markdown in the middle costs a little care, which the first stage takes.
"""

from __future__ import annotations

import logging

from jira_sync.markup_jira_grammar import MarkupTooSlowError, NameLookup, jira_to_markdown
from jira_sync.markup_mrkdwn import markdown_to_mrkdwn
from jira_sync.markup_slack_text import escape

_LOG = logging.getLogger(__name__)


def jira_to_slack(text: str, *, user_name: NameLookup | None = None) -> str:
    """Slack mrkdwn for Jira wiki markup ``text``: the formatting kept, nobody pinged.

    Bold, italic, strikethrough, code, code blocks, quotes, panels, lists and links survive;
    headings become bold lines, tables pipe rows, colours and underlines plain text, mentions
    ``@Name`` (``user_name`` resolves account ids and user names; when it cannot, or is not
    given, the id shows). Only http, https and mailto links become ``<url|label>``. Every
    piece of the author's text is escaped (``&``, ``<``, ``>``), and ``@here``, ``@channel``
    and ``@everyone`` get a WORD JOINER after the ``@``. Should the grammar fail on some
    input or run out of its time budget (crafted input can take it minutes), the text is
    shown as it is, escaped, rather than lost.
    """
    try:
        return markdown_to_mrkdwn(jira_to_markdown(text, user_name=user_name))
    except MarkupTooSlowError:
        _LOG.warning("Jira markup took too long to convert; shown as plain text")
    except Exception:  # pyparsing grammars fail in many ways; none may stop the sync
        _LOG.warning("Jira markup not converted; shown as plain text", exc_info=True)
    return plain_text_to_slack(text)


def plain_text_to_slack(text: str) -> str:
    """``text`` as it is, escaped: what Jira text becomes when its markup cannot be read."""
    return escape(text).strip("\n")
