"""`&`, `<` and `>` typed in a command arrive HTML-escaped, as Slack sends them (harness.slack.slack_escaped); the bot
finds, titles, shares and exports what the user typed, not the escaped text."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from bot.sandbox import CccServer, sample_instances
from harness.process import BotProcess
from harness.slack import SlackClient, SlackServer
from tests.e2e.conftest import SIGNING_SECRET, bot_env, running_bot

# Three numbers whose provider, skill group and tag hold the characters Slack escapes
MARKED = {
    "08335550001": {"Provider": "AT&T"},
    "08335550002": {"SkillGroups": [{"SkillGroupId": "rd@ccc-test", "Name": "R&D", "DisplayName": "R&D 研发",
                                     "InstanceId": "ccc-test"}]},
    "08335550003": {"Tags": "<VIP>"},
}


def marked_instances() -> dict[str, list[dict[str, Any]]]:
    instances = sample_instances()
    template = instances["ccc-test"][0]
    for number, fields in MARKED.items():
        instances["ccc-test"].append({**copy.deepcopy(template), "Number": number, "Provider": "alicom", "Tags": "",
                                      "SkillGroups": [], **fields})
    return instances


@pytest.fixture(scope="module")
def marked_ccc() -> Iterator[CccServer]:
    server = CccServer(marked_instances()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def marked_bot(marked_ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    yield from running_bot(bot_env(marked_ccc, slack, WEB_CONCURRENCY="1"), tmp_path_factory.mktemp("marked"))


@pytest.fixture()
def typist(marked_bot: BotProcess, slack: SlackServer) -> SlackClient:
    return SlackClient(marked_bot.url, SIGNING_SECRET, slack)


@pytest.mark.parametrize(("typed", "number", "title"), [
    ("provider:AT&T", "08335550001", "provider `AT&amp;T`"),
    ('group:"R&D"', "08335550002", "group `R&amp;D`"),
    ("tag:<VIP>", "08335550003", "tag `&lt;VIP&gt;`"),
])
def test_a_row_filter_with_escaped_characters_finds_what_was_typed(typist: SlackClient, slack: SlackServer, typed: str,
                                                                    number: str, title: str) -> None:
    sent_text = parse_qs(typist.signed_command(typed).body.decode())["text"][0]
    assert sent_text != typed and ("&amp;" in sent_text or "&lt;" in sent_text)
    reply = typist.run(typed)
    assert reply.numbers() == [number]
    heading = reply.blocks[0]["text"]["text"]
    assert heading.startswith("*1 number*") and title in heading, heading  # escaped once for mrkdwn, not twice


def test_the_shared_command_and_the_export_carry_what_was_typed(typist: SlackClient, slack: SlackServer) -> None:
    reply = typist.run("0833 provider:AT&T")
    shared = typist.press(reply, "numbers_share")
    footer = shared.blocks[-1]["elements"][0]["text"]
    assert "provider:AT&amp;T" in footer and "&amp;amp;" not in footer, footer  # reads `provider:AT&T` in Slack

    before = len(slack.completed_uploads())
    typist.press(reply, "numbers_export")
    deadline = time.monotonic() + 10
    while len(slack.completed_uploads()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    upload = slack.completed_uploads()[before]
    assert upload.title == "1 number in ccc-test · matching 0833 · provider AT&T"  # plain text: shown as is
    assert "AT&amp;T" in upload.initial_comment and "&amp;amp;" not in upload.initial_comment  # mrkdwn


def test_a_typed_entity_stays_as_typed(typist: SlackClient) -> None:
    """A user who types `&lt;` means those four characters: Slack sends `&amp;lt;`, which decodes to `&lt;`."""
    reply = typist.run("provider:&lt;VIP&gt;")
    assert reply.numbers() == []
    assert "provider `&amp;lt;VIP&amp;gt;`" in reply.blocks[0]["text"]["text"]
