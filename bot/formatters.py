"""Page / Problem -> Slack message (text + Block Kit). Pure functions, no I/O."""

from __future__ import annotations

import difflib
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RichTextBlock,
    RichTextElementParts,
    RichTextSectionElement,
    SectionBlock,
    StaticSelectElement,
)

from bot.errors import Problem
from bot.filters import (
    Query,
    command_text,
    encode_value,
    filter_word,
    is_filter_value,
    number_ref,
)
from bot.page import Page, PhoneNumber

ACTION_PREV, ACTION_NEXT, ACTION_SHARE = "numbers_prev", "numbers_next", "numbers_share"
ACTION_EXPORT, ACTION_DETAILS = "numbers_export", "numbers_details"
ACTION_SUMMARY, ACTION_SHARE_SUMMARY, ACTION_LIST = "numbers_summary", "numbers_share_summary", "numbers_list"
MAX_OPTIONS = 20
MAX_OPTION_TEXT = 75  # Slack's limit for a menu option's text
MAX_BLOCKS = 50
MAX_TEXT = 2000  # our own cap for any one text, under Slack's 3000 for a section
MAX_VALUE = 120  # one CCC value (a flow name, a tag) shown at most this long
GROUPS_LIMIT = 300  # all of a number's skill group names together
MASK = "*"  # what hides a digit of a number shown in a channel (NUMBERS_MASK_SHARED)
SHARE_LIMIT = 800  # the command that reproduces a shared page: room for every filter at its longest
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode's control characters (category Cc)
SURROGATE = re.compile(r"[\ud800-\udfff]")  # half of a UTF-16 pair, alone: JSON can carry it, UTF-8 cannot
Message = dict[str, Any]
# A Prev/Next page whose neighbour is no longer the number the user saw next to it, even when read afresh
MOVED_NOTE = ("Numbers were added to or removed from CCC since the previous page, so this page may repeat or skip a few. "
              "Run the command again for a fresh list.")
Text, TextStyle = RichTextElementParts.Text, RichTextElementParts.TextStyle
Emoji, Date = RichTextElementParts.Emoji, RichTextElementParts.Date


