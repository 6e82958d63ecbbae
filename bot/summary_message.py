"""Summary -> Slack message: the counts, what needs attention, and the progress note while counting. Pure functions."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, RichTextBlock, RichTextSectionElement

from bot.filters import MAX_REACHABLE, Query, encode_value
from bot.formatters import (
    ACTION_EXPORT,
    ACTION_LIST,
    ACTION_SHARE_SUMMARY,
    MAX_VALUE,
    Message,
    Text,
    as_message,
    clip,
    code_span,
    context,
    fresh_block_id,
    headline,
    mention,
    merged,
    section,
    see_it_yourself,
    text_run,
)
from bot.summary import CHANGED_WHILE_COUNTING_TEXT, Summary, Tally

TALLY_SHOWN = 12  # values of one breakdown shown; the rest are summed up as "N more"
ATTENTION_SHOWN = 10  # numbers of one check shown; Export CSV has them all
CHANGED_WHILE_COUNTING = f":warning: {CHANGED_WHILE_COUNTING_TEXT}"


def summary_message(summary: Summary, *, shared_by: str | None = None, mask: Callable[[str], str] = str) -> Message:
    """The private summary with Back to the list / Share / Export CSV, or (shared_by set) the channel snapshot.

    `mask` is applied to every number shown (NUMBERS_MASK_SHARED for a shared one)."""
    query = summary.query
    title = f"*Summary of {_count(summary.total)}* in {code_span(query.instance_id)} · {query.describe(code_span)}"
    if shared_by:
        title = f"{mention(shared_by)} shared {title}"
    scope = _scope(summary) + (" Counted when shared." if shared_by else "")
    blocks: list[Block] = [section(title), context(scope)]
    if summary.unsettled:
        blocks.append(context(CHANGED_WHILE_COUNTING))
    if summary.truncated:
        blocks.append(section(f":warning: CCC has {summary.searched:,} numbers for the pattern, usage and state asked, but "
                              "lists only the first 10,000: these counts cover those. Add a number pattern, a usage or a "
                              "state to count them all."))
    if not summary.total:
        blocks.append(section("Nothing matches, so there is nothing to count. Try a shorter number pattern, or drop a filter."))
    else:
        blocks += [_tally_block(tally, summary.total) for tally in summary.tallies]
        blocks += [DividerBlock(), section("*Needs attention*"), *_attention_blocks(summary, mask)]
    if shared_by:
        blocks.append(see_it_yourself("summary ", query.at_page(1)))
    else:
        blocks.append(_buttons(query))
    return as_message(f"Summary of {headline(query, summary.total)}", blocks)


def progress_message(query: Query, done: int, total: int, *, follows: bool = False) -> Message:
    """ "Counted 2,300 of 8,712 numbers…" while a summary is counted. `follows`: the summary comes as a new message
    (a command's reply cannot be replaced), rather than in place of this one."""
    percent = 100 * done // total if total else 100
    note = f"Counted {done:,} of {total:,} numbers ({percent}%)…"
    if follows:
        note += " The summary will follow in a new message."
    title = f":hourglass_flowing_sand: *Counting for a summary* of {code_span(query.instance_id)} · {query.describe(code_span)}"
    return as_message(note, [section(title), context(note)])


def with_back_button(message: Message, query: Query) -> Message:
    """`message` (a problem that took the list's place) with the button back to the list."""
    back = ActionsBlock(block_id=fresh_block_id("numbers_back"), elements=[_back_button(query)])
    return {**message, "blocks": [*message["blocks"], back.to_dict()]}


def _count(total: int) -> str:
    return f"{total:,} number{'' if total == 1 else 's'}"


def _scope(summary: Summary) -> str:
    """What was counted, in one line of mrkdwn."""
    if not summary.query.row_filters:
        return f"Every number CCC lists for these filters: {summary.total:,}."
    read = min(summary.searched, MAX_REACHABLE)
    return f"{summary.total:,} of the {read:,} numbers with this pattern, usage and state pass the row filters."


def _tally_block(tally: Tally, total: int) -> RichTextBlock:
    """ "Province" in bold, then "四川 3,100 (36%) · 广东 2,000 (23%) · … · 5 more 120", CCC's words shown literally."""
    shown, rest = tally.counts[:TALLY_SHOWN], tally.counts[TALLY_SHOWN:]
    parts: list[Text] = [text_run(tally.title, bold=True), Text(text="\n")]
    for index, (value, count) in enumerate(shown):
        parts += [text_run(" · " if index else ""), text_run(clip(value, MAX_VALUE)),
                  text_run(f" {count:,} ({_share(count, total)})")]
    if rest:
        parts.append(text_run(f" · {len(rest):,} more {sum(count for _, count in rest):,}"))
    return RichTextBlock(elements=[RichTextSectionElement(elements=merged([p for p in parts if p.text]))])


def _share(count: int, total: int) -> str:
    percent = 100 * count / total
    return f"{percent:.0f}%" if percent >= 1 or not count else "<1%"


def _attention_blocks(summary: Summary, mask: Callable[[str], str]) -> list[Block]:
    if not any(check.numbers for check in summary.attention):
        return [section(":white_check_mark: Nothing: every active number that takes calls has a contact flow, every number "
                        "is in a skill group, and no inactive number is bound to an agent.")]
    blocks: list[Block] = []
    for check in summary.attention:
        found = len(check.numbers)
        parts: list[Text] = [text_run(f"{check.title}: ", bold=True), text_run(f"{found:,}" if found else "none")]
        for index, number in enumerate(check.numbers[:ATTENTION_SHOWN]):
            parts += [Text(text="\n" if not index else " "), text_run(clip(mask(number), MAX_VALUE) or "?", code=True)]
        if found > ATTENTION_SHOWN:
            parts.append(text_run(f" and {found - ATTENTION_SHOWN:,} more"))
        blocks.append(RichTextBlock(elements=[RichTextSectionElement(elements=merged(parts))]))
    return blocks


def _buttons(query: Query) -> ActionsBlock:
    value = encode_value(query.at_page(1))
    return ActionsBlock(block_id=fresh_block_id("numbers_summary_nav"), elements=[
        _back_button(query),
        ButtonElement(text="Share in channel", action_id=ACTION_SHARE_SUMMARY, value=value),
        ButtonElement(text="Export CSV", action_id=ACTION_EXPORT, value=value),
    ])


def _back_button(query: Query) -> ButtonElement:
    return ButtonElement(text="◀ Back to the list", action_id=ACTION_LIST, value=encode_value(query.at_page(1)))
