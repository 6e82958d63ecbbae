"""The bot as Slack sees it: signed commands and clicks over HTTP, replies on response_urls, real SDK to local CCC."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from bot.sandbox import CccServer
from harness.slack import SlackClient, SlackServer


def matching(ccc: CccServer, pattern: str = "", usage: str = "", instance: str = "ccc-test") -> list[str]:
    return [n["Number"] for n in ccc.instances[instance] if pattern in n["Number"] and usage in ("", n["Usage"])]


def test_command_is_acked_and_answered_once_privately(user: SlackClient, slack: SlackServer, ccc: CccServer) -> None:
    sent = user.command("0833 inbound")
    assert sent.status == 200 and sent.body == ""
    reply = slack.wait_for_reply(sent.response_url)
    assert reply.body["response_type"] == "ephemeral"
    expected = matching(ccc, "0833", "Inbound")
    assert reply.numbers() == expected[:10]
    assert f"Showing 1-10 of {len(expected)} · page 1 of {-(-len(expected) // 10)}" in reply.text
    assert reply.button("numbers_prev") is None and reply.button("numbers_next") and reply.button("numbers_share")
    time.sleep(0.3)
    assert len(slack.replies_to(sent.response_url)) == 1


def test_paging_forward_shows_every_match_exactly_once(user: SlackClient, ccc: CccServer) -> None:
    expected = matching(ccc, "0833")
    assert len(expected) > 150  # a few hundred numbers, many pages
    reply = user.run("0833")
    seen = reply.numbers()
    while reply.button("numbers_next"):
        reply = user.press(reply, "numbers_next")
        assert reply.body.get("replace_original") is True
        seen += reply.numbers()
    assert seen == expected
    assert reply.button("numbers_prev") is not None
    back = user.press(reply, "numbers_prev")
    assert back.numbers() == expected[-(len(expected) % 10 or 10) - 10:-(len(expected) % 10 or 10)]


def test_next_clicks_are_served_from_cache(user: SlackClient, ccc: CccServer) -> None:
    reply = user.run("active")
    before = ccc.calls
    for _ in range(9):
        reply = user.press(reply, "numbers_next")
    # One API page of 100 serves ten pages of 10. Each of the two workers keeps its own cache, so the worker
    # that did not serve the command may fetch that API page once; no click after that calls CCC.
    assert ccc.calls - before <= 1


def test_active_then_inactive_shows_each_its_own_numbers(user: SlackClient, ccc: CccServer) -> None:
    """The same pattern a moment later with the other state: the cache must not answer with the first list."""
    for word, state in (("active", True), ("inactive", False), ("active", True)):
        expected = [n["Number"] for n in ccc.instances["ccc-test"] if "0833" in n["Number"] and n["Active"] is state]
        reply = user.run(f"0833 {word}")
        assert reply.numbers() == expected[:10] and f"*{len(expected)} numbers*" in reply.blocks[0]["text"]["text"]


def test_page_and_instance_words(user: SlackClient, ccc: CccServer) -> None:
    reply = user.run("PAGE 2 instance:ccc-demo")
    assert reply.numbers() == matching(ccc, instance="ccc-demo")[10:20]
    assert "ccc-demo" in reply.text and "page 2 of 3" in reply.text


def test_page_past_the_end_shows_the_last_page(user: SlackClient, ccc: CccServer) -> None:
    reply = user.run("instance:ccc-demo page 9")
    assert reply.numbers() == matching(ccc, instance="ccc-demo")[20:]
    assert "There is no page 9" in reply.text


def test_share_posts_a_snapshot_to_the_channel(user: SlackClient) -> None:
    private = user.press(user.run("0833 inbound"), "numbers_next")
    shared = user.press(private, "numbers_share", user_id="U0BOB")
    assert shared.body["response_type"] == "in_channel" and shared.body.get("replace_original") is False
    assert "<@U0BOB> shared" in shared.text and "matching 0833 · inbound" in shared.text
    assert "page 2 of" in shared.text and "/numbers 0833 inbound page 2" in shared.text
    assert shared.numbers() == private.numbers()
    assert not [b for b in shared.blocks if b["type"] == "actions"]


def test_unknown_word_is_named_with_a_suggestion_and_ccc_is_not_called(user: SlackClient, ccc: CccServer) -> None:
    before = ccc.calls
    reply = user.run("0833 inbond")
    assert "`inbond`" in reply.text and "`inbound`" in reply.text
    assert reply.body["response_type"] == "ephemeral"
    assert ccc.calls == before


def test_conflicting_filters_are_refused(user: SlackClient, ccc: CccServer) -> None:
    before = ccc.calls
    reply = user.run("inbound out")
    assert "`inbound` and `out`" in reply.text
    assert ccc.calls == before


def test_help(user: SlackClient) -> None:
    reply = user.run("help")
    assert "inbound" in reply.text and "page N" in reply.text and "ccc-demo" in reply.text


def test_no_matches_says_so(user: SlackClient) -> None:
    reply = user.run("99999999999")
    assert "Nothing matches" in reply.text and not reply.button("numbers_share")


def test_ccc_error_becomes_a_friendly_message_with_request_id(user: SlackClient, ccc: CccServer) -> None:
    ccc.fail_next("Forbidden.RAM")
    reply = user.run("0571")
    assert "ccc:ListPhoneNumbers" in reply.text and "request ID" in reply.text
    assert "Traceback" not in reply.text and "ClientException" not in reply.text


def test_throttling_is_retried_invisibly(user: SlackClient, ccc: CccServer) -> None:
    ccc.fail_next("Throttling.User", 2)
    reply = user.run("0755")
    assert reply.numbers() == matching(ccc, "0755")[:10]


def test_ccc_timeout_is_answered(user: SlackClient, ccc: CccServer) -> None:
    ccc.fail_next("hang", 3)
    reply = user.run("021")
    assert "did not answer in time" in reply.text


def test_a_failed_click_keeps_the_list_and_explains(user: SlackClient, ccc: CccServer) -> None:
    reply = user.run("1 page 10")  # page 11 needs the second API page of 100, which no worker has yet
    ccc.fail_next("ServiceUnavailable", 3)
    failed = user.press(reply, "numbers_next")
    assert failed.body.get("replace_original") is False and failed.body["response_type"] == "ephemeral"
    assert "unavailable" in failed.text


def test_a_doctored_button_value_is_refused_without_calling_ccc(user: SlackClient, ccc: CccServer) -> None:
    reply = user.run("0833")
    original = json.loads(reply.button("numbers_next")["value"])
    before = ccc.calls
    for value in ["not json", json.dumps({**original, "i": "ccc-other"}), json.dumps({**original, "p": 5000}), "x" * 3000]:
        refused = user.press(reply, "numbers_next", value=value)
        assert refused.body.get("replace_original") is False and refused.body["response_type"] == "ephemeral"
        assert "run the command again" in refused.text or "not one this bot" in refused.text or "may look in" in refused.text
    assert ccc.calls == before


def test_forged_stale_and_missing_signatures_get_401_and_do_nothing(user: SlackClient, slack: SlackServer, ccc: CccServer) -> None:
    before = ccc.calls
    forged = user.command("0833", signature="v0=" + "0" * 64)
    stale = user.command("0833", timestamp=int(time.time()) - 600)
    request = user.signed_command("0833")
    missing = user.send(replace(request, headers={k: v for k, v in request.headers.items() if k != "X-Slack-Signature"}))
    no_time = user.send(replace(request, headers={k: v for k, v in request.headers.items() if k != "X-Slack-Request-Timestamp"}))
    assert forged.status == stale.status == missing.status == no_time.status == 401
    time.sleep(0.5)
    assert not any(slack.replies_to(s.response_url) for s in (forged, stale, missing, no_time))
    assert ccc.calls == before


def test_everyone_is_acked_and_answered_while_ccc_is_slow(user: SlackClient, slack: SlackServer, ccc: CccServer) -> None:
    """40 people at once while every CCC call takes 2.5 s: every ack comes back before any lookup ends, all answered."""
    from concurrent.futures import ThreadPoolExecutor

    ccc.latency = 2.5
    patterns = [f"{n:02d}" for n in range(10, 50)]  # 40 different lookups: 40 cache misses
    with ThreadPoolExecutor(max_workers=40) as pool:
        sent = list(pool.map(user.command, patterns))
    assert all(s.status == 200 for s in sent)
    replies = [slack.wait_for_reply(s.response_url, timeout=60) for s in sent]
    # an order, not a timing: no ack waited for CCC, so the last ack precedes the first reply
    assert max(s.sent_at + s.ack_seconds for s in sent) < min(r.received_at for r in replies)
    assert all(r.body["response_type"] == "ephemeral" and "Showing" in r.text for r in replies)
    assert all(len(slack.replies_to(s.response_url)) == 1 for s in sent)