def escape(text: str) -> str:
    """Slack's control characters, so `<!channel>` in a tag or a pattern shows as text and pings no one."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def printable(text: str) -> str:
    """`text` with control characters as spaces (a newline would end a code span) and lone surrogates as �."""
    return SURROGATE.sub("\ufffd", CONTROL.sub(" ", text))


def code_span(text: str, limit: int = MAX_VALUE) -> str:
    """A user's or CCC's text as a mrkdwn code span: clipped, then escaped, and shown as is (no bold, no links).

    A backtick would end the span early, so it shows as ˋ."""
    return f"`{escape(clip(printable(text), limit).replace('`', 'ˋ'))}`"


def clip_mrkdwn(text: str, limit: int) -> str:
    """Escaped mrkdwn cut to `limit` characters, never inside an entity (`&amp;`) nor inside a code span."""
    if len(text) <= limit:
        return text
    cut = re.sub(r"&[a-z]*$", "", text[: limit - 1])
    if cut.count("`") % 2:
        cut = cut[: cut.rfind("`")]
    return cut + "…"


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
    title = f"*{page.total:,} number{'' if page.total == 1 else 's'}* in {code_span(query.instance_id)} · {query.describe(code_span)}"
    if shared_by:
        title = f"{mention(shared_by)} shared {title}"
    blocks: list[Block] = [section(title), context(escape(summary_line(page)))]
    if page.clamped:
        blocks.append(context(f"There is no page {page.requested_page:,}; this is the last one."))
    if page.moved:
        blocks.append(context(MOVED_NOTE))
    if page.truncated:
        blocks.append(section(f":warning: {truncation_note(page)}"))
    if not page.numbers:
        blocks.append(section("Nothing matches. Try a shorter number pattern, or drop a filter."))
    else:
        blocks.append(DividerBlock())
        blocks.extend(number_block(number) for number in page.numbers)
        blocks.append(DividerBlock())
    if shared_by:
        blocks.append(see_it_yourself("", query))
    else:
        blocks.extend(_buttons(page))
    return as_message(f"{headline(query, page.total)}: {summary_line(page)}", blocks)


def see_it_yourself(words: str, query: Query) -> ContextBlock:
    """The footer of a shared message: the `/numbers` command (`words` first) that shows the same lookup.

    A pattern masked for the channel (NUMBERS_MASK_SHARED: `0833****7014`) cannot be typed back, so the command keeps
    the digits before the mask, which find the same numbers among others, and says so."""
    visible = query.pattern.partition(MASK)[0]
    command = code_span(f"/numbers {words}{command_text(replace(query, pattern=visible))}", SHARE_LIMIT)
    hidden = " (the whole number is hidden in this channel: add its other digits to narrow it)" if visible != query.pattern else ""
    return context(f"See it yourself: {command}{hidden}")


def truncation_note(page: Page) -> str:
    """Why a result may be incomplete (CCC lists at most 10,000 numbers), in plain text."""
    if page.searched is None:
        return (f"{page.total:,} numbers match, but CCC lists only the first 10,000. "
                "Add a number pattern or a filter to narrow it.")
    return (f"CCC has {page.searched:,} numbers for the pattern, usage and state asked, but lists only the first "
            "10,000: the matches here come from those. Add a number pattern, a usage or a state to search them all.")


def number_block(number: PhoneNumber) -> RichTextBlock:
    """One number in two lines of rich text: the number, usage and state; then where, who and since when.

    Rich text shows CCC's words literally (nothing to escape, nothing formats or pings); the styles are ours."""
    first = [text_run(clip(number.number, MAX_VALUE) or "?", code=True), text_run("  "),
             text_run(clip(number.usage, MAX_VALUE) or "usage unknown", bold=True), text_run(" · "), *_state(number.active)]
    details: list[Text | Date] = []
    for detail in detail_parts(number):
        details += [Text(text=" · " if details else "\n"), *_detail_elements(detail)]  # not text_run(), which would drop the \n
    return RichTextBlock(elements=[RichTextSectionElement(elements=merged([*first, *details]))])


class Detail(NamedTuple):
    """One part of a number's details line: our `label`, then CCC's `text` shown verbatim (up to `limit`).

    For the date, `when` is the Unix time and `text` its UTC day."""

    label: str
    text: str = ""
    limit: int = MAX_VALUE
    when: int | None = None


def detail_parts(number: PhoneNumber) -> list[Detail]:
    """Where, who and since when, in order; the Slack message and the console render them each their way."""
    groups = ", ".join(group.label for group in number.skill_groups)
    parts = [Detail("", text) for text in (number.location, number.provider) if text]
    if number.contact_flow_name:
        parts.append(Detail("flow: ", number.contact_flow_name))
    elif number.usage != "Outbound":
        parts.append(Detail("no contact flow"))
    parts.append(Detail("groups: ", groups, GROUPS_LIMIT) if groups else Detail("no skill group"))
    parts += [Detail(label, text) for label, text in (("agent: ", number.user_id), ("tags: ", number.tags)) if text]
    day = utc_day(number.created_at)
    if day:
        parts.append(Detail("added ", day, when=number.created_at))
    return parts


def utc_day(unix_seconds: int | None) -> str:
    """ "2021-01-01"; empty when there is no time or it is no date (a time in milliseconds lands past year 9999)."""
    if unix_seconds is None:
        return ""
    try:
        return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return ""


def problem_message(problem: Problem) -> Message:
    blocks: list[Block] = [section(f":warning: {escape(printable(problem.message))}")]
    if problem.request_id:
        blocks.append(context(f"CCC request ID {code_span(problem.request_id)} (quote it to Alibaba Cloud support)"))
    return as_message(problem.message, blocks)


def notice_message(text: str) -> Message:
    """A short private answer: a command we could not read, a button we will not follow."""
    return as_message(text, [section(f":information_source: {escape(printable(text))}")])


