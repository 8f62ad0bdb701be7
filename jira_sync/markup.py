"""Text between Slack and Jira: mrkdwn -> Jira wiki markup and back, formatting kept.

* :func:`slack_to_jira` (:mod:`jira_sync.markup_slack_to_jira`): a Slack message's mrkdwn as
  Jira wiki markup (REST v2); text that Jira would read as markup is escaped, and mentions of
  people, channels and groups become plain ``@Name`` text, never Jira mentions.
* :func:`jira_to_slack` (:mod:`jira_sync.markup_jira_to_slack`): Jira wiki markup as Slack
  mrkdwn, through jira2markdown and :mod:`jira_sync.markup_mrkdwn`; whatever the author wrote,
  the result pings nobody and links only to http, https and mailto URLs.

Both are pure functions of their arguments.
"""

from __future__ import annotations

from jira_sync.markup_jira_to_slack import jira_to_slack
from jira_sync.markup_slack_to_jira import slack_to_jira

__all__ = ["jira_to_slack", "slack_to_jira"]
