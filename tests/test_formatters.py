"""bot.formatters: Page / Problem -> a Slack message that Slack accepts and that pings no one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.errors import Problem
from bot.filters import Query, decode_number_ref, decode_value, max_page_for
from bot.formatters import (
    ACTION_DETAILS,
    ACTION_EXPORT,
    ACTION_NEXT,
    ACTION_PREV,
    ACTION_SHARE,
    ACTION_SUMMARY,
    STATIC_EXAMPLES,
    area_code,
    as_message,
    clip,
    clip_mrkdwn,
    closest_example,
    code_span,
    detail_parts,
    headline,
    help_examples,
    help_message,
    notice_message,
    number_block,
    page_message,
    printable,
    problem_message,
    section,
    see_it_yourself,
    summary_line,
    truncation_note,
    utc_day,
)
from bot.page import Page, PhoneNumber, SkillGroup

PING = "<!channel>"
ESCAPED_PING = "&lt;!channel&gt;"
INJECTION = "<!channel> <!here> <@U123> <http://evil.example|click> *bold* _it_ ~st~ `tick` & co"
ALLOWED = ("ccc-test", "ccc-demo")


def make_number(index: int = 0, **fields: Any) -> PhoneNumber:
    defaults: dict[str, Any] = {
        "number": f"0833{index:08d}", "active": True, "usage": "Inbound", "province": "四川", "city": "乐山",
        "provider": "alicom", "contact_flow_name": "默认联系流", "skill_groups": (SkillGroup("vip@ccc-test", "vip", "VIP 热线"),),
        "tags": "M1", "created_at": 1_609_459_200,
    }
    return PhoneNumber(**{**defaults, **fields})


def make_page(page: int = 1, total: int = 25, rows: int = 10, requested: int | None = None,
              query: Query | None = None, numbers: tuple[PhoneNumber, ...] | None = None) -> Page:
    """Page `page` of `total` results; the rows are generated unless `numbers` is given."""
    query = (query or Query("ccc-test", pattern="0833", usage="Inbound")).at_page(page)
    if numbers is None:
        first = (page - 1) * rows
        numbers = tuple(make_number(i) for i in range(first, min(first + rows, total, 10_000)))
    return Page(query, numbers, total, rows, requested_page=requested or page)


def validated(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Rebuild every block with slack_sdk (to_dict() validates lengths) and check the limits it does not."""
    assert isinstance(message["text"], str) and message["text"]
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        assert Block.parse(block).to_dict() == block
    for text in all_texts(message):
        assert len(text) <= 2000
    return blocks


def all_texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from all_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_texts(item)


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    return {element["action_id"]: element for block in actions for element in block["elements"]}


def decode(value: str) -> Query:
    return decode_value(value, allowed_instances=ALLOWED, max_page=max_page_for(10))


# --- Block Kit validity and size ------------------------------------------------------------------


def test_a_full_page_is_valid_block_kit():
    validated(page_message(make_page(page=2, total=237)))


def test_twenty_rows_with_every_notice_stay_under_fifty_blocks():
    page = make_page(page=500, rows=20, total=12_345, requested=999)
    assert len(page.numbers) == 20 and page.clamped and page.truncated
    blocks = validated(page_message(page))
    assert len(blocks) <= 50


def test_the_shared_snapshot_of_twenty_rows_is_valid_too():
    validated(page_message(make_page(rows=20, total=40), shared_by="U123"))


def huge_number(index: int) -> PhoneNumber:
    groups = tuple(SkillGroup(f"group{g}@ccc-test", f"group{g}", f"技能组 {g} " * 20) for g in range(200))
    return make_number(
        index, number="0" * 5000, usage="U" * 5000, province="省" * 5000, city="市" * 5000, provider="p" * 5000,
        contact_flow_name="流" * 10_000, skill_groups=groups, user_id="a" * 5000 + "@ccc-test", tags="T" * 10_000,
    )


def test_huge_ccc_fields_are_clipped_to_2000_characters_a_text():
    page = make_page(rows=20, total=20, numbers=tuple(huge_number(i) for i in range(20)))
    validated(page_message(page))
    validated(page_message(page, shared_by="U123"))


def test_huge_fields_made_of_characters_that_escape_to_entities_still_fit():
    page = make_page(rows=20, total=20, numbers=tuple(
        make_number(i, tags="<" * 10_000, contact_flow_name="&" * 10_000, user_id=">" * 10_000,
                    skill_groups=tuple(SkillGroup("g", "<&>" * 100, "") for _ in range(200)))
        for i in range(20)))
    validated(page_message(page))


