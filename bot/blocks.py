"""Block Kit for Deskhand's two cards: the ticket card (requester's thread) and the triage card.

Every piece of text a person wrote goes through :mod:`bot.text` (escaped, truncated); the only
``<…>`` constructs in a card are Deskhand's own user mentions and links. Every interactive
element names its ticket: buttons by ``value`` (the ticket id), selects by their block's id.
"""

from __future__ import annotations

from typing import Any

from bot import text as t
from bot.ids import Action, ticket_block_id
from deskhand.domain import LEVELS, Priority, TicketStatus
from deskhand.tickets.views import TicketView

Block = dict[str, Any]

FIELD_SECTIONS = 3
"""At most this many sections of (10) form answers; the rest is counted, not shown."""
_LABEL = 200
_PRIVATE_STUB = "Request from a private conversation"


def ticket_card(view: TicketView) -> tuple[str, list[Block]]:
    """Fallback text and blocks of the card in the requester's thread."""
    key, title = t.escape(view.key), t.escape(view.title)
    verb = "opened" if view.status is TicketStatus.OPEN else f"is {view.status.label.lower()}"
    text = t.truncate(f"Ticket {key} {verb}: {title}", t.ADVISED_TEXT)
    fields = [
        _field("Status", view.status.label),
        _field("Team", t.escape(view.team)),
        _field("Assignee", _assignee(view)),
        _field("Priority", view.priority.label),
    ]
    if view.jira_key:
        jira = t.link(view.jira_url, view.jira_key) if view.jira_url else t.escape(view.jira_key)
        fields.append(_field("Jira", jira))
    if view.status.is_done:
        button = _button("Reopen", Action.REOPEN_TICKET, view)
    else:
        button = _button("Close ticket", Action.CLOSE_TICKET, view)
        button["confirm"] = {
            "title": _plain("Close this ticket?"),
            "text": _plain(f"{view.key} will be closed. You can reopen it later."),
            "confirm": _plain("Close it"),
            "deny": _plain("Keep it open"),
        }
    blocks: list[Block] = [
        _section(view, "summary", t.truncate(f"*{key}* · {title}", t.SECTION_TEXT)),
        {"type": "section", "block_id": ticket_block_id(view.id, "details"), "fields": fields},
        {"type": "actions", "block_id": ticket_block_id(view.id, "ticket"), "elements": [button]},
    ]
    return text, blocks


def triage_card(
    view: TicketView, *, teams: list[str], agents_hint: str | None = None
) -> tuple[str, list[Block]]:
    """Fallback text and blocks of the card in the team's private triage channel.

    A ticket from a private channel or DM shows a stub and a link instead of anything the
    requester wrote (title, description, form answers): the triage channel's members may not
    be members of the conversation it came from.
    """
    key = t.escape(view.key)
    title = f"_{_PRIVATE_STUB}_" if view.private_origin else t.escape(view.title)
    text = t.truncate(f"New ticket {key}: {title}", t.ADVISED_TEXT)
    byline = f"From {t.mention(view.requester)}"
    if view.service:
        byline += f" · {t.truncate(t.escape(view.service), _LABEL)}"
    if view.origin_permalink:
        byline += f" · {t.link(view.origin_permalink, 'original message')}"
    room = max(t.SECTION_TEXT - len(byline) - 1, 200)
    headline = t.truncate(f"*{key}* · {title}", room) + "\n" + byline
    blocks: list[Block] = [_section(view, "summary", t.truncate(headline, t.SECTION_TEXT))]
    blocks += _request(view)
    blocks.append(_context(view, agents_hint))
    blocks += _controls(view, teams)
    return text, blocks


