"""The parts of a clean stop below the process (the process itself: tests/e2e/test_stop.py): one answer per task
whoever gives it, a drain that waits a bounded time, and an export that gives up at its deadline."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from slack_bolt import Respond
from slack_sdk import WebClient

from bot import handlers
from bot.audit import Who
from bot.filters import Query, encode_value
from bot.handlers import Listeners
from bot.sandbox import CccServer
from bot.sandbox.data import make_numbers
from bot.service import NumberService, build_client
from bot.stopping import ListenerPool, LongTasks
from harness.slack import SlackServer
from tests.test_service import SANDBOX_KEY, settings_for

WHO = Who("U0ALICE", "C0CHANNEL")


def test_a_task_is_answered_by_whoever_claims_it_first_and_only_by_that_one() -> None:
    tasks = LongTasks()
    task = tasks.start("summary", WHO, Respond(response_url=None), Query("ccc-test"), 0.0)
    assert tasks.claim_all() == [task]  # the stop answers it
    assert not tasks.finish(task)  # so the work, when it ends, does not
    assert tasks.claim_all() == []  # nor does a second look by the stop


def test_a_task_the_work_has_answered_is_not_answered_by_the_stop() -> None:
    tasks = LongTasks()
    task = tasks.start("export", WHO, Respond(response_url=None), Query("ccc-test"), 0.0)
    assert tasks.finish(task)
    assert tasks.claim_all() == []


def test_the_drain_waits_for_work_that_ends_and_counts_the_work_that_does_not() -> None:
    pool = ListenerPool(max_workers=2, thread_name_prefix="test")
    release = threading.Event()
    pool.submit(lambda: None)
    pool.submit(release.wait)
    assert pool.drain(0.2) == 1
    release.set()
    assert pool.drain(5) == 0
    with pytest.raises(RuntimeError):  # drained: no new work
        pool.submit(lambda: None)


@pytest.fixture(scope="module")
def slow_ccc() -> Iterator[CccServer]:
    server = CccServer({"ccc-big": make_numbers("ccc-big", 2_000, seed=7)}).start()  # 20 API pages
    server.latency = 0.3
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackServer]:
    server = SlackServer().start()
    yield server
    server.stop()


def test_an_export_slower_than_its_deadline_says_so_instead_of_sending_the_file(
        slow_ccc: CccServer, slack: SlackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "WALK_TIME_LIMIT_SECONDS", 0.5)  # instead of 25 minutes
    settings = settings_for(slow_ccc.endpoint, CCC_INSTANCE_ID="ccc-big", CCC_READ_TIMEOUT_SECONDS="5")
    service = NumberService(build_client(settings, SANDBOX_KEY), settings)
    response_url = slack.new_response_url()
    uploads = len(slack.completed_uploads())

    Listeners(service, settings).on_export_click(
        {"user": {"id": WHO.user}, "channel": {"id": WHO.channel}}, {"value": encode_value(Query("ccc-big"))},
        Respond(response_url=response_url), WebClient(token="xoxb-test", base_url=f"{slack.base_url}/api/"))
    service.close()

    replies = slack.replies_to(response_url)
    assert len(replies) == 1 and "too slowly" in replies[0].text
    assert len(slack.completed_uploads()) == uploads
    assert slow_ccc.calls < 20  # it gave up part way