def test_no_rows_says_nothing_matches_without_buttons():
    message = page_message(make_page(total=0, numbers=()))
    validated(message)
    assert "Nothing matches" in json.dumps(message, ensure_ascii=False)
    assert buttons(message) == {}


# --- user and CCC text: shown literally, pinging no one ------------------------------------------

CCC_FIELDS = ["number", "usage", "province", "city", "provider", "contact_flow_name", "user_id", "tags"]


def row(number: PhoneNumber) -> list[dict[str, Any]]:
    """The rich text runs of one number's block."""
    [section] = number_block(number).to_dict()["elements"]
    return section["elements"]


def row_text(number: PhoneNumber) -> str:
    return "".join(run.get("text", "") for run in row(number))


def mrkdwn(message: dict[str, Any]) -> str:
    """Every text Slack reads as mrkdwn: the fallback text and the mrkdwn of the blocks."""
    texts = [message["text"]]
    for block in message["blocks"]:
        texts += [part["text"] for part in [block.get("text") or {}, *block.get("elements", [])] if part.get("type") == "mrkdwn"]
    return "\n".join(texts)


@pytest.mark.parametrize("field", CCC_FIELDS)
def test_every_ccc_field_is_shown_literally_in_rich_text(field):
    number = make_number(**{"province": "", "city": "", field: f"{INJECTION} {field}"})
    assert f"{INJECTION} {field}" in row_text(number)
    assert {run["type"] for run in row(number)} <= {"text", "emoji", "date"}  # no user, channel, broadcast or link
    message = page_message(make_page(numbers=(number,), total=1))
    validated(message)
    assert "<" not in mrkdwn(message).replace("<@", "") and "&lt;" not in row_text(number)


@pytest.mark.parametrize("group", [SkillGroup("g@x", "name", f"{INJECTION} display"), SkillGroup("g@x", f"{INJECTION} name", "")])
def test_skill_group_names_are_shown_literally(group):
    assert f"groups: {INJECTION}" in row_text(make_number(skill_groups=(group,)))


def test_the_number_is_code_and_the_usage_bold_whatever_they_contain():
    runs = row(make_number(number="0833`*1*`", usage="In*bound*"))
    assert runs[0] == {"type": "text", "text": "0833`*1*`", "style": {"code": True}}
    assert runs[2] == {"type": "text", "text": "In*bound*", "style": {"bold": True}}


def test_control_characters_in_ccc_text_become_spaces():
    assert "a b c" in row_text(make_number(tags="a\nb\x00c"))


def test_user_text_in_the_title_is_escaped_and_cannot_format():
    query = Query("ccc*demo*`x", pattern="<!here>*1*`")
    title = page_message(make_page(query=query), shared_by="U123")["blocks"][0]["text"]["text"]
    assert title == "<@U123> shared *25 numbers* in `ccc*demo*ˋx` · matching `&lt;!here&gt;*1*ˋ`"


def test_a_sharer_that_is_not_a_slack_user_id_pings_no_one():
    message = page_message(make_page(), shared_by="<!channel>")
    assert message["blocks"][0]["text"]["text"].startswith("Someone shared")


def test_a_code_span_is_clipped_before_it_is_escaped():
    assert code_span("&" * 200) == "`" + "&amp;" * 119 + "…`"
    assert code_span("a\n`b") == "`a ˋb`"


def test_a_long_mrkdwn_text_is_never_cut_inside_an_entity_or_a_code_span():
    assert clip_mrkdwn("ab&amp;cd", 5) == "ab…"
    assert clip_mrkdwn("see `abc` and `defgh`", 17) == "see `abc` and …"
    text = notice_message("&" * 3000)["blocks"][0]["text"]["text"]
    assert len(text) <= 2000 and text.endswith("&amp;…")


def test_a_huge_refused_word_stays_a_short_notice_with_one_code_span():
    blocks = validated(notice_message("I don't know the word `" + "x" * 5000 + "`."))
    assert blocks[0]["text"]["text"].count("`") % 2 == 0


def test_shared_by_is_the_only_mention_and_it_is_well_formed():
    message = page_message(make_page(), shared_by="U123")
    dumped = json.dumps(message, ensure_ascii=False)
    assert "<@U123>" in dumped
    assert "<!" not in dumped


