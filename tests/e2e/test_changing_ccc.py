"""A CCC whose numbers are added and removed while people page, count and export, through the signed HTTP path:
each number shown once, Next right after the page shown, and a word when CCC kept changing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from bot.formatters import MOVED_NOTE
from bot.sandbox import CccServer, sample_instances
from bot.summary_message import CHANGED_WHILE_COUNTING
from harness.process import BotProcess
from harness.slack import SlackClient, SlackServer
from tests.e2e.conftest import ALICE, SIGNING_SECRET, alice_only_bot
from tests.e2e.test_slack_flow import matching
from tests.e2e.test_summary_e2e import replies_until_summary


@pytest.fixture(scope="module")
def changing_ccc() -> Iterator[CccServer]:
    server = CccServer(sample_instances()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def changing_bot(changing_ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    yield from alice_only_bot(changing_ccc, slack, tmp_path_factory.mktemp("changing"))


@pytest.fixture()
def alice(changing_bot: BotProcess, slack: SlackServer, changing_ccc: CccServer) -> Iterator[SlackClient]:
    changing_ccc.instances = sample_instances()  # each test starts from the sample data: the bot caches by filters,
    yield SlackClient(changing_bot.url, SIGNING_SECRET, slack)  # so each test also asks with filters of its own
    changing_ccc.clear_faults()


def test_export_after_numbers_were_added_has_each_number_once(alice: SlackClient, slack: SlackServer,
                                                              changing_ccc: CccServer) -> None:
    """The issue's case: a list, 5 numbers added in CCC, Export within the cache's TTL (was 400 rows, 5 twice)."""
    shown = alice.run("0833")
    changing_ccc.add_numbers("ccc-test", 5, at=0)
    before = len(slack.completed_uploads())
    alice.press(shown, "numbers_export")
    uploads = slack.completed_uploads()[before:]
    assert len(uploads) == 1
    rows = list(csv.reader(io.StringIO(uploads[0].content.decode("utf-8-sig"), newline="")))[1:]
    assert [row[0] for row in rows] == matching(changing_ccc, "0833")


def test_next_after_the_cache_of_the_next_rows_went_stale_continues_right_after_the_page(alice: SlackClient,
                                                                                          changing_ccc: CccServer) -> None:
    alice.run("active page 11")  # rows 101-110 cached
    changing_ccc.add_numbers("ccc-test", 5, at=0)
    page_10 = alice.run("active page 10")  # rows 91-100 read now
    page_11 = alice.press(page_10, "numbers_next")
    listed = [n["Number"] for n in changing_ccc.instances["ccc-test"] if n["Active"]]
    assert page_10.numbers() + page_11.numbers() == listed[90:110]  # not rows 106-115 from the stale cache
    assert MOVED_NOTE not in page_11.text


def test_next_after_ccc_changed_since_the_page_was_shown_says_so(alice: SlackClient, changing_ccc: CccServer) -> None:
    page_10 = alice.run("page 10")  # rows 91-100, from API page 1
    changing_ccc.add_numbers("ccc-test", 3, at=0)
    page_11 = alice.press(page_10, "numbers_next")  # API page 2 is read now: rows 98-100 of page 10 come again
    listed = [n["Number"] for n in changing_ccc.instances["ccc-test"]]
    assert page_11.numbers() == listed[100:110] and MOVED_NOTE in page_11.text


def test_a_summary_while_ccc_keeps_changing_says_its_figures_may_be_off(alice: SlackClient, slack: SlackServer,
                                                                        changing_ccc: CccServer) -> None:
    changing_ccc.keep_changing("ccc-test", added=3)  # numbers that start with 0833, before every call
    sent = alice.command("summary 0", user_id=ALICE)
    *_, summary = replies_until_summary(slack, sent.response_url)
    assert CHANGED_WHILE_COUNTING.split(":warning: ")[1] in summary.text