STATIC_EXAMPLES = ("0833 inbound", "0833 province:四川", 'group:"VIP 热线" active', "outbound inactive tag:M1", "400 page 2")


def help_examples(sample: Iterable[PhoneNumber]) -> tuple[str, ...]:
    """Example commands made of what an instance really holds (its commonest area code, province and skill group),
    falling back on STATIC_EXAMPLES for what `sample` lacks."""
    sample = list(sample)
    area = _commonest(area_code(n.number) for n in sample) or "0833"
    province = _commonest(n.province for n in sample)
    group = _commonest(g.display_name or g.name for n in sample for g in n.skill_groups)
    live = [f"{area} inbound", f"{area} province:{province}" if province else "",
            f"{filter_word('group', group)} active" if group else ""]
    return tuple(dict.fromkeys(example for example in [*live, *STATIC_EXAMPLES] if example))[:len(STATIC_EXAMPLES)]


def closest_example(text: str, examples: Sequence[str]) -> str:
    """ "Closest example: `/numbers …`": the example most like what the user typed, as text for notice_message."""
    best = max(examples, key=lambda example: difflib.SequenceMatcher(None, text.lower(), example.lower()).ratio())
    return f"Closest example: `/numbers {best.replace('`', 'ˋ')}`"


def area_code(number: str) -> str:
    """A Chinese landline's area code: 010 and 02X have three digits, the other 0XXX four; "" for other numbers."""
    if not re.fullmatch(r"0[0-9]{9,11}", number):
        return ""
    return number[:3] if number[1] in "12" else number[:4]


def _commonest(values: Iterable[str]) -> str:
    """The value seen most often, ties to the first seen; "" when there is none a filter can carry."""
    counts = Counter(value for value in values if value and is_filter_value(value))
    return counts.most_common(1)[0][0] if counts else ""


def help_message(instances: Sequence[str], rows_per_page: int, examples: Sequence[str] = STATIC_EXAMPLES) -> Message:
    choice = " [instance:ID]" if len(instances) > 1 else ""
    lines = [
        f"*`/numbers [PATTERN] [inbound|outbound|bidirection] [active|inactive] [province: city: provider: group: "
        f"agent: tag: flow:] [page N]{choice}`*",
        "Lists the phone numbers of the contact center, privately, "
        f"{rows_per_page} at a time. Words go in any order, any case.",
        "• `PATTERN`: digits anywhere in the number, e.g. `0833` or `0011`",
        "• usage: `inbound` (`in`, `呼入`), `outbound` (`out`, `呼出`), `bidirection` (`both`, `bi`, `呼入和呼出`)",
        "• state: `active` (`可用`) or `inactive` (`不可用`)",
        "• `province:` `city:` `provider:` `agent:` `tag:` the exact value, any case, e.g. `province:四川`, `tag:M1`; "
        "`agent:` takes a user ID, with or without `@instance`",
        "• `group:` `flow:` part of a skill group's name or a contact flow's name; quote a value with spaces: "
        "`group:\"VIP 热线\"`. These filters search the first 10,000 numbers of the others, so add a pattern "
        "if you can: the first answer may take a few seconds",
        "• `page N`: jump to a page; *Prev* and *Next* buttons page from there",
        "• `summary` (`stats`, `汇总`) with any filters: counts by usage, state, province, provider and skill group, "
        "and what needs attention, across every match; the *Summary* button under a result does the same",
        "• *Share* posts the page you see to the channel, saying you shared it",
        "• *Export CSV* sends you every match, all columns, as a file in your DM with the bot",
        "• *Details…* opens one number of the page in a modal: every field, all skill groups, a block to copy",
    ]
    if len(instances) > 1:
        lines.append("• `instance:ID`: look in another instance: " + ", ".join(map(code_span, instances)))
    shown = " · ".join(code_span("/numbers " + example) for example in examples)
    return as_message("How to use /numbers", [section("\n".join(lines)), context(f"Examples: {shown}")])