def test_problem_text_is_escaped_in_the_blocks():
    message = problem_message(Problem("unknown", f"CCC refused the request ({PING} & co)", "X", f"{PING}-id"))
    blocks = json.dumps(validated(message), ensure_ascii=False)
    assert PING not in blocks
    assert f"{ESCAPED_PING} &amp; co" in blocks and f"{ESCAPED_PING}-id" in blocks


def test_notice_text_is_escaped_in_the_blocks():
    blocks = json.dumps(validated(notice_message(f"I don't know the word `{PING}`.")), ensure_ascii=False)
    assert PING not in blocks and ESCAPED_PING in blocks


@pytest.mark.parametrize("message", [
    notice_message(f"I don't know the word `{PING}`."),
    problem_message(Problem("unknown", f"CCC refused the request ({PING}).", PING)),
])
def test_no_unescaped_ping_anywhere_in_a_notice_or_problem(message):
    assert PING not in json.dumps(message, ensure_ascii=False)


# --- buttons --------------------------------------------------------------------------------------


ALWAYS = {ACTION_SHARE, ACTION_EXPORT, ACTION_SUMMARY, ACTION_DETAILS}  # under every private result with numbers


def test_first_page_has_next_and_the_rest_but_no_prev():
    assert set(buttons(page_message(make_page(page=1, total=25)))) == {ACTION_NEXT, *ALWAYS}


def test_middle_page_has_prev_next_and_the_rest():
    assert set(buttons(page_message(make_page(page=2, total=25)))) == {ACTION_PREV, ACTION_NEXT, *ALWAYS}


def test_last_page_has_prev_and_the_rest_but_no_next():
    assert set(buttons(page_message(make_page(page=3, total=25)))) == {ACTION_PREV, *ALWAYS}


def test_a_single_page_has_neither_prev_nor_next():
    assert set(buttons(page_message(make_page(page=1, total=4)))) == ALWAYS


def test_last_reachable_page_of_a_truncated_result_has_no_next():
    assert ACTION_NEXT not in buttons(page_message(make_page(page=1000, total=10_050)))


def test_each_button_value_decodes_to_its_page():
    query = Query("ccc-demo", pattern="0833", usage="Outbound", active=False)
    found = buttons(page_message(make_page(page=2, total=25, query=query)))
    assert decode(found[ACTION_PREV]["value"]) == query.at_page(1)
    assert decode(found[ACTION_NEXT]["value"]) == query.at_page(3)
    assert decode(found[ACTION_SHARE]["value"]) == decode(found[ACTION_EXPORT]["value"]) == query.at_page(2)


def test_the_details_menu_offers_each_number_of_the_page():
    page = make_page(page=2, total=25, query=Query("ccc-demo", pattern="0833"))
    menu = buttons(page_message(page))[ACTION_DETAILS]
    assert menu["type"] == "static_select" and menu["placeholder"]["text"] == "Details…"
    assert [o["text"]["text"] for o in menu["options"]] == [n.number for n in page.numbers]
    refs = [decode_number_ref(o["value"], allowed_instances=ALLOWED) for o in menu["options"]]
    assert refs == [("ccc-demo", n.number) for n in page.numbers]


def test_the_details_menu_leaves_out_a_number_too_long_for_an_option_value():
    numbers = (make_number(0), make_number(1, number="1" * 150))
    menu = buttons(page_message(make_page(total=2, numbers=numbers)))[ACTION_DETAILS]
    assert [o["text"]["text"] for o in menu["options"]] == [numbers[0].number]
    assert ACTION_DETAILS not in buttons(page_message(make_page(total=1, numbers=numbers[1:])))


# --- the shared snapshot --------------------------------------------------------------------------


def test_shared_snapshot_names_the_sharer_has_no_buttons_and_says_how_to_reproduce():
    message = page_message(make_page(page=2, total=25), shared_by="U123")
    blocks = validated(message)
    assert blocks[0]["text"]["text"].startswith("<@U123> shared")
    assert all(block["type"] != "actions" for block in blocks)
    assert "`/numbers 0833 inbound page 2 instance:ccc-test`" in json.dumps(blocks, ensure_ascii=False)


def test_shared_snapshot_of_another_instance_reproduces_that_instance():
    message = page_message(make_page(query=Query("ccc-demo")), shared_by="U123")
    assert "`/numbers instance:ccc-demo`" in json.dumps(message, ensure_ascii=False)


# --- the words ------------------------------------------------------------------------------------


def test_summary_line():
    assert summary_line(make_page(page=2, total=237)) == "Showing 11-20 of 237 · page 2 of 24"


def test_summary_line_of_no_matches():
    assert summary_line(make_page(total=0, numbers=())) == "No matches"


