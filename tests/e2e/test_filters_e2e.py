"""The row filters (province:, group:, tag:, ...) and the help's live examples, as Slack sees them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bot.sandbox import CccServer
from harness.slack import Reply, SlackClient

Keep = Callable[[dict[str, Any]], bool]


def where(ccc: CccServer, keep: Keep, instance: str = "ccc-test") -> list[str]:
    return [n["Number"] for n in ccc.instances[instance] if keep(n)]


def in_vip_sichuan_0833(item: dict[str, Any]) -> bool:
    groups = [g["DisplayName"] for g in item["SkillGroups"]]
    return "0833" in item["Number"] and item["Province"] == "四川" and "VIP 热线" in groups


def footer_command(reply: Reply) -> str:
    """The command the share footer says to type, as the user would copy it."""
    texts = [e["text"] for b in reply.blocks if b["type"] == "context" for e in b["elements"]]
    footer = next(text for text in texts if text.startswith("See it yourself"))
    return re.search(r"`/numbers ([^`]*)`", footer).group(1)


def test_a_command_with_row_filters_is_described_and_counted_exactly(user: SlackClient, ccc: CccServer) -> None:
    expected = where(ccc, in_vip_sichuan_0833)
    reply = user.run('0833 province:四川 group:"VIP 热线"')
    assert reply.numbers() == expected[:10]
    title = reply.blocks[0]["text"]["text"]
    assert f"*{len(expected)} numbers*" in title
    assert "matching `0833` · province `四川` · group `VIP 热线`" in title
    assert f"of {len(expected)} · page 1 of {-(-len(expected) // 10)}" in reply.text


def test_next_pages_through_a_filtered_set_showing_each_match_once(user: SlackClient, ccc: CccServer) -> None:
    expected = where(ccc, lambda n: n["Tags"] == "M1" and n["Usage"] == "Inbound")
    assert len(expected) > 20  # several pages
    reply = user.run("inbound tag:m1")
    seen = reply.numbers()
    while reply.button("numbers_next"):
        reply = user.press(reply, "numbers_next")
        seen += reply.numbers()
    assert seen == expected


def test_the_share_footer_reproduces_the_filters(user: SlackClient) -> None:
    private = user.press(user.run('group:"VIP 热线" city:乐山 active'), "numbers_next")
    shared = user.press(private, "numbers_share", user_id="U0BOB")
    command = footer_command(shared)
    assert 'city:乐山 group:"VIP 热线"' in command and "page 2" in command
    again = user.run(command)
    assert again.numbers() == shared.numbers() == private.numbers()


def test_a_button_posted_before_the_row_filters_still_pages(user: SlackClient, ccc: CccServer) -> None:
    reply = user.run("0833")
    old = json.dumps({"v": 1, "i": "ccc-test", "q": "0833", "u": None, "a": None, "p": 2})
    paged = user.press(reply, "numbers_next", value=old)
    assert paged.numbers() == where(ccc, lambda n: "0833" in n["Number"])[10:20]


def test_an_unknown_prefix_suggests_the_filter_and_the_closest_example_without_calling_ccc(
        user: SlackClient, ccc: CccServer) -> None:
    before = ccc.calls
    reply = user.run("0833 provence:四川")
    assert "`provence:四川`" in reply.text and "Did you mean `province:四川`?" in reply.text
    assert "Closest example: `/numbers 0833 province:四川`" in reply.text
    assert ccc.calls == before


def test_single_quotes_find_what_double_quotes_find(user: SlackClient, ccc: CccServer) -> None:
    expected = where(ccc, in_vip_sichuan_0833)
    for typed in ("0833 province:四川 group:'VIP 热线'", "0833 province:四川 group:‘VIP 热线’"):
        assert user.run(typed).numbers() == expected[:10]


def test_a_tag_with_a_space_is_told_it_can_never_match_without_calling_ccc(user: SlackClient, ccc: CccServer) -> None:
    before = ccc.calls
    reply = user.run('tag:"M1 VIP"')
    assert "can never match" in reply.text and "`tag:M1`" in reply.text and not reply.numbers()
    assert ccc.calls == before