def to_blocks_json(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _buttons(page: Page) -> list[Block]:
    if not page.numbers:
        return []
    buttons = []
    # each carries the number it must land next to, so the service can tell when the rows moved in between
    if page.has_prev:
        prev = page.query.at_page(page.query.page - 1).next_to("before", page.numbers[0].number)
        buttons.append(ButtonElement(text="◀ Prev", action_id=ACTION_PREV, value=encode_value(prev)))
    if page.has_next:
        following = page.query.at_page(page.query.page + 1).next_to("after", page.numbers[-1].number)
        buttons.append(ButtonElement(text="Next ▶", action_id=ACTION_NEXT, value=encode_value(following)))
    buttons.append(ButtonElement(text="Share in channel", action_id=ACTION_SHARE, value=encode_value(page.query)))
    buttons.append(ButtonElement(text="Export CSV", action_id=ACTION_EXPORT, value=encode_value(page.query)))
    buttons.append(ButtonElement(text="Summary", action_id=ACTION_SUMMARY, value=encode_value(page.query.at_page(1))))
    menu = details_menu(page)
    return [ActionsBlock(block_id=fresh_block_id("numbers_nav"), elements=[*buttons, *menu])]


def details_menu(page: Page) -> list[StaticSelectElement]:
    """The "Details…" menu of the numbers on the page; none when no number fits in an option."""
    options = []
    for number in page.numbers[:MAX_OPTIONS]:
        value = number_ref(page.query.instance_id, number.number)
        if value is not None:
            text = PlainTextObject(text=clip(printable(number.number), MAX_OPTION_TEXT), emoji=False)
            options.append(Option(text=text, value=value))
    if not options:
        return []
    return [StaticSelectElement(action_id=ACTION_DETAILS, placeholder="Details…", options=options)]


def fresh_block_id(name: str) -> str:
    """`name` and a suffix new with every render: Slack keeps a menu's choice across an update that reuses the block_id
    ("use a new block_id when a message is updated": https://api.slack.com/reference/block-kit/blocks), so after Next
    the Details menu would still show the number chosen on the page before."""
    return f"{name}.{secrets.token_hex(4)}"


def mention(user_id: str) -> str:
    """The sharer, pinged by Slack ID; anything that is not a user ID reads "Someone" rather than becoming markup."""
    return f"<@{user_id}>" if SLACK_USER_ID.fullmatch(user_id) else "Someone"


def text_run(text: str, *, bold: bool = False, code: bool = False) -> Text:
    """A rich text run, shown literally: no escaping, no mrkdwn."""
    style = TextStyle(bold=bold or None, code=code or None) if bold or code else None
    return Text(text=printable(text), style=style)


def merged(elements: list[Text | Emoji | Date]) -> list[Text | Emoji | Date]:
    """Neighbouring unstyled text runs as one: the same message in fewer elements."""
    merged: list[Text | Emoji | Date] = []
    for element in elements:
        previous = merged[-1] if merged else None
        if isinstance(element, Text) and isinstance(previous, Text) and not element.style and not previous.style:
            merged[-1] = Text(text=previous.text + element.text)
        else:
            merged.append(element)
    return merged


def _state(active: bool | None) -> list[Text | Emoji]:
    if active is None:
        return [text_run("state unknown")]
    return [Emoji(name="large_green_circle" if active else "red_circle"), text_run(" active" if active else " inactive")]


def _detail_elements(detail: Detail) -> list[Text | Date]:
    label = [text_run(detail.label)] if detail.label else []
    if detail.when is not None:  # shown in the reader's time zone; the UTC day where dates are not supported
        return [*label, Date(timestamp=detail.when, format="{date_short}", fallback=detail.text)]
    return [*label, text_run(clip(detail.text, detail.limit))] if detail.text else label


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip_mrkdwn(text, MAX_TEXT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip_mrkdwn(text, MAX_TEXT))])


def as_message(text: str, blocks: Sequence[Block]) -> Message:
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack takes at most {MAX_BLOCKS}")
    return {"text": clip_mrkdwn(escape(printable(text)), MAX_TEXT), "blocks": to_blocks_json(blocks)}
