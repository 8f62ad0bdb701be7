"""Block Kit checks with Slack's limits, reported the way Slack reports them.

Slack answers a bad message with ``invalid_blocks`` and a bad view with ``invalid_arguments``,
each problem a message ending in a JSON pointer, e.g.
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.
Limits: https://api.slack.com/reference/block-kit/blocks and .../composition-objects.
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELD = 2000
HEADER_TEXT = 150
BLOCK_ID = 255
ACTION_ID = 255
MODAL_TITLE = 24
BUTTON_TEXT = 75
PRIVATE_METADATA = 3000
MESSAGE_TEXT = 40000

_MESSAGE_TYPES = {
    "section",
    "divider",
    "image",
    "actions",
    "context",
    "header",
    "rich_text",
    "file",
    "video",
    "markdown",
}
_VIEW_TYPES = _MESSAGE_TYPES | {"input"}


def block_problems(blocks: Any, *, surface: str, pointer: str = "/blocks") -> list[str]:
    """Problems with ``blocks`` on a surface ('message' or 'view'); empty when all is well."""
    limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
    allowed = _MESSAGE_TYPES if surface == "message" else _VIEW_TYPES
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"must have less than {limit + 1} items [json-pointer:{pointer}]")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict) or block.get("type") not in allowed:
            problems.append(f"failed to match all allowed schemas [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > BLOCK_ID:
                problems.append(
                    f"must be less than {BLOCK_ID + 1} characters [json-pointer:{where}/block_id]"
                )
            elif block_id in block_ids:
                problems.append(f"duplicate block_id [json-pointer:{where}/block_id]")
            else:
                block_ids.add(block_id)
        problems += _block(block, where)
    return problems


def _block(block: dict[str, Any], where: str) -> list[str]:
    kind = block["type"]
    problems: list[str] = []
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"must provide either text or fields [json-pointer:{where}]")
        if "text" in block:
            problems += _text(block["text"], f"{where}/text", SECTION_TEXT)
        fields = block.get("fields", [])
        if not isinstance(fields, list) or len(fields) > 10:
            problems.append(f"must have less than 11 items [json-pointer:{where}/fields]")
        else:
            for i, item in enumerate(fields):
                problems += _text(item, f"{where}/fields/{i}", SECTION_FIELD)
        if "accessory" in block:
            problems += _element(block["accessory"], f"{where}/accessory")
    elif kind == "header":
        problems += _text(block.get("text"), f"{where}/text", HEADER_TEXT, plain_only=True)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            problems.append(f"must have between 1 and 10 items [json-pointer:{where}/elements]")
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            problems.append(f"must have between 1 and 25 items [json-pointer:{where}/elements]")
        else:
            for i, element in enumerate(elements):
                problems += _element(element, f"{where}/elements/{i}")
    elif kind == "input":
        problems += _text(block.get("label"), f"{where}/label", 2000, plain_only=True)
        if "element" not in block:
            problems.append(f"missing required field: element [json-pointer:{where}]")
        else:
            problems += _element(block["element"], f"{where}/element")
    return problems


def _text(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        return [f"must be a valid text object [json-pointer:{where}]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _element(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"failed to match all allowed schemas [json-pointer:{where}]"]
    problems: list[str] = []
    action_id = element.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > ACTION_ID):
        problems.append(
            f"must be less than {ACTION_ID + 1} characters [json-pointer:{where}/action_id]"
        )
    if element["type"] == "button":
        problems += _text(element.get("text"), f"{where}/text", BUTTON_TEXT, plain_only=True)
        value = element.get("value")
        if value is not None and len(str(value)) > 2000:
            problems.append(f"must be less than 2001 characters [json-pointer:{where}/value]")
    return problems


def view_problems(view: Any) -> list[str]:
    """Problems with a modal or home view, pointers under ``/view``."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return ["must be one of modal, home [json-pointer:/view/type]"]
    problems: list[str] = []
    if kind == "modal":
        problems += _text(view.get("title"), "/view/title", MODAL_TITLE, plain_only=True)
        for button in ("submit", "close"):
            if button in view:
                problems += _text(view[button], f"/view/{button}", MODAL_TITLE, plain_only=True)
        has_input = any(
            isinstance(block, dict) and block.get("type") == "input"
            for block in view.get("blocks", [])
        )
        if has_input and "submit" not in view:
            problems.append(
                "submit is required when an input block is present [json-pointer:/view]"
            )
    metadata = view.get("private_metadata", "")
    if not isinstance(metadata, str) or len(metadata) > PRIVATE_METADATA:
        problems.append(
            f"must be less than {PRIVATE_METADATA + 1} characters "
            "[json-pointer:/view/private_metadata]"
        )
    callback_id = view.get("callback_id", "")
    if not isinstance(callback_id, str) or len(callback_id) > 255:
        problems.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    problems += block_problems(view.get("blocks"), surface="view", pointer="/view/blocks")
    return problems
