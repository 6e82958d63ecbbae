"""Summary: typed and clicked, counted over every API page through the real SDK, with progress told through the
response_url the way Slack allows (a click's reply replaces its message; a command's cannot), and shared."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from bot.filters import Query, encode_value
from bot.sandbox import CccServer
from bot.sandbox.data import make_numbers
from harness.process import BotProcess
from harness.slack import Reply, SlackClient, SlackServer
from tests.e2e.conftest import ALICE, BOB, SIGNING_SECRET, alice_only_bot
from tests.e2e.test_export import audit
from tests.test_summary import plain

SIZE = 3000  # 30 API pages: long enough at a few hundred ms a call for progress to be told


@pytest.fixture(scope="module")
def big_ccc() -> Iterator[CccServer]:
    server = CccServer({"ccc-test": make_numbers("ccc-test", SIZE, 11), "ccc-demo": make_numbers("ccc-demo", 24, 12)}).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _calm(big_ccc: CccServer) -> Iterator[None]:
    yield
    big_ccc.clear_faults()
    big_ccc.latency = 0.0


@pytest.fixture(scope="module")
def counter(big_ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    yield from alice_only_bot(big_ccc, slack, tmp_path_factory.mktemp("summary"))


@pytest.fixture()
def alice(counter: BotProcess, slack: SlackServer) -> SlackClient:
    return SlackClient(counter.url, SIGNING_SECRET, slack)


def replies_until_summary(slack: SlackServer, response_url: str, timeout: float = 30) -> list[Reply]:
    """Every post to `response_url` up to the one that is no progress note, then a pause for any unwanted extra."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = slack.replies_to(response_url)
        if replies and not replies[-1].body["text"].startswith("Counted "):
            time.sleep(0.5)
            return slack.replies_to(response_url)
        time.sleep(0.05)
    raise TimeoutError(f"no summary at {response_url}")


def is_summary(reply: Reply) -> bool:
    return reply.body["text"].startswith("Summary of")


def actions(reply: Reply) -> set[str]:
    return {e["action_id"] for b in reply.blocks if b["type"] == "actions" for e in b["elements"]}


def share(count: int, total: int) -> str:
    percent = 100 * count / total
    return f"{percent:.0f}%" if percent >= 1 else "<1%"


def expected_text(items: list[dict[str, Any]]) -> list[str]:
    """What the summary of `items` (the sandbox's own records) must say, worked out from the raw data."""
    total = len(items)

    def line(title: str, values: list[str]) -> str:
        counts = Counter(values).most_common()
        shown = " · ".join(f"{value} {count:,} ({share(count, total)})" for value, count in counts[:12])
        rest = counts[12:]
        return f"{title}\n{shown}" + (f" · {len(rest)} more {sum(c for _, c in rest):,}" if rest else "")

    groups = [g["DisplayName"] or g["Name"] for n in items for g in n["SkillGroups"]]
    groups += ["no skill group"] * sum(1 for n in items if not n["SkillGroups"])
    checks = [
        ("Active, take incoming calls, no contact flow",
         [n for n in items if n["Active"] and n["Usage"] != "Outbound" and not n["ContactFlowName"]]),
        ("In no skill group", [n for n in items if not n["SkillGroups"]]),
        ("Inactive, still bound to an agent", [n for n in items if not n["Active"] and n["UserId"]]),
    ]
    return [
        line("Usage", [n["Usage"] for n in items]),
        line("State", ["active" if n["Active"] else "inactive" for n in items]),
        line("Province", [n["Province"] or "no province" for n in items]),
        line("Provider", [n["Provider"] for n in items]),
        line("Skill group", groups),
        *(f"{title}: {len(found):,}\n" + " ".join(n["Number"] for n in found[:10]) if found else f"{title}: none"
          for title, found in checks),
    ]


