"""Soak: a few hundred commands and Next clicks, 24 at a time, while CCC fails in every way the sandbox can.

Counts and bounds only, never durations: every request is answered exactly once, no worker dies, and the workers
end with no more threads than their pools allow and little more memory than after the warm-up.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.sandbox import CccServer
from bot.sandbox.server import ERRORS, FAULTS
from harness.process import BotProcess
from harness.slack import SlackClient, SlackServer
from tests.e2e.conftest import SIGNING_SECRET, bot_env, running_bot
from tests.e2e.test_faults import ATTEMPTS, SECOND_REPLY_WAIT

pytestmark = pytest.mark.slow

CONCURRENCY = 24
WARM_UP_PEOPLE, SOAK_PEOPLE = 80, 240  # each sends a command, and most click Next when there is one
FAULT_SHARE = 0.3  # how many people queue a fault before their command
CLICK_SHARE = 0.8  # how many click Next on their answer, when it has a Next button
# Not "long-values": an answer of 100 numbers with 10,000 characters in each text field is 18 MB of JSON, whose
# parsing lifts the allocator's high-water mark by tens of MiB per worker. A spike, not a leak; test_faults covers it.
SOAK_FAULTS = [*(fault for fault in FAULTS if fault != "long-values"),
               *(code for code in ERRORS if code.startswith(("Throttling", "Internal", "Service"))), "Forbidden"]
WORDS = ["", "inbound", "outbound", "bidirection", "active", "inactive"]
LISTENER_THREADS, GUNICORN_THREADS = 40, 8
MAX_THREADS = 1 + GUNICORN_THREADS + LISTENER_THREADS + 4  # a worker's main thread, both pools full, and a margin
RSS_GROWTH_MIB = 40
REPLY_TIMEOUT = 60  # seconds; a reply that takes longer counts as lost


@pytest.fixture(scope="module")
def soak_bot(ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """Its own bot: a 1 s read timeout keeps hangs short; a small cache keeps the memory figures about leaks."""
    env = bot_env(ccc, slack, CCC_READ_TIMEOUT_SECONDS="1", NUMBERS_LISTENER_THREADS=str(LISTENER_THREADS),
                  GUNICORN_THREADS=str(GUNICORN_THREADS), NUMBERS_CACHE_MAX_ENTRIES="100")
    yield from running_bot(env, tmp_path_factory.mktemp("soak"))


def person(user: SlackClient, slack: SlackServer, ccc: CccServer, rng: random.Random) -> list[str]:
    """One person: maybe a fault for CCC's next calls, a command, maybe a Next click. The response_urls used."""
    if rng.random() < FAULT_SHARE:
        ccc.fail_next(rng.choice(SOAK_FAULTS), rng.choice([1, ATTEMPTS]))
    text, clicks = f"{rng.randrange(100):02d} {rng.choice(WORDS)}".strip(), rng.random() < CLICK_SHARE
    sent = user.command(text)
    assert sent.status == 200, (text, sent.status)
    reply = slack.wait_for_reply(sent.response_url, REPLY_TIMEOUT)
    if not (clicks and reply.button("numbers_next")):
        return [sent.response_url]
    clicked = user.click(reply, "numbers_next")
    assert clicked.status == 200, (text, clicked.status)
    slack.wait_for_reply(clicked.response_url, REPLY_TIMEOUT)
    return [sent.response_url, clicked.response_url]


def crowd(user: SlackClient, slack: SlackServer, ccc: CccServer, people: int, seed: int) -> list[str]:
    """`people` persons, CONCURRENCY at a time, each with its own random choices. Every response_url used."""
    rngs = [random.Random(seed * 10_000 + n) for n in range(people)]
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        runs = list(pool.map(lambda rng: person(user, slack, ccc, rng), rngs))
    return [url for urls in runs for url in urls]


def status_field(pid: int, name: str) -> int:
    """A number from /proc/<pid>/status (Threads; VmRSS in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {name} for process {pid}")


def workers_now(bot: BotProcess) -> dict[int, tuple[int, float]]:
    """Each worker's thread count and resident memory in MiB."""
    return {pid: (status_field(pid, "Threads"), status_field(pid, "VmRSS") / 1024) for pid in bot.workers()}


def test_hundreds_of_requests_with_faults_are_each_answered_once(soak_bot: BotProcess, slack: SlackServer,
                                                                 ccc: CccServer) -> None:
    user = SlackClient(soak_bot.url, SIGNING_SECRET, slack)
    crowd(user, slack, ccc, WARM_UP_PEOPLE, seed=1)
    before, calls = workers_now(soak_bot), ccc.calls

    urls = crowd(user, slack, ccc, SOAK_PEOPLE, seed=2)
    time.sleep(SECOND_REPLY_WAIT)
    after = workers_now(soak_bot)

    answers = {url: len(slack.replies_to(url)) for url in urls}
    print(f"\nsoak: {len(urls)} requests at {CONCURRENCY} at once, {sum(answers.values())} replies, "
          f"{ccc.calls - calls} CCC calls; workers before {before}, after {after}")
    assert len(set(urls)) == len(urls) > SOAK_PEOPLE
    assert sum(answers.values()) == len(urls) and set(answers.values()) == {1}
    assert set(after) == set(before), "a worker died and was replaced"
    for pid, (threads, rss) in after.items():
        assert threads <= MAX_THREADS, (pid, threads)
        assert rss - before[pid][1] < RSS_GROWTH_MIB, (pid, before[pid][1], rss)
    log = soak_bot.log()
    assert "Traceback" not in log and "kind=bug" not in log
