"""The Details modal and the menu values that lead to it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.details import MAX_COPY_TEXT, MAX_GROUPS, copy_text, details_view, loading_view, message_view
from bot.errors import Problem
from bot.filters import MAX_OPTION_VALUE, QueryError, decode_number_ref, number_ref
from bot.formatters import notice_message, problem_message
from bot.page import PhoneNumber, SkillGroup
from tests.test_formatters import ALLOWED, INJECTION, all_texts

NUMBER = PhoneNumber(
    number="083312340011", active=True, usage="Inbound", province="四川", city="乐山", provider="alicom",
    contact_flow_name="夜间留言", contact_flow_id="8db161fd-cb7f", user_id="agent07@ccc-test", tags="VIP,M1",
    created_at=1_609_459_200,
    skill_groups=(SkillGroup("presales@ccc-test", "presales", "售前咨询"), SkillGroup("vip@ccc-test", "vip", "VIP 热线")),
)


def validated(view: dict[str, Any]) -> dict[str, Any]:
    """The view as slack_sdk rebuilds it (to_dict() validates the title's length and each block), within Slack's
    limits for a modal."""
    assert View(**view).to_dict() == view
    assert view["type"] == "modal" and view["title"]["text"] == "Number details" and view["close"]["text"] == "Close"
    assert 0 < len(view["blocks"]) <= 100
    for block in view["blocks"]:
        assert Block.parse(block).to_dict() == block
        assert sum(map(len, all_texts(block))) <= MAX_COPY_TEXT
    return view


def copy_block(view: dict[str, Any]) -> str:
    [pre] = [e for b in view["blocks"] if b["type"] == "rich_text" for e in b["elements"]
             if e["type"] == "rich_text_preformatted"]
    return "".join(part["text"] for part in pre["elements"])


def test_the_modal_shows_every_field_and_every_skill_group():
    view = validated(details_view(NUMBER, "ccc-test"))
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    for value in ("083312340011", "Inbound", "active", "四川", "乐山", "alicom", "夜间留言", "8db161fd-cb7f",
                  "agent07@ccc-test", "VIP,M1", "2021-01-01", "ccc-test"):
        assert value in shown
    assert "presales (售前咨询) · presales@ccc-test" in shown and "vip (VIP 热线) · vip@ccc-test" in shown


def test_the_copy_block_has_one_field_a_line():
    lines = copy_block(details_view(NUMBER, "ccc-test")).splitlines()
    assert lines[:3] == ["Number: 083312340011", "Usage: Inbound", "State: active"]
    assert "Contact flow ID: 8db161fd-cb7f" in lines and "Instance: ccc-test" in lines and "Added (UTC): 2021-01-01" in lines
    assert lines[-2:] == ["Skill group: presales (售前咨询) · presales@ccc-test", "Skill group: vip (VIP 热线) · vip@ccc-test"]


def test_a_bare_number_says_what_it_lacks():
    view = validated(details_view(PhoneNumber("0833"), "ccc-test"))
    assert "State: unknown" in copy_block(view) and "Skill groups: none" in copy_block(view)
    assert "No skill group" in json.dumps(view)


def test_ccc_text_is_shown_literally_in_rich_text():
    number = PhoneNumber("0833", tags=INJECTION, contact_flow_name=INJECTION,
                         skill_groups=(SkillGroup(INJECTION, INJECTION, INJECTION),))
    view = validated(details_view(number, "ccc-test"))
    assert {b["type"] for b in view["blocks"]} <= {"rich_text", "divider"}
    assert f"Tags: {INJECTION}" in copy_block(view).splitlines()
    fields = "".join(part["text"] for part in view["blocks"][1]["elements"][0]["elements"])
    assert f"Tags: {INJECTION}" in fields.splitlines() and f"Contact flow: {INJECTION}" in fields.splitlines()


def test_huge_fields_and_hundreds_of_groups_stay_within_slacks_limits():
    groups = tuple(SkillGroup(f"g{i}@ccc-test", "组" * 1000, "显示" * 500) for i in range(300))
    number = PhoneNumber("0" * 100, usage="U" * 1000, tags="<" * 1000, contact_flow_name="\n\x00" * 500,
                         skill_groups=groups)
    view = validated(details_view(number, "ccc-test"))
    assert f"and {300 - MAX_GROUPS} more" in json.dumps(view)
    assert len(copy_text(number, "ccc-test")) == MAX_COPY_TEXT


def test_the_loading_modal_names_the_number_literally():
    view = validated(loading_view(INJECTION))
    assert view["blocks"][0]["type"] == "rich_text" and INJECTION in json.dumps(view, ensure_ascii=False)
    assert "Loading" in json.dumps(view) and "083312340011" in json.dumps(validated(loading_view("083312340011")))


def test_a_problem_in_the_modal_reads_as_the_same_private_message_would():
    problem = Problem("permission", "The bot has no permission to list phone numbers of `ccc-test`.", "NoPermission",
                      "9A1B-REQ")
    message = problem_message(problem)
    view = validated(message_view(message))
    assert view["blocks"] == message["blocks"] and "9A1B-REQ" in json.dumps(view)
    assert validated(message_view(notice_message("0833 is no longer in ccc-test")))["blocks"][0]["type"] == "section"


def test_a_menu_value_reads_back_as_the_instance_and_number():
    value = number_ref("ccc-demo", "+86 0833-1234")
    assert value == '{"i":"ccc-demo","n":"+86 0833-1234"}'
    assert decode_number_ref(value, allowed_instances=ALLOWED) == ("ccc-demo", "+86 0833-1234")


def test_a_number_that_does_not_fit_an_option_value_gets_none():
    assert number_ref("ccc-test", "") is None and number_ref("ccc-test", "abc") is None
    assert number_ref("ccc-test", "1" * 101) is None
    assert number_ref("x" * 64, "1" * 100) is None  # longer than MAX_OPTION_VALUE
    assert len(number_ref("ccc-test", "1" * 100) or "") <= MAX_OPTION_VALUE


@pytest.mark.parametrize("value", [
    None, 5, "", "not json", "[]", '{"i":"ccc-test"}', '{"i":"ccc-test","n":""}', '{"i":"ccc-test","n":5}',
    '{"i":"ccc-test","n":"0833","x":1}', '{"i":"ccc-prod","n":"0833"}', '{"i":"ccc-test","n":"' + "1" * 101 + '"}',
    '{"i":"ccc-test","n":"' + "1" * 140 + '"}', "[" * 10_000,
])
def test_a_doctored_menu_value_is_refused(value: object):
    with pytest.raises(QueryError):
        decode_number_ref(value, allowed_instances=ALLOWED)