def test_summary_and_headline_appear_in_the_message():
    message = page_message(make_page(page=2, total=237))
    assert "Showing 11-20 of 237 · page 2 of 24" in message["text"]
    assert blocks_text(message).count("Showing 11-20 of 237 · page 2 of 24") == 1
    assert "*237 numbers* in `ccc-test` · matching `0833` · inbound" in blocks_text(message)


def blocks_text(message: dict[str, Any]) -> str:
    return "\n".join(all_texts(message["blocks"]))


def test_truncated_result_warns_and_suggests_narrowing():
    text = blocks_text(page_message(make_page(total=10_050)))
    assert "10,050 numbers match" in text and "first 10,000" in text and "narrow" in text


def test_a_filtered_result_of_a_truncated_search_says_only_the_first_10000_were_searched():
    query = Query("ccc-test", row_filters=(("province", "四川"),))
    page = Page(query, (make_number(),), 1, 10, requested_page=1, searched=10_050)
    text = blocks_text(page_message(page))
    assert "CCC has 10,050 numbers" in text and "first 10,000" in text and "*1 number* in" in text


def test_a_filtered_search_within_reach_has_no_warning():
    page = Page(Query("ccc-test", row_filters=(("tag", "M1"),)), (make_number(),), 1, 10, requested_page=1, searched=400)
    assert "first 10,000" not in blocks_text(page_message(page))


def test_row_filters_in_the_title_and_the_share_footer():
    query = Query("ccc-test", pattern="0833", row_filters=(("province", "四川"), ("group", "VIP 热线"), ("tag", PING)))
    text = blocks_text(page_message(make_page(query=query), shared_by="U0BOB"))
    assert f"matching `0833` · province `四川` · group `VIP 热线` · tag `{ESCAPED_PING}`" in text
    assert f'`/numbers 0833 province:四川 group:"VIP 热线" tag:{ESCAPED_PING} instance:ccc-test`' in text


def test_no_truncation_warning_at_exactly_10000():
    assert "first 10,000" not in blocks_text(page_message(make_page(total=10_000)))


def test_clamped_page_says_so():
    text = blocks_text(page_message(make_page(page=3, total=25, requested=9)))
    assert "There is no page 9; this is the last one." in text


def test_no_matches_at_a_later_page_says_nothing_about_pages():
    text = blocks_text(page_message(make_page(page=1, total=0, numbers=(), requested=3)))
    assert "Nothing matches" in text and "page 3" not in text and "last one" not in text


def test_each_number_is_one_rich_text_block_with_its_details():
    assert row(make_number(1, user_id="agent07@ccc-test")) == [
        {"type": "text", "text": "083300000001", "style": {"code": True}},
        {"type": "text", "text": "  "},
        {"type": "text", "text": "Inbound", "style": {"bold": True}},
        {"type": "text", "text": " · "},
        {"type": "emoji", "name": "large_green_circle"},
        {"type": "text", "text": " active\n四川 乐山 · alicom · flow: 默认联系流 · groups: VIP 热线 · "
                                 "agent: agent07@ccc-test · tags: M1 · added "},
        {"type": "date", "timestamp": 1_609_459_200, "format": "{date_short}", "fallback": "2021-01-01"},
    ]


def test_inactive_outbound_number_without_flow_or_group():
    text = row_text(make_number(active=False, usage="Outbound", contact_flow_name="", skill_groups=()))
    assert "inactive" in text and "no skill group" in text and "flow" not in text


def test_a_number_of_unknown_state_and_usage_says_so():
    assert "?  usage unknown · state unknown" in row_text(make_number(number="", usage="", active=None))


@pytest.mark.parametrize(("seconds", "day"), [(1_609_459_200, "2021-01-01"), (1_793_491_199, "2026-10-31"), (0, "1970-01-01")])
def test_utc_day(seconds, day):
    assert utc_day(seconds) == day


@pytest.mark.parametrize("seconds", [None, 1_609_459_200_000_000, 10**30])
def test_a_time_that_is_no_date_leaves_the_date_out(seconds):
    assert utc_day(seconds) == ""
    assert all(run["type"] != "date" for run in row(make_number(created_at=seconds)))


def test_problem_message_shows_the_request_id():
    message = problem_message(Problem("throttled", "CCC is rate-limiting.", "Throttling", "REQ-42"))
    blocks = validated(message)
    assert "`REQ-42`" in blocks_text(message)
    assert len(blocks) == 2


