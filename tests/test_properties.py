"""Properties that hold for any input: the parser and the button decoder only ever refuse with QueryError,
and every message is valid Block Kit in which no text from a user or from CCC can ping, link or format."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.errors import Problem
from bot.filters import (
    MAX_FILTER_VALUE,
    MAX_PATTERN_LENGTH,
    MAX_VALUE_LENGTH,
    ROW_FILTERS,
    TAG_SEPARATORS,
    USAGES,
    HelpRequest,
    Query,
    QueryError,
    SummaryRequest,
    command_text,
    decode_value,
    encode_value,
    is_filter_value,
    parse_command,
)
from bot.formatters import MASK, SLACK_USER_ID, help_message, notice_message, page_message, problem_message
from bot.page import Page, PhoneNumber, SkillGroup
from bot.summary import summarize
from bot.summary_message import progress_message, summary_message

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- strategies -----------------------------------------------------------------------------------

INJECTIONS = ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<http://evil.example|click>",
              "*bold*", "_it_", "~st~", "`code`", "```", "&", "&amp;", "&lt;", ":warning:", "\n", "\x00", "\u202e", "\ud800"]
WORDS = ["inbound", "outbound", "in", "呼入", "active", "inactive", "page", "p", "page:", "instance:", "help", "0833",
         "+86-10", "-", "：", "\u3000", "²", "０８３３", "İnstance:", "ccc-test", "ccc-demo",
         *(f"{name}:" for name in ROW_FILTERS), "Province:四川", 'group:"VIP 热线"', "“", "”", '"', "provence:",
         "summary", "统计", "Stats"]

lengths = st.integers(1, 50) | st.integers(2000, 6000)  # short, or longer than any limit (int() stops at 4,300 digits)
# Any code point, lone surrogates included (JSON from CCC can carry them): the text Slack must never choke on.
any_text = st.text(st.characters() | st.integers(0xD800, 0xDFFF).map(chr), max_size=60)
hostile_text = st.one_of(
    any_text,
    st.lists(st.sampled_from(INJECTIONS + WORDS) | any_text, max_size=8).map("".join),
    st.tuples(st.sampled_from(INJECTIONS + ["&", "<", "`"]), lengths).map(lambda pair: pair[0] * pair[1]),
)
instance_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
configurations = st.builds(
    lambda default, others, max_page: (default, (default, *others), max_page),
    instance_ids, st.lists(instance_ids, max_size=3), st.sampled_from([1, 2, 500, 1000, 10_000]),
)
digits = st.from_regex(r"[0-9]{1,40}", fullmatch=True) | lengths.map(lambda n: "0" * (n % 2) + "9" * n)
page_words = st.tuples(st.sampled_from(["page ", "p ", "page:", "PAGE "]), digits | hostile_text).map("".join)
command_texts = st.one_of(
    hostile_text,
    page_words,
    st.lists(st.sampled_from(WORDS) | digits | page_words | hostile_text, max_size=6).map(" ".join),
)


def row_filters(values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """Some of the row filters, in ROW_FILTERS order, as a Query holds them."""
    chosen = st.dictionaries(st.sampled_from(list(ROW_FILTERS)), values, max_size=len(ROW_FILTERS))
    return chosen.map(lambda found: tuple((name, found[name]) for name in ROW_FILTERS if name in found))


# What a row filter may hold: any text but quotes, controls and lone surrogates, no space at either end.
filter_values = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters='"“”'),
                        min_size=1, max_size=MAX_FILTER_VALUE).map(str.strip).filter(bool)


def valid_queries(allowed: tuple[str, ...], max_page: int) -> st.SearchStrategy[Query]:
    return st.builds(
        Query, instance_id=st.sampled_from(allowed), pattern=st.from_regex(rf"[0-9]{{0,{MAX_PATTERN_LENGTH}}}", fullmatch=True),
        usage=st.none() | st.sampled_from(USAGES), active=st.none() | st.booleans(), page=st.integers(1, max_page),
        row_filters=row_filters(filter_values),
    )


groups = st.builds(SkillGroup, skill_group_id=hostile_text, name=hostile_text, display_name=hostile_text)
phone_numbers = st.builds(
    PhoneNumber, number=hostile_text, active=st.none() | st.booleans(), usage=st.sampled_from(USAGES) | hostile_text,
    province=hostile_text, city=hostile_text, provider=hostile_text, contact_flow_name=hostile_text,
    contact_flow_id=hostile_text, skill_groups=st.lists(groups, max_size=4).map(tuple), user_id=hostile_text,
    tags=hostile_text, created_at=st.none() | st.integers(-(2**40), 2**70),
)
# A page's query came from parse_command or decode_value, so its instance and pattern are short; their text is
# hostile all the same, to show that the formatter does not rely on them being valid.
query_text = st.sampled_from(INJECTIONS) | any_text
shown_queries = st.builds(
    Query, instance_id=query_text, pattern=query_text, usage=st.none() | st.sampled_from(USAGES),
    active=st.none() | st.booleans(), page=st.integers(1, 10_000), row_filters=row_filters(query_text),
)


@st.composite
def pages(draw: st.DrawFn) -> Page:
    rows = draw(st.integers(1, 20))
    numbers = tuple(draw(st.lists(phone_numbers, max_size=rows)))
    total = draw(st.integers(len(numbers), 10**9) if numbers else st.just(0) | st.integers(0, 10**9))
    return Page(draw(shown_queries), numbers, total, rows, requested_page=draw(st.integers(1, 10**6)))


slack_ids = st.from_regex(r"[UW][A-Z0-9]{8,10}", fullmatch=True)
problems = st.builds(Problem, kind=st.sampled_from(["unknown", "server"]), message=hostile_text, code=hostile_text,
                     request_id=hostile_text)


# --- parse_command --------------------------------------------------------------------------------


@FAST
@given(text=command_texts, config=configurations)
def test_parse_command_answers_a_query_help_or_a_query_error(text: str, config: tuple[str, tuple[str, ...], int]) -> None:
    default, allowed, max_page = config
    try:
        parsed = parse_command(text, default_instance=default, allowed_instances=allowed, max_page=max_page)
    except QueryError as e:
        assert_readable_error(str(e))
        return
    assert isinstance(parsed, Query | HelpRequest | SummaryRequest)
    if isinstance(parsed, SummaryRequest):
        assert parsed.query.page == 1
        parsed = parsed.query
    if isinstance(parsed, Query):
        assert 1 <= parsed.page <= max_page
        assert parsed.instance_id in allowed
        assert re.fullmatch(rf"[0-9]{{0,{MAX_PATTERN_LENGTH}}}", parsed.pattern)
        assert all(name in ROW_FILTERS and is_filter_value(value) for name, value in parsed.row_filters)


@FAST
@given(data=st.data(), config=configurations)
def test_command_text_gives_back_the_query(data: st.DataObject, config: tuple[str, tuple[str, ...], int]) -> None:
    """What the share footer says to type is the lookup shared (but for a tag that holds a separator, which no tag
    can match and the parser refuses)."""
    _, allowed, max_page = config
    query = data.draw(valid_queries(allowed, max_page).filter(lambda q: not any(
        name == "tag" and TAG_SEPARATORS.search(value) for name, value in q.row_filters)))
    assert parse_command(command_text(query), default_instance=allowed[0], allowed_instances=allowed, max_page=max_page) == query


def assert_readable_error(message: str) -> None:
    """Short, and what the user typed is only ever inside a code span, where Slack cannot format it."""
    assert 0 < len(message) <= 600
    outside = re.sub(r"`[^`\n]*`", "", message)
    assert not set(outside) & set("`*_~<>&\n")


# --- decode_value ---------------------------------------------------------------------------------

ALLOWED, MAX_PAGE = ("ccc-test", "ccc-demo"), 1000
real_values = valid_queries(ALLOWED, MAX_PAGE).map(encode_value)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from([*"viquapfx", *ROW_FILTERS]) | any_text, inner, max_size=8),
    max_leaves=12,
)


@st.composite
def altered_values(draw: st.DrawFn) -> str:
    """A real button value, truncated, spliced, padded, or with one key given any JSON value."""
    value = draw(real_values)
    how = draw(st.sampled_from(["cut", "splice", "pad", "key"]))
    if how == "cut":
        return value[: draw(st.integers(0, len(value)))]
    if how == "splice":
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(any_text) + value[at:]
    if how == "pad":
        return value + " " * draw(st.integers(0, 2 * MAX_VALUE_LENGTH))
    data = json.loads(value)
    data[draw(st.sampled_from(list(data)))] = draw(json_values | st.integers(-(10**30), 10**30))
    return json.dumps(data)


any_value = st.one_of(
    st.none(), st.integers(), st.floats(), st.binary(max_size=20), json_values, any_text,
    json_values.map(json.dumps), altered_values(),
    st.integers(1, MAX_VALUE_LENGTH).map(lambda n: "[" * n),  # deeper than the JSON parser recurses
)


@FAST
@given(value=any_value)
def test_decode_value_refuses_anything_but_its_own_with_query_error(value: object) -> None:
    try:
        query = decode_value(value, allowed_instances=ALLOWED, max_page=MAX_PAGE)
    except QueryError as e:
        assert_readable_error(str(e))
        return
    assert query.instance_id in ALLOWED and 1 <= query.page <= MAX_PAGE


@FAST
@given(data=st.data(), config=configurations)
def test_every_valid_query_survives_a_button_round_trip(data: st.DataObject, config: tuple[str, tuple[str, ...], int]) -> None:
    _, allowed, max_page = config
    query = data.draw(valid_queries(allowed, max_page))
    value = encode_value(query)
    assert len(value) <= MAX_VALUE_LENGTH
    assert decode_value(value, allowed_instances=allowed, max_page=max_page) == query


# --- messages -------------------------------------------------------------------------------------


@SLOW
@given(page=pages(), shared_by=st.none() | slack_ids | hostile_text)
def test_any_page_is_valid_block_kit_that_pings_no_one(page: Page, shared_by: str | None) -> None:
    message = page_message(page, shared_by=shared_by)
    assert_safe_message(message, mention=shared_by)
    rows = [block for block in message["blocks"] if block["type"] == "rich_text"]
    assert len(rows) == len(page.numbers)


@SLOW
@given(page=pages(), instance=query_text, pattern=query_text, values=st.lists(query_text, min_size=7, max_size=7))
def test_user_and_ccc_text_in_mrkdwn_sits_only_inside_code_spans(page: Page, instance: str, pattern: str,
                                                                 values: list[str]) -> None:
    """The mrkdwn looks the same whatever the instance, pattern and row filter values are, once each code span is
    blanked out. (A pattern masked for the channel, with MASK in it, adds a note on purpose: test_formatters.)"""
    names = [name for name, _ in page.query.row_filters]
    plain = replace(page, query=replace(page.query, instance_id="i", pattern="1", row_filters=tuple((n, "x") for n in names)))
    odd = replace(page, query=replace(page.query, instance_id=instance, pattern=pattern.replace(MASK, "") or "1",
                                      row_filters=tuple(zip(names, [v or "x" for v in values], strict=False))))
    for shared_by in (None, "U0ALICE"):
        assert skeleton(page_message(odd, shared_by=shared_by)) == skeleton(page_message(plain, shared_by=shared_by))


@SLOW
@given(query=shown_queries, numbers=st.lists(phone_numbers, max_size=30), extra=st.integers(0, 10**9),
       shared_by=st.none() | slack_ids | hostile_text, masked=st.booleans())
def test_any_summary_is_valid_block_kit_that_pings_no_one(query: Query, numbers: list[PhoneNumber], extra: int,
                                                          shared_by: str | None, masked: bool) -> None:
    summary = summarize(query, len(numbers) + extra, numbers)
    message = summary_message(summary, shared_by=shared_by, mask=(lambda n: "*" * len(n)) if masked else str)
    assert_safe_message(message, mention=shared_by)
    if masked:  # every number shown (a code run in rich text) went through the mask
        shown = [e["text"] for b in message["blocks"] if b["type"] == "rich_text" for e in b["elements"][0]["elements"]
                 if (e.get("style") or {}).get("code")]
        assert all(set(text) <= {"*", "…"} or text == "?" for text in shown)


@FAST
@given(query=shown_queries, done=st.integers(0, 10**6), total=st.integers(0, 10**6), follows=st.booleans())
def test_any_progress_note_is_valid_block_kit_that_pings_no_one(query: Query, done: int, total: int, follows: bool) -> None:
    assert_safe_message(progress_message(query, done, total, follows=follows))


@FAST
@given(problem=problems)
def test_any_problem_is_valid_block_kit_that_pings_no_one(problem: Problem) -> None:
    message = problem_message(problem)
    assert_safe_message(message)
    assert skeleton(message) == skeleton(problem_message(Problem(problem.kind, problem.message, "", "x" if problem.request_id else "")))


@FAST
@given(text=command_texts)
def test_any_refused_command_makes_a_notice_that_pings_no_one(text: str) -> None:
    try:
        parse_command(text, default_instance="ccc-test", allowed_instances=ALLOWED, max_page=MAX_PAGE)
    except QueryError as e:
        assert_safe_message(notice_message(str(e)))


@FAST
@given(text=hostile_text)
def test_any_notice_is_valid_block_kit_that_pings_no_one(text: str) -> None:
    assert_safe_message(notice_message(text))


@FAST
@given(instances=st.lists(hostile_text, min_size=1, max_size=10), rows=st.integers(1, 20))
def test_help_is_valid_block_kit_whatever_the_instance_ids(instances: list[str], rows: int) -> None:
    assert_safe_message(help_message(instances, rows))


@FAST
@given(instances=st.lists(query_text, min_size=1, max_size=4), rows=st.integers(1, 20))
def test_instance_ids_in_help_sit_only_inside_code_spans(instances: list[str], rows: int) -> None:
    """As long as the help is not clipped (a few IDs of up to 64 characters never are)."""
    assert skeleton(help_message(instances, rows)) == skeleton(help_message(["x"] * len(instances), rows))


# --- what a safe message is -----------------------------------------------------------------------

MAX_TEXT, MAX_SECTION, MAX_BUTTON_VALUE = 2000, 3000, 2000  # ours for any text; Slack's for a section and a value
RICH_TEXT_ELEMENTS = {"text", "emoji", "date"}  # no user, channel, usergroup, broadcast or link: nothing that pings or links


def assert_safe_message(message: dict[str, Any], mention: str | None = None) -> None:
    """Valid Block Kit within Slack's limits, and every mrkdwn text free of control sequences from the data."""
    json.dumps(message, ensure_ascii=False).encode("utf-8")  # no lone surrogate: Slack needs UTF-8
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        parsed.validate_json()
        assert parsed.to_dict() == block
    own_mention = f"<@{mention}>" if mention and SLACK_USER_ID.fullmatch(mention) else None  # the sharer, by ID
    for text in [message["text"], *mrkdwn_texts(blocks)]:  # the fallback text and every mrkdwn text
        assert len(text) <= MAX_TEXT
        assert_no_control_sequence(text.replace(own_mention, "") if own_mention else text)
    for block in blocks:
        assert_valid_block(block)


