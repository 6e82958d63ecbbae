"""bot.summary, bot.summary_message and bot.progress: counting, the Slack message, and when progress is told."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.access import Access
from bot.console import render_summary
from bot.filters import Query, SummaryRequest, decode_value, max_page_for, parse_command
from bot.formatters import ACTION_EXPORT, ACTION_LIST, ACTION_SHARE_SUMMARY, ACTION_SUMMARY, page_message
from bot.page import PhoneNumber, SkillGroup
from bot.progress import HALFWAY_GAP_SECONDS, QUIET_SECONDS, ProgressNotes
from bot.summary import summarize
from bot.summary_message import ATTENTION_SHOWN, TALLY_SHOWN, progress_message, summary_message, with_back_button
from tests.test_formatters import INJECTION, PING, make_number, make_page

QUERY = Query("ccc-test", pattern="0833", usage="Inbound")
VIP, SALES = SkillGroup("vip@ccc-test", "vip", "VIP 热线"), SkillGroup("sales@ccc-test", "sales", "")


def parse(text: str) -> object:
    return parse_command(text, default_instance="ccc-test", allowed_instances=("ccc-test", "ccc-demo"), max_page=1000)


def tally(summary_numbers: list[PhoneNumber], title: str) -> dict[str, int]:
    found = {t.title: dict(t.counts) for t in summarize(QUERY, len(summary_numbers), summary_numbers).tallies}
    return found[title]


def attention(numbers: list[PhoneNumber]) -> list[tuple[str, ...]]:
    return [check.numbers for check in summarize(QUERY, len(numbers), numbers).attention]


# --- the grammar ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["summary 0833 inbound", "0833 SUMMARY in", "stats 0833 inbound", "汇总 0833 呼入",
                                  "统计 inbound 0833", "summarize 0833 in"])
def test_a_summary_word_anywhere_asks_for_a_summary_of_the_other_filters(text):
    assert parse(text) == SummaryRequest(QUERY)


def test_a_summary_takes_row_filters_and_another_instance():
    assert parse('summary group:"VIP 热线" instance:ccc-demo') == SummaryRequest(
        Query("ccc-demo", row_filters=(("group", "VIP 热线"),)))


def test_a_summary_has_no_pages():
    with pytest.raises(ValueError, match="has no pages: drop `page 2`"):
        parse("summary 0833 page 2")


def test_two_summary_words_are_one_too_many():
    with pytest.raises(ValueError, match="two summary words"):
        parse("summary stats")


def test_a_misspelt_summary_gets_the_word():
    with pytest.raises(ValueError, match="Did you mean `summary`"):
        parse("sumary 0833")


# --- counting ---------------------------------------------------------------------------------------


def test_usage_state_province_and_provider_are_counted_commonest_first():
    numbers = [make_number(0, usage="Outbound", provider="cmcc"), make_number(1), make_number(2, active=False),
               make_number(3, province="", active=None, provider="")]
    assert list(tally(numbers, "Usage").items()) == [("Inbound", 3), ("Outbound", 1)]
    assert tally(numbers, "State") == {"active": 2, "inactive": 1, "state unknown": 1}
    assert tally(numbers, "Province") == {"四川": 3, "no province": 1}
    assert list(tally(numbers, "Provider").items()) == [("alicom", 2), ("cmcc", 1), ("no provider", 1)]


def test_skill_groups_count_each_number_once_per_group_and_numbers_in_none():
    numbers = [make_number(0, skill_groups=(VIP, SALES)), make_number(1, skill_groups=(VIP, VIP)),
               make_number(2, skill_groups=())]
    assert tally(numbers, "Skill group") == {"VIP 热线": 2, "sales": 1, "no skill group": 1}


def test_two_skill_groups_with_one_name_are_counted_apart_and_told_apart_by_id():
    other_vip = SkillGroup("vip2@ccc-test", "vip2", "VIP 热线")
    numbers = [make_number(0, skill_groups=(VIP, other_vip)), make_number(1, skill_groups=(VIP,))]
    assert tally(numbers, "Skill group") == {"VIP 热线 (vip@ccc-test)": 2, "VIP 热线 (vip2@ccc-test)": 1}


def test_active_numbers_that_take_calls_without_a_flow_need_attention():
    numbers = [make_number(0, contact_flow_name=""), make_number(1, usage="Bidirection", contact_flow_name=""),
               make_number(2, usage="Outbound", contact_flow_name=""),  # makes calls only: needs no flow
               make_number(3, active=False, contact_flow_name=""),  # inactive: takes no calls
               make_number(4, contact_flow_name="", contact_flow_id="flow-id"),  # a flow, known by its ID
               make_number(5, active=None, contact_flow_name="")]  # state unknown: not flagged on a guess
    assert attention(numbers)[0] == ("083300000000", "083300000001")


def test_numbers_in_no_skill_group_and_inactive_ones_bound_to_an_agent_need_attention():
    numbers = [make_number(0, skill_groups=()), make_number(1, active=False, user_id="agent07@ccc-test"),
               make_number(2, active=True, user_id="agent08@ccc-test"), make_number(3, active=False)]
    assert attention(numbers)[1:] == [("083300000000",), ("083300000001",)]


def test_a_summary_of_nothing():
    summary = summarize(QUERY, 0, [])
    assert summary.total == 0 and all(not t.counts for t in summary.tallies) and not summary.truncated


# --- the message ------------------------------------------------------------------------------------


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    for block in message["blocks"]:
        assert Block.parse(block).to_dict() == block  # slack_sdk reads it back unchanged
    assert len(message["blocks"]) <= 50 and len(message["text"]) <= 2000
    return message["blocks"]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {e["action_id"]: e.get("value", "") for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


def plain(message: dict[str, Any]) -> str:
    """Every text run, section and context of the message, in order."""
    texts = []
    for block in blocks_of(message):
        if block["type"] == "rich_text":
            texts.append("".join(e.get("text", "") for e in block["elements"][0]["elements"]))
        elif block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.append(block["elements"][0]["text"])
    return "\n".join(texts)


def test_the_summary_shows_each_breakdown_with_shares_and_the_checks():
    numbers = [make_number(0), make_number(1, usage="Outbound"), make_number(2, skill_groups=()),
               make_number(3, active=False, user_id="agent07@ccc-test")]
    text = plain(summary_message(summarize(QUERY, 4, numbers)))
    assert "*Summary of 4 numbers* in `ccc-test` · matching `0833` · inbound" in text
    assert "Usage\nInbound 3 (75%) · Outbound 1 (25%)" in text
    assert "State\nactive 3 (75%) · inactive 1 (25%)" in text
    assert "Skill group\nVIP 热线 3 (75%) · no skill group 1 (25%)" in text
    assert "In no skill group: 1\n083300000002" in text
    assert "Inactive, still bound to an agent: 1\n083300000003" in text
    assert "Active, take incoming calls, no contact flow: none" in text


def test_the_private_summary_leads_back_to_the_list_and_to_share_and_export():
    message = summary_message(summarize(QUERY, 1, [make_number(0)]))
    values = buttons(message)
    assert set(values) == {ACTION_LIST, ACTION_SHARE_SUMMARY, ACTION_EXPORT}
    assert {decode_value(v, allowed_instances=("ccc-test",), max_page=max_page_for(10)) for v in values.values()} == {QUERY}


def test_a_long_breakdown_sums_up_the_rest():
    numbers = [make_number(i, province=f"P{i % 20:02d}") for i in range(40)]
    text = plain(summary_message(summarize(QUERY, 40, numbers)))
    assert f" · {20 - TALLY_SHOWN} more {2 * (20 - TALLY_SHOWN)}" in text


def test_a_long_check_shows_the_first_numbers_and_how_many_more():
    numbers = [make_number(i, skill_groups=()) for i in range(ATTENTION_SHOWN + 3)]
    text = plain(summary_message(summarize(QUERY, len(numbers), numbers)))
    assert f"In no skill group: {ATTENTION_SHOWN + 3}" in text and "083300000009 and 3 more" in text
    assert "083300000009" in text and "083300000010" not in text


def test_nothing_needing_attention_says_so():
    text = plain(summary_message(summarize(QUERY, 1, [make_number(0)])))
    assert "Nothing: every active number that takes calls has a contact flow" in text


def test_no_matches_is_said_without_breakdowns():
    message = summary_message(summarize(QUERY, 0, []))
    assert "Nothing matches, so there is nothing to count" in plain(message)
    assert not any(b["type"] == "rich_text" for b in message["blocks"])


def test_more_than_10000_is_said_honestly():
    text = plain(summary_message(summarize(QUERY, 12_345, [make_number(0)])))
    assert "CCC has 12,345 numbers for the pattern, usage and state asked, but lists only the first 10,000" in text


def test_with_row_filters_the_scope_says_how_many_passed():
    query = Query("ccc-test", row_filters=(("province", "四川"),))
    text = plain(summary_message(summarize(query, 400, [make_number(0)])))
    assert "1 of the 400 numbers with this pattern, usage and state pass the row filters" in text


@pytest.mark.parametrize("field", ["usage", "province", "provider"])
def test_ccc_words_are_shown_literally_and_ping_no_one(field):
    message = summary_message(summarize(QUERY, 1, [make_number(0, **{field: INJECTION})]))
    assert INJECTION in plain(message)  # as rich text: no mrkdwn, no mention
    assert PING not in json.dumps([b for b in message["blocks"] if b["type"] != "rich_text"]) + message["text"]


def test_a_skill_group_name_is_shown_literally():
    message = summary_message(summarize(QUERY, 1, [make_number(0, skill_groups=(SkillGroup("x", INJECTION, ""),))]))
    assert f"{INJECTION} 1 (100%)" in plain(message)


def test_a_shared_summary_names_the_sharer_masks_numbers_and_has_no_buttons():
    access = Access(mask_shared=True)
    summary = summarize(Query("ccc-test", pattern="083312340011"), 1, [make_number(0, skill_groups=())])
    message = summary_message(access.shared_summary(summary), shared_by="U0ALICE", mask=access.shared_number)
    text = plain(message)
    assert text.startswith("<@U0ALICE> shared *Summary of 1 number*") and "matching `0833****0011`" in text
    assert "Counted when shared." in text
    assert "In no skill group: 1\n0833****0000" in text and "083300000000" not in json.dumps(message)
    assert "See it yourself: `/numbers summary 0833 instance:ccc-test` (the whole number is hidden in this channel" in text
    assert not buttons(message)


def test_progress_says_how_far_and_whether_the_summary_follows():
    note = progress_message(QUERY, 2300, 8712)
    assert note["text"] == "Counted 2,300 of 8,712 numbers (26%)…" and not buttons(note)
    assert "matching `0833` · inbound" in plain(note)
    assert progress_message(QUERY, 100, 400, follows=True)["text"].endswith("The summary will follow in a new message.")


def test_a_failed_count_gets_the_way_back_to_the_list():
    message = with_back_button({"text": "CCC is down", "blocks": []}, QUERY.at_page(3))
    assert json.loads(buttons(message)[ACTION_LIST])["p"] == 1


def test_every_private_list_has_a_summary_button_for_its_filters():
    page = make_page(page=2, total=30)
    value = buttons(page_message(page))[ACTION_SUMMARY]
    assert decode_value(value, allowed_instances=("ccc-test",), max_page=max_page_for(10)) == page.query.at_page(1)


# --- when progress is told ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def notes_at(steps: list[tuple[float, int]], total: int = 1000, limit: int = 2) -> list[int]:
    """Feed ProgressNotes (seconds since start, rows done) steps; the rows done at each note it posted."""
    clock, posted = Clock(), []
    notes = ProgressNotes(lambda done, of: posted.append(done), limit=limit, clock=clock)
    start = clock.now
    for seconds, done in steps:
        clock.now = start + seconds
        notes(done, total)
    return posted


def test_a_quick_count_gets_no_progress_note():
    assert notes_at([(0.1, 100), (0.5, 500), (QUIET_SECONDS - 0.01, 900), (QUIET_SECONDS + 1, 1000)]) == []


def test_a_slow_count_gets_a_note_then_one_past_halfway():
    steps = [(0.5, 100), (QUIET_SECONDS, 200), (QUIET_SECONDS + 0.5, 400),
             (QUIET_SECONDS + 1, 600),  # past half, but too soon after the first note
             (QUIET_SECONDS + HALFWAY_GAP_SECONDS, 700), (QUIET_SECONDS + HALFWAY_GAP_SECONDS + 5, 900)]
    assert notes_at(steps) == [200, 700]


def test_never_more_notes_than_the_limit():
    steps = [(QUIET_SECONDS + 10 * i, 100 * i) for i in range(1, 10)]
    assert notes_at(steps, limit=1) == [100]


def test_no_note_once_everything_is_read():
    assert notes_at([(QUIET_SECONDS + 5, 1000)]) == []


def test_the_console_says_when_ccc_changed_while_counting():
    unsettled = summarize(QUERY, 1, [make_number(0)], unsettled=True)
    assert render_summary(unsettled).splitlines()[1] == "CCC changed while counting; these figures may be off by a few."
    assert "CCC changed" not in render_summary(summarize(QUERY, 1, [make_number(0)]))
