"""CCC failing or hanging while many people click: one CCC call for them all, the same friendly answer to each, and a
help that never waits on CCC. Through the signed HTTP path, against a bot of one process (one cache)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from bot.sandbox import CccServer
from harness.process import BotProcess
from harness.slack import SlackClient, SlackServer
from tests.e2e.conftest import ALICE, SIGNING_SECRET, alice_only_bot

ATTEMPTS = 3  # the bot's CCC_MAX_ATTEMPTS (its default)


@pytest.fixture(scope="module")
def storm_bot(ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    yield from alice_only_bot(ccc, slack, tmp_path_factory.mktemp("storm"))


@pytest.fixture()
def alice(storm_bot: BotProcess, slack: SlackServer) -> SlackClient:
    return SlackClient(storm_bot.url, SIGNING_SECRET, slack)


def test_ten_clicks_on_the_same_next_during_an_outage_cost_one_lookup(alice: SlackClient, slack: SlackServer,
                                                                      ccc: CccServer) -> None:
    """Was: each waiter called CCC in turn once the call before it failed: 10 clicks, 30 calls, one after another."""
    shown = alice.run("inbound page 10")  # Next needs API page 2, which no one has read
    calls = ccc.calls
    ccc.latency = 0.5
    ccc.fail_next("ServiceUnavailable", 50)
    sent = [alice.click(shown, "numbers_next", user_id=ALICE) for _ in range(10)]
    replies = [slack.wait_for_reply(s.response_url) for s in sent]
    assert ccc.calls - calls == ATTEMPTS  # one lookup, retried as the bot may, shared by all ten
    assert {r.text.count("unavailable") > 0 for r in replies} == {True}
    assert len({r.body["blocks"][0]["text"]["text"] for r in replies}) == 1  # the same answer for everyone
    again = alice.press(shown, "numbers_next")  # a moment later: the failure is remembered, CCC is not asked
    assert "unavailable" in again.text and ccc.calls - calls == ATTEMPTS


def test_help_never_waits_on_a_hanging_ccc(alice: SlackClient, ccc: CccServer) -> None:
    calls = ccc.calls
    ccc.fail_next("hang", 5)
    reply = alice.run("help", reply_timeout=3)  # was: it fetched examples, ~17 s on a hanging CCC
    assert "/numbers" in reply.text and ccc.calls == calls


def test_help_shows_live_examples_once_a_lookup_has_cached_them(alice: SlackClient, ccc: CccServer) -> None:
    first_page = ccc.instances["ccc-test"][:100]
    group = Counter(g["DisplayName"] for n in first_page for g in n["SkillGroups"]).most_common(1)[0][0]
    alice.run("page 2")  # the default instance's first API page, unfiltered
    calls = ccc.calls
    reply = alice.run("help")
    assert "province:" in reply.text and "group:" in reply.text and "tag:" in reply.text
    assert "`/numbers 0833 province:四川`" in reply.text
    assert f"group:{group}" in reply.text or f'group:\\"{group}\\"' in reply.text
    assert ccc.calls == calls