def test_a_typed_summary_counts_every_match(alice: SlackClient, slack: SlackServer, big_ccc: CccServer,
                                            counter: BotProcess) -> None:
    items = [n for n in big_ccc.instances["ccc-test"] if "0833" in n["Number"] and n["Usage"] == "Inbound"]
    assert len(items) > 100  # more than one API page
    sent = alice.command("summary 0833 inbound")
    *notes, reply = replies_until_summary(slack, sent.response_url)
    assert len(notes) <= 1  # a note only if this machine took more than a second over 7 API pages
    text = plain(reply.body)
    assert text.startswith(f"*Summary of {len(items):,} numbers* in `ccc-test` · matching `0833` · inbound")
    for expected in expected_text(items):
        assert expected in text
    assert actions(reply) == {"numbers_list", "numbers_share_summary", "numbers_export"}
    line = audit(counter, event="summary", user=ALICE, text="summary 0833 inbound")
    assert line["outcome"] == "ok" and line["results"] == len(items)


def test_a_slow_typed_summary_posts_one_progress_note_then_the_summary(alice: SlackClient, slack: SlackServer,
                                                                      big_ccc: CccServer) -> None:
    big_ccc.latency = 0.6
    sent = alice.command("summary inbound")
    assert sent.status == 200 and sent.ack_seconds < 3
    note, result = replies_until_summary(slack, sent.response_url)
    assert note.body["text"].startswith("Counted ") and note.body["text"].endswith("will follow in a new message.")
    assert is_summary(result)
    # a command's response_url cannot replace what it posted, so the bot never asks it to
    assert all(r.body.get("replace_original") is not True for r in (note, result))


def test_the_summary_button_turns_the_list_into_progress_then_the_summary(alice: SlackClient, slack: SlackServer,
                                                                          big_ccc: CccServer) -> None:
    items = big_ccc.instances["ccc-test"]
    listed = alice.run("")  # every number: page 1 is cached now, 29 API pages are not
    # 4 pages every 0.6 s at best: the first note after 1.2 s, the one past halfway (2 s later at least) after
    # 3.6 s or 4.2 s, the summary after 4.8 s
    big_ccc.latency = 0.6
    sent = alice.click(listed, "numbers_summary")
    replies = replies_until_summary(slack, sent.response_url)
    *notes, result = replies
    assert len(notes) == 2 and all(r.accepted for r in replies)
    assert all(r.body.get("replace_original") is True for r in replies)  # each one in place of the last
    counted = [int(n.body["text"].split()[1].replace(",", "")) for n in notes]
    assert counted == sorted(counted) and all(n.body["text"].endswith(f"of {len(items):,} numbers ({100 * c // len(items)}%)…")
                                              for n, c in zip(notes, counted, strict=True))
    assert is_summary(result) and all(expected in plain(result.body) for expected in expected_text(items))

    back = alice.press(result, "numbers_list")
    assert back.body.get("replace_original") is True
    assert back.numbers() == [n["Number"] for n in items[:10]]

    shared = alice.press(result, "numbers_share_summary")
    assert shared.body["response_type"] == "in_channel" and shared.body.get("replace_original") is False
    text = plain(shared.body)
    assert text.startswith(f"<@{ALICE}> shared *Summary of {len(items):,} numbers*") and not actions(shared)
    assert "See it yourself: `/numbers summary instance:ccc-test`" in text and "Counted when shared." in text
    assert all(expected in text for expected in expected_text(items))


def test_ccc_failing_mid_count_replaces_the_progress_with_the_problem_and_the_way_back(
        alice: SlackClient, slack: SlackServer, big_ccc: CccServer, counter: BotProcess) -> None:
    listed = alice.run("0")  # nearly every number: 30 API pages
    big_ccc.latency = 0.3
    big_ccc.fail_from_page("Forbidden.RAM", 20)  # after 1.5 s at least: a progress note has replaced the list by then
    sent = alice.click(listed, "numbers_summary")
    *notes, result = replies_until_summary(slack, sent.response_url)
    assert notes and result.body.get("replace_original") is True
    assert "may not list phone numbers" in result.body["text"] and actions(result) == {"numbers_list"}
    assert audit(counter, event="summary", user=ALICE, outcome="error")["error"] == "permission"
    big_ccc.clear_faults()
    back = alice.press(result, "numbers_list")
    assert back.body.get("replace_original") is True and len(back.numbers()) == 10


