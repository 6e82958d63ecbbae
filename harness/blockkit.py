"""What Slack refuses in a message or a modal: Block Kit that slack_sdk's models reject, and the documented limits
they do not check. The Slack stand-in answers `invalid_blocks` for a body this finds anything wrong with.

Limits, from Slack's Block Kit reference (https://api.slack.com/reference/block-kit/blocks and the pages of each
block, element and composition object it links to):
- a message holds at most 50 blocks, a modal at most 100 (https://api.slack.com/reference/block-kit/blocks);
- a section's text at most 3,000 characters (…/blocks#section);
- a button's value at most 2,000 characters (…/block-elements#button);
- an option's text at most 75 characters and its value at most 150 (…/composition-objects#option);
- a static select at most 100 options (…/block-elements#static_select);
- an actions block at most 25 elements (…/blocks#actions);
- a modal's title at most 24 characters (https://api.slack.com/reference/surfaces/views);
- block_ids unique within one message or view (…/blocks: "block_id … should be unique for each message").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_ACTIONS_ELEMENTS = 25
MAX_VIEW_TITLE = 24


def message_problems(body: dict[str, Any]) -> list[str]:
    """Why Slack would refuse a message body (text + blocks) with `invalid_blocks`; empty when it would take it."""
    blocks = body.get("blocks") or []
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems = [f"{len(blocks)} blocks; a message takes at most {MAX_MESSAGE_BLOCKS}"] if len(blocks) > MAX_MESSAGE_BLOCKS else []
    return problems + blocks_problems(blocks)


def view_problems(view: dict[str, Any]) -> list[str]:
    """Why Slack would refuse a view (views.open, views.update) with `invalid_arguments`; empty when it would take it."""
    problems = []
    title = (view.get("title") or {}).get("text") or ""
    if not 1 <= len(title) <= MAX_VIEW_TITLE:
        problems.append(f"the title has {len(title)} characters; a view's takes 1 to {MAX_VIEW_TITLE}")
    blocks = view.get("blocks") or []
    if len(blocks) > MAX_VIEW_BLOCKS:
        problems.append(f"{len(blocks)} blocks; a modal takes at most {MAX_VIEW_BLOCKS}")
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError) as e:
        problems.append(f"the view: {e}")
    return problems + blocks_problems(blocks)


def blocks_problems(blocks: list[Any]) -> list[str]:
    problems = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        where = f"block {index}"
        if not isinstance(raw, dict):
            problems.append(f"{where} is not an object")
            continue
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in seen_ids:
                problems.append(f"{where}: block_id {block_id!r} is used twice")
            seen_ids.add(block_id)
        problems += [f"{where}: {problem}" for problem in _block_problems(raw)]
    return problems


def _block_problems(raw: dict[str, Any]) -> Iterator[str]:
    try:
        block = Block.parse(raw)
        if block is None:
            yield f"unknown block type {raw.get('type')!r}"
            return
        block.validate_json()
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as e:
        yield f"{type(e).__name__}: {e}"
    if raw.get("type") == "section":
        text = (raw.get("text") or {}).get("text") or ""
        if len(text) > MAX_SECTION_TEXT:
            yield f"section text of {len(text)} characters; at most {MAX_SECTION_TEXT}"
    if raw.get("type") == "actions" and len(raw.get("elements") or []) > MAX_ACTIONS_ELEMENTS:
        yield f"{len(raw['elements'])} elements in an actions block; at most {MAX_ACTIONS_ELEMENTS}"
    for element in _elements(raw):
        yield from _element_problems(element)


def _elements(raw: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e for e in raw.get("elements") or [] if isinstance(e, dict)] if raw.get("type") == "actions" else []
    accessory = raw.get("accessory")
    return [*found, accessory] if isinstance(accessory, dict) else found


def _element_problems(element: dict[str, Any]) -> Iterator[str]:
    kind = element.get("type")
    if kind == "button" and len(str(element.get("value") or "")) > MAX_BUTTON_VALUE:
        yield f"a button value of {len(element['value'])} characters; at most {MAX_BUTTON_VALUE}"
    options = element.get("options") or []
    if kind == "static_select" and len(options) > MAX_OPTIONS:
        yield f"{len(options)} options; a menu takes at most {MAX_OPTIONS}"
    for option in options:
        text = (option.get("text") or {}).get("text") or ""
        value = option.get("value") or ""
        if len(text) > MAX_OPTION_TEXT:
            yield f"an option text of {len(text)} characters; at most {MAX_OPTION_TEXT}"
        if len(value) > MAX_OPTION_VALUE:
            yield f"an option value of {len(value)} characters; at most {MAX_OPTION_VALUE}"
