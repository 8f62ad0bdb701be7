"""What a dead letter's report in Slack says, at each stage of the row it is about.

One message follows the row: set aside (with a Retry button), retried (by whom, when),
then either through (the button gone) or set aside again (the latest round's attempts and
error, the button back). Triage agents read it, so actions are named in words
(:data:`ACTION_LABELS`); the internal name is in ``deskhand sync status``.

Error text comes from Slack or Jira and is shown escaped, in a quote, cut to fit a section.
Times are Slack date tokens, shown on each reader's own clock; where a client cannot show
them, the team's time zone is used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import text as t
from bot.listeners.dead_letters import RETRY_ACTION
from deskhand.dead_letter_reports import Retried

Block = dict[str, Any]

ACTION_LABELS: dict[str, str] = {
    "create_jira_issue": "creating the Jira issue",
    "jira_remote_link": "linking the Jira issue to its Slack thread",
    "jira_add_comment": "copying a comment to Jira",
    "jira_update_comment": "updating a comment in Jira",
    "jira_push_field": "updating the Jira issue's status, assignee or priority",
    "post_tracker_comment": "posting a Jira comment in Slack",
    "update_tracker_comment": "updating a Jira comment in Slack",
    "sync_ticket_card": "updating the ticket card in the requester's thread",
    "sync_triage_card": "updating the triage card",
    "retire_triage_card": "marking the triage card as moved to another team",
    "notify_requester": "telling the requester about a change",
    "ticket_confirmation": "confirming the ticket to the requester",
    "post_public_reply": "posting a reply to the requester",
    "recipe_message": "posting a recipe's message",
    "dm_ticket_offer": "offering to make a DM a ticket",
    "publish_home": "updating an App Home",
    "ephemeral": "showing a private notice",
}
"""Each outbox action as a triage agent would put it; see :func:`action_label`."""
TARGET_NAMES = {"slack": "Slack", "jira": "Jira"}
ERROR_ROOM = 1500
"""Characters of the last error shown; the rest is in ``deskhand sync status``."""
CLI_RETRY = "`deskhand sync retry`"


def action_label(action: str) -> str:
    """What the action does, in words (mrkdwn-safe); an action without a label reads as its
    name with spaces for underscores."""
    return ACTION_LABELS.get(action) or t.escape(action.replace("_", " "))


def dead_message(
    key: str, details: dict[str, Any], *, zone: str, retried: Retried | None = None
) -> tuple[str, list[Block]]:
    """The report of a row set aside: ``details`` is the report row's payload (row_id,
    action, target, attempts, error). ``retried``: the round that just died was a retry."""
    row_id = int(details["row_id"])
    label, attempts = action_label(str(details["action"])), int(details["attempts"])
    again = " again" if retried is not None else ""
    headline = (
        f":warning: *{t.escape(key)}*: {label} failed{again} after {attempts} "
        f"attempt{'s' if attempts != 1 else ''} and was set aside."
    )
    note = (
        "Nothing more is tried until an agent presses Retry "
        f"(or runs `deskhand sync retry {row_id}`)."
    )
    if retried is not None:
        note = f"{_retried(retried, zone)}, and it failed again. {note}"
    retry_button: Block = {
        "type": "actions",
        "block_id": "dead_letter_actions",
        "elements": [
            {
                "type": "button",
                "action_id": RETRY_ACTION,
                "text": {"type": "plain_text", "text": "Retry"},
                "style": "primary",
                "value": str(row_id),
            }
        ],
    }
    blocks = [_section(headline), _error(details), retry_button, _context(note)]
    return _fallback(f"{key}: {_plain(details)} failed{again} and was set aside"), blocks


def retrying_message(
    key: str, details: dict[str, Any], retried: Retried, *, zone: str
) -> tuple[str, list[Block]]:
    """The report once someone retried the row: who, instead of the button."""
    label, attempts = action_label(str(details["action"])), int(details["attempts"])
    headline = (
        f":warning: *{t.escape(key)}*: {label} failed after {attempts} "
        f"attempt{'s' if attempts != 1 else ''} and was set aside."
    )
    note = f"{_retried(retried, zone)}: trying again."
    blocks = [_section(headline), _error(details), _context(note)]
    return _fallback(f"{key}: {_plain(details)} is being tried again"), blocks


def went_through_message(
    key: str, details: dict[str, Any], *, at: datetime, retried: Retried | None, zone: str
) -> tuple[str, list[Block]]:
    """The report once the retried row went through, at ``at``: nothing left to do."""
    label, attempts = action_label(str(details["action"])), int(details["attempts"])
    by = ""
    if retried is not None:
        by = (
            f" (by {CLI_RETRY})" if retried.origin == "cli" else f" (by {t.mention(retried.actor)})"
        )
    headline = (
        f":white_check_mark: *{t.escape(key)}*: {label} went through on retry "
        f"{_time(at, zone)}{by}."
    )
    note = (
        f"It had been set aside after {attempts} failed attempt{'s' if attempts != 1 else ''}; "
        f"`deskhand sync status {t.escape(key)}` shows the sync log."
    )
    blocks = [_section(headline), _context(note)]
    return _fallback(f"{key}: {_plain(details)} went through on retry"), blocks


def _retried(retried: Retried, zone: str) -> str:
    who = f"with {CLI_RETRY}" if retried.origin == "cli" else f"by {t.mention(retried.actor)}"
    return f"Retried {who} {_time(retried.at, zone)}"


def _time(at: datetime, zone: str) -> str:
    """``today at 10:42 AM`` on each reader's clock; ``Mar 5 at 10:42 CET`` where a client
    cannot show Slack's date tokens."""
    local = at.astimezone(ZoneInfo(zone))
    fallback = f"{local:%b} {local.day} at {local:%H:%M} {local.tzname()}"
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _plain(details: dict[str, Any]) -> str:
    action = str(details["action"])
    return ACTION_LABELS.get(action) or action.replace("_", " ")


def _fallback(text: str) -> str:
    """The message's plain text (notifications, clients without blocks), escaped."""
    return t.truncate(t.escape(text), t.ADVISED_TEXT)


def _error(details: dict[str, Any]) -> Block:
    target = str(details["target"])
    source = TARGET_NAMES.get(target, t.escape(target))
    error = t.truncate(t.quote(str(details.get("error") or "(no error recorded)")), ERROR_ROOM)
    return {
        "type": "section",
        "block_id": "dead_letter_error",
        "text": _mrkdwn(f"Last error from {source}:\n{error}"),
    }


def _section(text: str) -> Block:
    return {"type": "section", "block_id": "dead_letter", "text": _mrkdwn(text)}


def _context(text: str) -> Block:
    return {"type": "context", "block_id": "dead_letter_state", "elements": [_mrkdwn(text)]}


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}
