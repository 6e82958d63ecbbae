"""Every CCC fault, end to end: each command and each click is answered exactly once, saying what happened and what
to do, and the bot's log names the failure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.sandbox import CccServer
from bot.sandbox.server import INJECTION_TEXT, NON_ASCII_TEXT
from harness.process import BotProcess, free_port
from harness.slack import Reply, Sent, SlackClient, SlackServer
from tests.e2e.conftest import SIGNING_SECRET, bot_env, running_bot
from tests.e2e.test_slack_flow import matching

ATTEMPTS = 3  # the bot's CCC_MAX_ATTEMPTS (its default)
SECOND_REPLY_WAIT = 0.5  # seconds to wait after a reply for a second one that must not come


@pytest.fixture(scope="module")
def bot(ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """This module's own bot (it overrides the shared one, also for `user`): no lookup of another module is in its
    cache, and none of these, with their odd answers, is in the shared bot's."""
    yield from running_bot(bot_env(ccc, slack), tmp_path_factory.mktemp("faults"))


# A bot caches a lookup for 60 s, so every test here looks up something no test looked up before.
_PATTERNS = iter([f"{n:02d}" for n in range(10, 100)])  # two digits: each matches 17 to 62 of the 400 numbers
_LONG_LISTS = iter([f"{digit} active" for digit in "23456789"])  # each matches over 190: page 11 needs API page 2


def fresh_pattern() -> str:
    return next(_PATTERNS)


def fresh_long_list() -> str:
    return next(_LONG_LISTS)


def answered_once(slack: SlackServer, sent: Sent) -> Reply:
    """The one reply to an acked request; fails if a second reply follows it."""
    assert sent.status == 200, (sent.status, sent.body)
    reply = slack.wait_for_reply(sent.response_url)
    time.sleep(SECOND_REPLY_WAIT)
    assert len(slack.replies_to(sent.response_url)) == 1
    return reply


def assert_says(reply: Reply, *phrases: str) -> None:
    text = reply.text.lower()
    assert all(phrase in text for phrase in phrases), (phrases, reply.text)
    assert "traceback" not in text and "exception" not in text


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from strings(item)


class LogCount:
    """How many times a text appears in the bot's log, before and after."""

    def __init__(self, bot: BotProcess, text: str) -> None:
        self.bot, self.text = bot, text
        self.before = bot.log().count(text)

    def grew(self) -> bool:
        return self.bot.log().count(self.text) > self.before


RATE_LIMITED = ("rate-limiting", "try again in a few seconds")
BROKE = ("broke before it answered", "try again in a few seconds")
UNREADABLE = ("could not read", "try again")
# fault, how many calls it spoils, what the reply must say, the kind the log names
FAILURES = [
    ("Throttling.User", ATTEMPTS, RATE_LIMITED, "throttled"),
    ("Throttling.Api", ATTEMPTS, RATE_LIMITED, "throttled"),
    ("InternalError", ATTEMPTS, ("internal error", "try again in a minute"), "server"),
    ("ServiceUnavailable", ATTEMPTS, ("unavailable", "try again in a minute"), "server"),
    ("hang", ATTEMPTS, ("did not answer in time", "try again"), "timeout"),
    ("close", ATTEMPTS, BROKE, "dropped"),
    ("reset", ATTEMPTS, BROKE, "dropped"),
    ("malformed", ATTEMPTS, UNREADABLE, "malformed"),  # a body that is not JSON may be garbled on the way: retried
    ("html-502", ATTEMPTS, ("server error (http 502)", "try again in a minute"), "server"),
    ("html-503", ATTEMPTS, ("server error (http 503)", "try again in a minute"), "server"),
    ("InvalidTimeStamp.Expired", 1, ("clock", "off by more than 15 minutes", "ntp"), "config"),
    ("InvalidSecurityToken.MismatchWithAccessKey", 1, ("sts", "same sts answer"), "auth"),
    ("InvalidVersion", 1, ("2020-07-01", "ccc_endpoint"), "mismatch"),
    ("InvalidAction.NotFound", 1, ("listphonenumbers", "ccc_endpoint"), "mismatch"),
    ("no-data", 1, UNREADABLE, "malformed"),
    ("wrong-shape", 1, UNREADABLE, "malformed"),
]