def assert_no_control_sequence(text: str) -> None:
    assert "<" not in text and ">" not in text
    assert "&" not in re.sub(r"&(amp|lt|gt);", "", text)  # every & is a whole entity, none cut in half


def assert_valid_block(block: dict[str, Any]) -> None:
    if block["type"] == "section":
        assert len(block["text"]["text"]) <= MAX_SECTION
    if block["type"] == "actions":
        for element in block["elements"]:
            for item in element.get("options", [element]):  # a button, or each option of the Details menu
                assert len(item["value"]) <= MAX_BUTTON_VALUE and len(item["text"]["text"]) <= 75
    if block["type"] == "rich_text":
        parts = [part for section in block["elements"] for part in section["elements"]]
        assert {part["type"] for part in parts} <= RICH_TEXT_ELEMENTS
        texts = [part["text"] for part in parts if part["type"] == "text"]
        assert all(0 < len(text) <= MAX_TEXT for text in texts)
        assert sum(map(len, texts)) <= MAX_SECTION


def mrkdwn_texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def skeleton(message: dict[str, Any]) -> list[str]:
    """The mrkdwn of a message with each code span blanked: what is left is the bot's own words and formatting."""
    return [re.sub(r"`[^`\n]*`", "``", text) for text in mrkdwn_texts(message["blocks"])]