def _request(view: TicketView) -> list[Block]:
    """What the requester wrote: description and form answers, or the private stub."""
    if view.private_origin:
        stub = "_The text stays in the conversation the request came from._"
        if view.origin_permalink:
            stub += " " + t.link(view.origin_permalink, "Open it")
        if view.fields:
            stub += f"\n_{len(view.fields)} form answer(s) hidden._"
        return [_section(view, "request", stub)]
    blocks: list[Block] = []
    if view.description.strip():
        more = view.origin_permalink or view.jira_url
        body = t.truncate(t.quote(view.description), t.SECTION_TEXT, link=more)
        blocks.append(_section(view, "request", body))
    answers = [
        _field(t.truncate(t.escape(label), _LABEL), t.escape(value) or "—")
        for label, value in view.fields.items()
    ]
    shown = answers[: FIELD_SECTIONS * t.SECTION_FIELDS]
    for n, start in enumerate(range(0, len(shown), t.SECTION_FIELDS)):
        chunk = shown[start : start + t.SECTION_FIELDS]
        blocks.append(
            {"type": "section", "block_id": ticket_block_id(view.id, f"form_{n}"), "fields": chunk}
        )
    if len(answers) > len(shown):
        hidden = f"_…and {len(answers) - len(shown)} more form answers._"
        blocks.append(_section(view, "more_answers", hidden))
    return blocks


def _context(view: TicketView, agents_hint: str | None) -> Block:
    state = " · ".join(
        (
            view.status.label,
            view.priority.label,
            f"L{view.level}",
            _assignee(view),
            t.truncate(t.escape(view.team), _LABEL),
        )
    )
    notes = [state]
    if view.routed_by:
        notes.append(t.escape(view.routed_by))
    if agents_hint:
        notes.append(t.escape(agents_hint))
    return {
        "type": "context",
        "block_id": ticket_block_id(view.id, "state"),
        "elements": [_mrkdwn(t.truncate(note, t.SECTION_TEXT)) for note in notes],
    }


def _controls(view: TicketView, teams: list[str]) -> list[Block]:
    """Two rows: who works on it (claim, assign, level, Jira), then status, priority, team."""
    people: list[Block] = [_button("Claim", Action.CLAIM, view, style="primary")]
    assign: Block = {
        "type": "users_select",
        "action_id": Action.ASSIGN.value,
        "placeholder": _plain("Assign…"),
    }
    if view.assignee:
        assign["initial_user"] = view.assignee
    people.append(assign)
    if view.level < LEVELS[-1]:
        people.append(_button(f"Escalate to L{view.level + 1}", Action.ESCALATE, view))
    if view.level > LEVELS[0]:
        people.append(_button(f"Back to L{view.level - 1}", Action.DEESCALATE, view))
    if view.jira_url:
        jira = _button(f"Open {view.jira_key or 'in Jira'}", Action.OPEN_IN_JIRA, view)
        jira["url"] = view.jira_url
        people.append(jira)
    statuses = [(s.label, s.value) for s in TicketStatus]
    priorities = [(p.label, p.value) for p in Priority]
    settings = [
        _select(Action.SET_STATUS, "Status", statuses, view.status.value),
        _select(Action.SET_PRIORITY, "Priority", priorities, view.priority.value),
    ]
    others = [(team, team) for team in teams if team != view.team and len(team) <= t.OPTION_VALUE]
    if others:
        settings.append(_select(Action.MOVE_TEAM, "Move to team…", others[: t.SELECT_OPTIONS]))
    return [
        {"type": "actions", "block_id": ticket_block_id(view.id, "people"), "elements": people},
        {"type": "actions", "block_id": ticket_block_id(view.id, "settings"), "elements": settings},
    ]


def _assignee(view: TicketView) -> str:
    return t.mention(view.assignee) if view.assignee else "_Unassigned_"


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int = t.BUTTON_TEXT) -> Block:
    """plain_text is never parsed for mentions or links, so it needs no escaping."""
    return {"type": "plain_text", "text": t.truncate(text, limit) or " ", "emoji": True}


def _section(view: TicketView, part: str, text: str) -> Block:
    return {"type": "section", "block_id": ticket_block_id(view.id, part), "text": _mrkdwn(text)}


def _field(label: str, value: str) -> Block:
    """A section field: bold label over value, both already mrkdwn-safe."""
    return _mrkdwn(t.truncate(f"*{label}*\n{value}", t.SECTION_FIELD))


def _button(label: str, action: Action, view: TicketView, *, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action.value,
        "text": _plain(label),
        "value": str(view.id),
    }
    if style:
        button["style"] = style
    return button