@pytest.mark.parametrize(("fault", "times", "says", "kind"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_command_that_meets_a_fault_is_answered_once(user: SlackClient, slack: SlackServer, ccc: CccServer,
                                                       bot: BotProcess, fault: str, times: int, says: tuple[str, ...],
                                                       kind: str) -> None:
    logged, calls = LogCount(bot, f"kind={kind} "), ccc.calls
    ccc.fail_next(fault, times)
    reply = answered_once(slack, user.command(fresh_pattern()))
    assert_says(reply, *says)
    assert reply.body["response_type"] == "ephemeral" and not reply.button("numbers_next")
    assert ccc.calls - calls == times  # retried exactly as often as the bot may, and not once more
    assert logged.grew()


CLICK_FAILURES = [f for f in FAILURES if f[0] in ("Throttling.User", "hang", "reset", "wrong-shape", "html-502")]


@pytest.mark.parametrize(("fault", "times", "says", "kind"), CLICK_FAILURES, ids=[f[0] for f in CLICK_FAILURES])
def test_a_click_that_meets_a_fault_keeps_the_list_and_is_answered_once(user: SlackClient, slack: SlackServer,
                                                                         ccc: CccServer, bot: BotProcess, fault: str,
                                                                         times: int, says: tuple[str, ...],
                                                                         kind: str) -> None:
    shown = user.run(f"{fresh_long_list()} page 10")  # Next shows rows 101-110: an API page no worker has yet
    logged = LogCount(bot, f"kind={kind} ")
    ccc.fail_next(fault, times)
    failed = answered_once(slack, user.click(shown, "numbers_next"))
    assert_says(failed, *says)
    assert failed.body.get("replace_original") is False and failed.body["response_type"] == "ephemeral"
    assert logged.grew()


def test_unexpected_fields_still_show_what_can_be_read(user: SlackClient, slack: SlackServer, ccc: CccServer,
                                                       bot: BotProcess) -> None:
    pattern, logged = fresh_pattern(), LogCount(bot, "have no Number")
    ccc.fail_next("unexpected-fields")  # every 4th item without a Number, TotalCount a string, Active "yes", ...
    reply = answered_once(slack, user.command(pattern))
    everything = matching(ccc, pattern)
    shown = [n for index, n in enumerate(everything[:10]) if index % 4 != 3]
    assert all(number in reply.text for number in shown)
    assert not any(number in reply.text for index, number in enumerate(everything[:10]) if index % 4 == 3)
    assert f"1-{len(shown)} of {len(everything)}" in reply.text and "state unknown" in reply.text
    assert logged.grew()


def test_very_long_values_are_clipped_and_the_message_stays_valid(user: SlackClient, slack: SlackServer,
                                                                  ccc: CccServer) -> None:
    pattern = fresh_pattern()
    ccc.fail_next("long-values")  # 10,000 characters in every text field, the number included
    reply = answered_once(slack, user.command(pattern))
    assert len(reply.blocks) <= 50
    for block in reply.blocks:
        Block.parse(block).to_dict()  # slack_sdk checks the lengths Slack documents
    assert max(len(text) for text in strings(reply.body)) <= 3000
    assert "…" in reply.text and matching(ccc, pattern)[0] in reply.text
    assert reply.button("numbers_share")  # a result, not an apology


def test_non_ascii_is_shown_intact(user: SlackClient, slack: SlackServer, ccc: CccServer) -> None:
    pattern = fresh_pattern()
    ccc.fail_next("non-ascii")  # CJK, emoji, right-to-left text and a combining accent in every text field
    reply = answered_once(slack, user.command(pattern))
    assert all(f"{number} {NON_ASCII_TEXT}" in reply.text for number in matching(ccc, pattern)[:10])
    assert reply.text.count(NON_ASCII_TEXT) >= 3 * 10  # the number, the provider, the groups ... of each row


def slack_markup(reply: Reply) -> list[str]:
    """Everything in the reply that Slack would turn into a ping, a link or a mention."""
    found = []
    for block in reply.blocks:
        for element in _rich_text_elements(block):
            if element["type"] not in ("text", "emoji", "date"):
                found.append(element["type"])
        for text in _mrkdwn_texts(block):
            found += [token for token in ("<!", "<@", "<#", "<http") if token in text]
    return found


def _rich_text_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    sections = block.get("elements", []) if block.get("type") == "rich_text" else []
    return [element for section in sections for element in section.get("elements", [])]


def _mrkdwn_texts(block: dict[str, Any]) -> list[str]:
    objects = [block.get("text") or {}, *block.get("fields", []), *block.get("elements", [])]
    return [o.get("text", "") for o in objects if isinstance(o, dict) and o.get("type") == "mrkdwn"]


def test_slack_markup_in_every_ccc_field_is_shown_literally(user: SlackClient, slack: SlackServer, ccc: CccServer) -> None:
    pattern = fresh_pattern()
    ccc.fail_next("injection")
    reply = answered_once(slack, user.command(pattern))
    assert slack_markup(reply) == []
    assert reply.numbers() == [f"{number} {INJECTION_TEXT}" for number in matching(ccc, pattern)[:10]]
    texts = [e.get("text", "") for block in reply.blocks for e in _rich_text_elements(block)]
    assert sum(INJECTION_TEXT in text for text in texts) >= 10  # shown as typed in CCC, not escaped, not formatted


def test_slack_markup_typed_by_the_user_is_shown_literally(user: SlackClient, slack: SlackServer) -> None:
    reply = answered_once(slack, user.command("0833 <!channel> *bold* <@U0BOSS>"))
    assert slack_markup(reply) == []
    assert "&lt;!channel&gt;" in reply.text


@pytest.mark.parametrize("code", ["InvalidVersion", "MissingParameter", "IncompleteSignature"])
def test_a_mismatch_with_the_endpoint_names_it(user: SlackClient, slack: SlackServer, ccc: CccServer, code: str) -> None:
    ccc.fail_next(code)
    reply = answered_once(slack, user.command(fresh_pattern()))
    assert f"`{ccc.endpoint}`" in reply.text


# --- a CCC_ENDPOINT where nothing listens ---------------------------------------------------------


@pytest.fixture(scope="module")
def refused_bot(ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    env = bot_env(ccc, slack, CCC_ENDPOINT=f"127.0.0.1:{free_port()}", WEB_CONCURRENCY="1")
    yield from running_bot(env, tmp_path_factory.mktemp("refused"))


@pytest.fixture()
def refused_user(refused_bot: BotProcess, slack: SlackServer) -> SlackClient:
    return SlackClient(refused_bot.url, SIGNING_SECRET, slack)


def test_a_refused_connection_is_answered_once(refused_user: SlackClient, refused_bot: BotProcess,
                                               slack: SlackServer) -> None:
    reply = answered_once(slack, refused_user.command(fresh_pattern()))
    assert_says(reply, "could not reach ccc", "try again", "ccc_endpoint")
    assert "kind=unreachable" in refused_bot.log()


def test_a_click_on_a_bot_that_cannot_reach_ccc_keeps_the_list(user: SlackClient, refused_user: SlackClient,
                                                               slack: SlackServer) -> None:
    shown = user.run(fresh_pattern())  # a list from the healthy bot, clicked on the other
    failed = answered_once(slack, refused_user.click(shown, "numbers_next"))
    assert_says(failed, "could not reach ccc")
    assert failed.body.get("replace_original") is False and failed.body["response_type"] == "ephemeral"
