"""Page / Problem -> Slack message (text + Block Kit). Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.errors import Problem
from bot.filters import Query, command_text, encode_value
from bot.page import Page, PhoneNumber

ACTION_PREV, ACTION_NEXT, ACTION_SHARE = "numbers_prev", "numbers_next", "numbers_share"
MAX_BLOCKS = 50
MAX_TEXT = 2000  # our own cap for any one text, under Slack's 3000 for a section
MAX_VALUE = 120  # one CCC value (a flow name, a tag) shown at most this long
Message = dict[str, Any]


def escape(text: str) -> str:
    """Slack's control characters, so `<!channel>` in a tag or a pattern shows as text and pings no one."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_line(page: Page) -> str:
    """ "Showing 11-20 of 237 · page 2 of 24", in plain text."""
    if not page.numbers:
        return "No matches"
    return (f"Showing {page.first_row:,}-{page.last_row:,} of {page.total:,} · "
            f"page {page.query.page:,} of {page.page_count:,}")


def headline(query: Query, total: int | None = None) -> str:
    """ "94 numbers in ccc-test · matching 0833 · inbound", in plain text."""
    count = "Numbers" if total is None else f"{total:,} number{'' if total == 1 else 's'}"
    return f"{count} in {query.instance_id} · {query.describe()}"


def page_message(page: Page, *, shared_by: str | None = None) -> Message:
    """The private result with Prev / Next / Share, or (shared_by set) the channel snapshot without buttons."""
    query = page.query
    title = f"*{page.total:,} number{'' if page.total == 1 else 's'}* in `{escape(query.instance_id)}` · {escape(query.describe())}"
    if shared_by:
        title = f"<@{escape(shared_by)}> shared {title}"
    blocks: list[Block] = [_section(title), _context(escape(summary_line(page)))]
    if page.clamped:
        blocks.append(_context(f"There is no page {page.requested_page:,}; this is the last one."))
    if page.truncated:
        blocks.append(_section(f":warning: {page.total:,} numbers match, but CCC lists only the first 10,000. "
                               "Add a number pattern or a filter to narrow it."))
    if not page.numbers:
        blocks.append(_section("Nothing matches. Try a shorter number pattern, or drop a filter."))
    else:
        blocks.append(DividerBlock())
        blocks.extend(_section(number_text(number)) for number in page.numbers)
        blocks.append(DividerBlock())
    if shared_by:
        blocks.append(_context(f"See it yourself: `/numbers {escape(command_text(query))}`"))
    else:
        blocks.extend(_buttons(page))
    return _message(f"{headline(query, page.total)}: {summary_line(page)}", blocks)


def number_text(number: PhoneNumber) -> str:
    """One number in two lines of mrkdwn: the number, usage and state; then where, who and since when."""
    state = {True: ":large_green_circle: active", False: ":red_circle: inactive"}.get(number.active, "state unknown")
    first = f"`{_value(number.number)}`  *{_value(number.usage) or 'usage unknown'}* · {state}"
    return clip(f"{first}\n{' · '.join(detail_parts(number, _value, slack_date))}", MAX_TEXT)


def detail_parts(number: PhoneNumber, value: Callable[[str, int], str], date: Callable[[int], str]) -> list[str]:
    """Where, who and since when, in words; `value` renders a CCC text (escaped, clipped), `date` a Unix time."""
    groups = ", ".join(group.label for group in number.skill_groups)
    details = [
        value(number.location, MAX_VALUE),
        value(number.provider, MAX_VALUE),
        f"flow: {value(number.contact_flow_name, MAX_VALUE)}" if number.contact_flow_name
        else ("" if number.usage == "Outbound" else "no contact flow"),
        f"groups: {value(groups, 300)}" if groups else "no skill group",
        f"agent: {value(number.user_id, MAX_VALUE)}" if number.user_id else "",
        f"tags: {value(number.tags, MAX_VALUE)}" if number.tags else "",
        f"added {date(number.created_at)}" if number.created_at is not None else "",
    ]
    return [d for d in details if d]


def slack_date(unix_seconds: int) -> str:
    """A date Slack shows in the reader's own time zone; the fallback is the UTC date."""
    fallback = datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d")
    return f"<!date^{unix_seconds}^{{date_short}}|{fallback}>"


def problem_message(problem: Problem) -> Message:
    blocks: list[Block] = [_section(f":warning: {escape(problem.message)}")]
    if problem.request_id:
        blocks.append(_context(f"CCC request ID `{escape(problem.request_id)}` (quote it to Alibaba Cloud support)"))
    return _message(problem.message, blocks)


def notice_message(text: str) -> Message:
    """A short private answer: a command we could not read, a button we will not follow."""
    return _message(text, [_section(f":information_source: {escape(text)}")])


def help_message(instances: Sequence[str], rows_per_page: int) -> Message:
    lines = [
        "*`/numbers [PATTERN] [inbound|outbound|bidirection] [active|inactive] [page N] [instance:ID]`*",
        "Lists the phone numbers of the contact center, privately, "
        f"{rows_per_page} at a time. Words go in any order, any case.",
        "• `PATTERN`: digits anywhere in the number, e.g. `0833` or `0011`",
        "• usage: `inbound` (`in`, `呼入`), `outbound` (`out`, `呼出`), `bidirection` (`both`, `bi`, `呼入和呼出`)",
        "• state: `active` (`可用`) or `inactive` (`不可用`)",
        "• `page N`: jump to a page; *Prev* and *Next* buttons page from there",
        "• *Share* posts the page you see to the channel, saying you shared it",
    ]
    if len(instances) > 1:
        lines.append("• `instance:ID`: look in another instance: " + ", ".join(f"`{escape(i)}`" for i in instances))
    examples = "Examples: `/numbers 0833 inbound` · `/numbers outbound inactive` · `/numbers 400 page 2`"
    return _message("How to use /numbers", [_section("\n".join(lines)), _context(examples)])


def to_blocks_json(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _buttons(page: Page) -> list[Block]:
    if not page.numbers:
        return []
    buttons = []
    if page.has_prev:
        buttons.append(ButtonElement(text="◀ Prev", action_id=ACTION_PREV, value=encode_value(page.query.at_page(page.query.page - 1))))
    if page.has_next:
        buttons.append(ButtonElement(text="Next ▶", action_id=ACTION_NEXT, value=encode_value(page.query.at_page(page.query.page + 1))))
    buttons.append(ButtonElement(text="Share in channel", action_id=ACTION_SHARE, value=encode_value(page.query)))
    return [ActionsBlock(block_id="numbers_nav", elements=buttons)]


def _value(text: str, limit: int = MAX_VALUE) -> str:
    return escape(clip(text, limit))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_TEXT)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, MAX_TEXT))])


def _message(text: str, blocks: Sequence[Block]) -> Message:
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack takes at most {MAX_BLOCKS}")
    return {"text": escape(clip(text, MAX_TEXT)), "blocks": to_blocks_json(blocks)}