def test_problem_message_without_request_id_has_no_context_line():
    message = problem_message(Problem("timeout", "CCC did not answer in time."))
    assert len(validated(message)) == 1
    assert "request ID" not in blocks_text(message)


def test_help_lists_instances_only_when_there_are_several():
    single = blocks_text(help_message(["ccc-test"], 10))
    assert "another instance" not in single and "`ccc-test`" not in single
    several = blocks_text(help_message(["ccc-test", "ccc-demo"], 10))
    assert "`instance:ID`: look in another instance: `ccc-test`, `ccc-demo`" in several


def test_help_offers_instance_in_the_command_only_when_there_is_a_choice():
    assert "[instance:ID]" not in blocks_text(help_message(["ccc-test"], 10))
    assert "[page N] [instance:ID]`*" in blocks_text(help_message(["ccc-test", "ccc-demo"], 10))


def test_help_is_valid_and_says_the_rows_per_page():
    message = help_message(["ccc-test", "ccc-demo"], 7)
    validated(message)
    assert "7 at a time" in blocks_text(message)


def test_help_shows_the_row_filters_in_its_grammar():
    text = blocks_text(help_message(["ccc-test"], 10))
    assert "[province: city: provider: group: agent: tag: flow:]" in text and '`group:"VIP 热线"`' in text


def test_help_examples_come_from_the_instance():
    sample = [make_number(i, number=f"0571{i:08d}", province="浙江", skill_groups=(SkillGroup("s", "support", ""),))
              for i in range(3)] + [make_number(9, province="")]
    examples = help_examples(sample)
    assert examples[:3] == ("0571 inbound", "0571 province:浙江", "group:support active")
    assert len(examples) == len(STATIC_EXAMPLES)
    assert all(f"`/numbers {example}`" in blocks_text(help_message(["ccc-test"], 10, examples)) for example in examples)


def test_help_examples_fall_back_on_static_ones():
    assert help_examples([]) == STATIC_EXAMPLES
    assert help_examples([make_number(number="4001234567", province="", skill_groups=())])[0] == "0833 inbound"


def test_a_group_name_with_a_space_is_quoted_in_an_example():
    assert 'group:"VIP 热线" active' in help_examples([make_number()])


@pytest.mark.parametrize(("number", "code"), [
    ("083312345678", "0833"), ("01012345678", "010"), ("02887654321", "028"), ("4001234567", ""), ("13912345678", ""),
])
def test_area_code(number, code):
    assert area_code(number) == code


def test_closest_example():
    assert closest_example("0833 provence:四川", STATIC_EXAMPLES) == "Closest example: `/numbers 0833 province:四川`"
    assert closest_example("`", ["group:`x` active"]) == "Closest example: `/numbers group:ˋxˋ active`"


def test_the_command_under_a_masked_pattern_keeps_the_digits_before_the_mask_and_says_so() -> None:
    masked = see_it_yourself("", Query("ccc-test", pattern="0833****7014", usage="Inbound")).to_dict()["elements"][0]["text"]
    assert masked == ("See it yourself: `/numbers 0833 inbound instance:ccc-test` (the whole number is hidden in this "
                      "channel: add its other digits to narrow it)")
    whole = see_it_yourself("summary ", Query("ccc-test", pattern="0833")).to_dict()["elements"][0]["text"]
    assert whole == "See it yourself: `/numbers summary 0833 instance:ccc-test`"


# --- word for word: what a reader sees, pinned, so a changed word is a decision and not an accident ------------

GOLDEN = Path(__file__).parent / "golden"


def test_the_help_word_for_word() -> None:
    """tests/golden/help.txt: the help's text, then its examples line. Change that file with the help, on purpose."""
    message = help_message(("ccc-test", "ccc-demo"), 10, STATIC_EXAMPLES)
    text, examples = (GOLDEN / "help.txt").read_text(encoding="utf-8").rstrip("\n").split("\n---\n")
    assert message["text"] == "How to use /numbers"
    assert message["blocks"][0]["text"]["text"] == text
    assert message["blocks"][1]["elements"][0]["text"] == examples
    single = help_message(("ccc-test",), 10, STATIC_EXAMPLES)["blocks"][0]["text"]["text"]
    assert single.split("\n")[0] == text.split("\n")[0].replace(" [instance:ID]", "") and "instance:ID" not in single