def test_ccc_failing_before_any_progress_keeps_the_list(alice: SlackClient, slack: SlackServer, big_ccc: CccServer) -> None:
    listed = alice.run("0833 outbound")
    big_ccc.fail_next("Forbidden.RAM", times=100)
    sent = alice.click(listed, "numbers_summary")
    [reply] = replies_until_summary(slack, sent.response_url)
    assert reply.body.get("replace_original") is False and "may not list phone numbers" in reply.body["text"]


def test_a_typed_summary_that_ccc_refuses_gets_one_clear_reply(alice: SlackClient, slack: SlackServer,
                                                               big_ccc: CccServer, counter: BotProcess) -> None:
    big_ccc.fail_next("Forbidden.RAM", times=10)
    sent = alice.command("summary 0833 outbound inactive")
    [reply] = replies_until_summary(slack, sent.response_url)
    assert "may not list phone numbers" in reply.body["text"] and reply.body.get("replace_original") is not True
    assert audit(counter, event="summary", user=ALICE, text="summary 0833 outbound inactive")["outcome"] == "error"


def test_sharing_a_summary_ccc_then_refuses_tells_only_the_sharer(alice: SlackClient, slack: SlackServer,
                                                                  big_ccc: CccServer, counter: BotProcess) -> None:
    sent = alice.command("summary 0833 bidirection active")
    *_, result = replies_until_summary(slack, sent.response_url)
    # the Share button of a summary whose pages the cache does not hold (the value a summary of them would carry)
    uncached = encode_value(Query("ccc-test", pattern="0833", usage="Outbound", active=True))
    big_ccc.fail_next("Forbidden.RAM", times=10)
    shared = alice.press(result, "numbers_share_summary", value=uncached)
    time.sleep(0.3)
    assert shared.body["response_type"] == "ephemeral" and "may not list phone numbers" in shared.body["text"]
    assert len(slack.replies_to(shared.response_url)) == 1
    assert audit(counter, event="summary-share", user=ALICE)["outcome"] == "error"


def test_a_summary_with_a_page_is_refused_without_a_ccc_call(alice: SlackClient, slack: SlackServer,
                                                             big_ccc: CccServer) -> None:
    before = big_ccc.calls
    reply = alice.run("summary 0833 page 2")
    time.sleep(0.3)
    assert "has no pages: drop `page 2`" in reply.body["text"] and big_ccc.calls == before
    assert len(slack.replies_to(reply.response_url)) == 1


def test_a_user_off_the_allow_list_cannot_count_with_someone_elses_button(
        alice: SlackClient, slack: SlackServer, big_ccc: CccServer, counter: BotProcess) -> None:
    listed = alice.run("0833 bidirection")
    before = big_ccc.calls
    refused = alice.press(listed, "numbers_summary", user_id=BOB)
    time.sleep(0.3)
    assert "NUMBERS_ALLOWED_USERS" in refused.body["text"] and big_ccc.calls == before
    assert len(slack.replies_to(refused.response_url)) == 1
    assert audit(counter, event="summary", user=BOB)["outcome"] == "refused"


def test_a_doctored_summary_button_is_refused_without_a_ccc_call(alice: SlackClient, slack: SlackServer,
                                                                 big_ccc: CccServer) -> None:
    listed = alice.run("0833 bidirection")
    before = big_ccc.calls
    refused = alice.press(listed, "numbers_summary", value='{"v":2,"i":"elsewhere","q":"","u":null,"a":null,"p":1,"f":{}}')
    assert "not one this bot may look in" in refused.body["text"] and big_ccc.calls == before