def _select(
    action: Action, placeholder: str, choices: list[tuple[str, str]], initial: str | None = None
) -> Block:
    options = [{"text": _plain(label, t.OPTION_TEXT), "value": value} for label, value in choices]
    select: Block = {
        "type": "static_select",
        "action_id": action.value,
        "placeholder": _plain(placeholder, t.PLACEHOLDER),
        "options": options,
    }
    chosen = [option for option in options if option["value"] == initial]
    if chosen:
        select["initial_option"] = chosen[0]
    return select


class BlockLimitError(ValueError):
    """Blocks Slack would refuse; the message lists every problem with a JSON pointer."""


def assert_within_limits(blocks: list[Block], *, surface: str = "message") -> None:
    """Raise :class:`BlockLimitError` unless ``blocks`` fit Slack's limits on ``surface``."""
    problems = limit_problems(blocks, surface=surface)
    if problems:
        raise BlockLimitError("; ".join(problems))


def limit_problems(blocks: list[Block], *, surface: str = "message") -> list[str]:
    """Slack's documented size limits that ``blocks`` break ('message' or 'view' surface)."""
    most = t.BLOCKS_PER_MESSAGE if surface == "message" else t.BLOCKS_PER_VIEW
    problems = [f"/blocks: more than {most} blocks"] if len(blocks) > most else []
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        block_id = block.get("block_id")
        if block_id is not None and (len(block_id) > t.BLOCK_ID or block_id in seen):
            problems.append(f"{where}/block_id: too long or duplicate")
        seen.add(block_id or "")
        if "text" in block:
            limit = t.HEADER_TEXT if block["type"] == "header" else t.SECTION_TEXT
            problems += _text_problems(block["text"], limit, f"{where}/text")
        fields = block.get("fields", [])
        if len(fields) > t.SECTION_FIELDS:
            problems.append(f"{where}/fields: more than {t.SECTION_FIELDS}")
        for j, field in enumerate(fields):
            problems += _text_problems(field, t.SECTION_FIELD, f"{where}/fields/{j}")
        elements = block.get("elements", [])
        most_elements = t.CONTEXT_ELEMENTS if block["type"] == "context" else t.ACTIONS_ELEMENTS
        if block["type"] in ("context", "actions") and not 1 <= len(elements) <= most_elements:
            problems.append(f"{where}/elements: not between 1 and {most_elements}")
        action_ids: set[str] = set()
        for j, element in enumerate(elements):
            if element.get("action_id") in action_ids:
                problems.append(f"{where}/elements/{j}/action_id: duplicate")
            action_ids.add(element.get("action_id", ""))
            problems += _element_problems(element, f"{where}/elements/{j}")
    return problems


def _text_problems(obj: Block, limit: int, where: str) -> list[str]:
    text = obj.get("text")
    if obj.get("type") not in ("plain_text", "mrkdwn") or not isinstance(text, str) or not text:
        return [f"{where}: not a text object with text"]
    return [f"{where}: longer than {limit}"] if len(text) > limit else []


def _element_problems(element: Block, where: str) -> list[str]:
    if element.get("type") in ("mrkdwn", "plain_text"):
        return _text_problems(element, t.SECTION_TEXT, where)
    problems: list[str] = []
    if len(element.get("action_id", "")) > t.ACTION_ID:
        problems.append(f"{where}/action_id: longer than {t.ACTION_ID}")
    if len(element.get("value", "")) > t.VALUE or len(element.get("url", "")) > t.URL:
        problems.append(f"{where}: value or url too long")
    if "text" in element:
        problems += _text_problems(element["text"], t.BUTTON_TEXT, f"{where}/text")
    if "placeholder" in element:
        problems += _text_problems(element["placeholder"], t.PLACEHOLDER, f"{where}/placeholder")
    options = element.get("options")
    if options is not None:
        if not 1 <= len(options) <= t.SELECT_OPTIONS:
            problems.append(f"{where}/options: not between 1 and {t.SELECT_OPTIONS}")
        for k, option in enumerate(options):
            problems += _text_problems(option["text"], t.OPTION_TEXT, f"{where}/options/{k}")
            if len(option["value"]) > t.OPTION_VALUE:
                problems.append(f"{where}/options/{k}/value: longer than {t.OPTION_VALUE}")
        if "initial_option" in element and element["initial_option"] not in options:
            problems.append(f"{where}/initial_option: not one of the options")
    return problems
