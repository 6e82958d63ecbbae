"""PhoneNumber -> the "Number details" modal: every field, every skill group, and a copy-friendly block; and the same
modal while the number is looked up, or when the lookup fails. Pure, no I/O.

Every CCC text goes into rich text, which Slack shows literally: nothing to escape, nothing formats or pings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    RichTextBlock,
    RichTextListElement,
    RichTextPreformattedElement,
    RichTextSectionElement,
)
from slack_sdk.models.views import View

from bot.formatters import MAX_VALUE, Message, Text, TextStyle, clip, printable, utc_day
from bot.page import PhoneNumber

TITLE = "Number details"
MAX_GROUPS = 200  # skill groups listed at most; the rest are counted
GROUPS_A_BLOCK = 10  # at most 2,400 characters a block, and 21 blocks for the groups: a modal takes 100
MAX_COPY_TEXT = 3000  # the copy-friendly block at most


def details_view(number: PhoneNumber, instance_id: str) -> dict[str, Any]:
    """The modal for views.open, as JSON."""
    blocks: list[Block] = [
        _rich([Text(text=_shown(number.number) or "?", style=TextStyle(bold=True, code=True))]),
        _fields_block(detail_fields(number, instance_id)),
        DividerBlock(),
        *_groups_blocks(number),
        DividerBlock(),
        _rich([Text(text="Copy", style=TextStyle(bold=True))]),
        RichTextBlock(elements=[RichTextPreformattedElement(elements=[Text(text=copy_text(number, instance_id))])]),
    ]
    return _modal(blocks)


def loading_view(number: str) -> dict[str, Any]:
    """The modal opened at once while CCC is asked for `number`; views.update replaces it."""
    return _modal([_rich([Text(text="Loading the details of "), Text(text=_shown(number) or "?", style=TextStyle(code=True)),
                          Text(text=" from CCC…")])])


def message_view(message: Message) -> dict[str, Any]:
    """The modal that says what a private message would say instead (why there are no details): the same blocks."""
    return _modal(message["blocks"])


def _modal(blocks: Sequence[Block | dict[str, Any]]) -> dict[str, Any]:
    return View(type="modal", title=TITLE, close="Close", blocks=blocks).to_dict()


def detail_fields(number: PhoneNumber, instance_id: str) -> list[tuple[str, str]]:
    """(label, value) for every field of a number but its skill groups, in the order the modal shows them."""
    state = "unknown" if number.active is None else "active" if number.active else "inactive"
    return [
        ("Number", number.number), ("Usage", number.usage), ("State", state), ("Province", number.province),
        ("City", number.city), ("Provider", number.provider), ("Contact flow", number.contact_flow_name),
        ("Contact flow ID", number.contact_flow_id), ("Agent", number.user_id), ("Tags", number.tags),
        ("Added (UTC)", utc_day(number.created_at)), ("Instance", instance_id),
    ]


def group_lines(number: PhoneNumber) -> list[str]:
    """One line per skill group: "name (display name) · ID"."""
    lines = []
    for group in number.skill_groups:
        name = group.name or "?"
        if group.display_name and group.display_name != group.name:
            name += f" ({group.display_name})"
        lines.append(f"{name} · {group.skill_group_id or 'no ID'}")
    return lines


def copy_text(number: PhoneNumber, instance_id: str) -> str:
    """One "Field: value" line each, skill groups last; clipped to MAX_COPY_TEXT."""
    lines = [f"{label}: {printable(value)}" for label, value in detail_fields(number, instance_id)]
    lines += [f"Skill group: {printable(line)}" for line in group_lines(number)] or ["Skill groups: none"]
    return clip("\n".join(lines), MAX_COPY_TEXT)


def _fields_block(fields: list[tuple[str, str]]) -> RichTextBlock:
    parts: list[Text] = []
    for label, value in fields[1:]:  # the number is the heading already
        lead = "\n" if parts else ""
        parts += [Text(text=f"{lead}{label}: ", style=TextStyle(bold=True)), Text(text=_shown(value) or "—")]
    return _rich(parts)


def _groups_blocks(number: PhoneNumber) -> list[RichTextBlock]:
    """A heading, then the skill groups as bullets, GROUPS_A_BLOCK to a block so no block grows too long."""
    lines = [_shown(line, 2 * MAX_VALUE) for line in group_lines(number)]
    if len(lines) > MAX_GROUPS:
        lines = [*lines[:MAX_GROUPS], f"and {len(lines) - MAX_GROUPS} more"]
    heading = _rich([Text(text=f"Skill groups ({len(number.skill_groups)})" if lines else "No skill group",
                          style=TextStyle(bold=True))])
    return [heading, *(_bullets(lines[i:i + GROUPS_A_BLOCK]) for i in range(0, len(lines), GROUPS_A_BLOCK))]


def _bullets(lines: list[str]) -> RichTextBlock:
    items = [RichTextSectionElement(elements=[Text(text=line)]) for line in lines]
    return RichTextBlock(elements=[RichTextListElement(style="bullet", elements=items)])


def _rich(parts: list[Text]) -> RichTextBlock:
    return RichTextBlock(elements=[RichTextSectionElement(elements=parts)])


def _shown(text: str, limit: int = MAX_VALUE) -> str:
    return clip(printable(text), limit)