def test_a_page_word_for_word() -> None:
    message = page_message(make_page(page=2))
    assert message["text"] == "25 numbers in ccc-test · matching 0833 · inbound: Showing 11-20 of 25 · page 2 of 3"
    [actions] = [block for block in message["blocks"] if block["type"] == "actions"]
    labels = [element.get("text", {}).get("text") or element["placeholder"]["text"] for element in actions["elements"]]
    assert labels == ["◀ Prev", "Next ▶", "Share in channel", "Export CSV", "Summary", "Details…"]
    empty = page_message(make_page(total=0, numbers=()))
    assert empty["text"] == "0 numbers in ccc-test · matching 0833 · inbound: No matches"
    assert empty["blocks"][2]["text"]["text"] == "Nothing matches. Try a shorter number pattern, or drop a filter."


def test_the_ten_thousand_notes_word_for_word() -> None:
    listed = truncation_note(make_page(total=12_000))
    assert listed == ("12,000 numbers match, but CCC lists only the first 10,000. "
                      "Add a number pattern or a filter to narrow it.")
    searched = truncation_note(replace(make_page(total=30), searched=12_000))
    assert searched == ("CCC has 12,000 numbers for the pattern, usage and state asked, but lists only the first 10,000: "
                        "the matches here come from those. Add a number pattern, a usage or a state to search them all.")


def test_the_details_line_word_for_word() -> None:
    bare = make_number(contact_flow_name="", skill_groups=(), tags="", provider="", user_id="agent07@ccc-test")
    assert [(d.label, d.text) for d in detail_parts(bare)] == [
        ("", "四川 乐山"), ("no contact flow", ""), ("no skill group", ""), ("agent: ", "agent07@ccc-test"),
        ("added ", "2021-01-01")]
    two = make_number(skill_groups=(SkillGroup("a@x", "a", "A 组"), SkillGroup("b@x", "b", "")))
    assert ("groups: ", "A 组, b") in [(d.label, d.text) for d in detail_parts(two)]  # the display name, else the name


def test_the_closest_example_whatever_the_case_typed() -> None:
    assert closest_example("0833 INBOUND", STATIC_EXAMPLES) == "Closest example: `/numbers 0833 inbound`"


def test_one_number_is_singular_and_no_count_reads_numbers() -> None:
    query = Query("ccc-test", pattern="0833")
    assert headline(query, 1) == "1 number in ccc-test · matching 0833"
    assert headline(query, 2) == "2 numbers in ccc-test · matching 0833"
    assert headline(query) == "Numbers in ccc-test · matching 0833"


def test_an_inactive_number_shows_a_red_circle_and_the_word() -> None:
    elements = number_block(make_number(active=False)).to_dict()["elements"][0]["elements"]
    assert {"type": "emoji", "name": "red_circle"} in elements
    assert any(e.get("text", "").startswith(" inactive") for e in elements)


def test_texts_at_their_limit_are_kept_whole() -> None:
    assert clip("abc", 3) == "abc" and clip("abcd", 3) == "ab…"
    assert clip_mrkdwn("a" * 10, 10) == "a" * 10 and clip_mrkdwn("a" * 11, 10) == "a" * 9 + "…"
    assert clip_mrkdwn("`abc` d &amp; e", 10) == "`abc` d …"  # never inside an entity
    assert clip_mrkdwn("ab `cdefgh` ij", 8) == "ab …"  # never inside a code span
    assert printable("a\ud800b\x07c") == "a\ufffdb c"
    assert len(as_message("fifty", [section("x")] * 50)["blocks"]) == 50


def test_the_added_day_is_utcs_whatever_the_servers_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert utc_day(1_609_430_400) == "2020-12-31"  # midnight in Shanghai, 16:00 the day before in UTC
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_long_shared_command_and_a_long_group_list_are_not_clipped_at_a_values_length() -> None:
    filters = (("province", "省" * 60), ("group", "组" * 60))
    footer = see_it_yourself("", Query("ccc-test", row_filters=filters)).to_dict()["elements"][0]["text"]
    assert "省" * 60 in footer and "组" * 60 in footer
    groups = tuple(SkillGroup(f"g{i}@x", f"g{i}", f"组名{i:02d}" * 3) for i in range(12))  # 12 × 15 characters
    texts = "".join(e.get("text", "") for e in number_block(make_number(skill_groups=groups)).to_dict()["elements"][0]["elements"])
    assert "组名11组名11组名11" in texts


def test_examples_use_only_values_a_filter_can_carry() -> None:
    quoted = make_number(skill_groups=(SkillGroup("q@x", "q", 'VIP "gold"'),))
    assert not any('"gold"' in example for example in help_examples([quoted] * 3))
