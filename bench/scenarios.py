"""The scenarios: each drives one running bot like Slack does and returns its figures."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from bench.rig import INSTANCE, Rig, timed_raw_call
from bench.stats import summary
from bot.config import Settings
from bot.filters import Query, parse_command
from bot.formatters import ACTION_NEXT
from bot.page import rows_window
from bot.service import API_PAGE_SIZE
from harness.process import BotProcess, peak_rss_mib
from harness.slack import EVENTS_PATH, Reply, Sent, Signed, SlackClient

ROWS_PER_PAGE = Settings.rows_per_page  # the bot's default; the rig sets no other
PATTERNS = ("0833", "028", "010", "021", "0571", "0755", "025", "400")
USAGES = ("", "inbound", "outbound", "bidirection")
STATES = ("", "active", "inactive")
WALKS = ("inbound", "outbound", "active", "bidirection", "inactive")
WARM_UP = "page 2"  # unfiltered, API page 1: a key no scenario uses
SLACK_ACK_DEADLINE = 3.0
ACK_WAIT = 30.0  # how long the burst waits for a late ack; Slack itself shows the user an error after 3 s


def distinct_commands() -> list[str]:
    """Commands that each need a different API page: every filter combination, then pages 11, 21, ... of everything."""
    combos = [" ".join(word for word in words if word) for words in itertools.product(PATTERNS, USAGES, STATES)]
    return combos + [f"page {page}" for page in range(11, 1000, 10)]


def api_call_for(text: str) -> tuple[Query, int]:
    """The query and the API page the bot fetches for command `text`."""
    query = parse_command(text, default_instance=INSTANCE, allowed_instances=(INSTANCE,), max_page=1000)
    assert isinstance(query, Query)
    return query, rows_window(query.page, ROWS_PER_PAGE, API_PAGE_SIZE)[2][0]


def command(user: SlackClient, text: str, timeout: float = 60) -> tuple[Reply, float]:
    """Send a slash command; its reply and the seconds from sending it to the reply reaching the response_url."""
    sent = user.command(text)
    reply = user.slack.wait_for_reply(sent.response_url, timeout)
    return reply, reply.received_at - sent.sent_at


def click_next(user: SlackClient, reply: Reply, timeout: float = 60) -> tuple[Reply, float]:
    sent = user.click(reply, ACTION_NEXT)
    answer = user.slack.wait_for_reply(sent.response_url, timeout)
    return answer, answer.received_at - sent.sent_at


def warm_up(user: SlackClient, workers: int | None) -> None:
    """Give the workers their first commands and clicks (imports, first connections) before anything is measured."""
    for _ in range(3 * (workers or 1)):
        click_next(user, command(user, WARM_UP)[0])


def overhead(rig: Rig, user: SlackClient, commands: list[str]) -> dict[str, Any]:
    """Cache misses end to end, each right after the same API call made by the raw SDK."""
    client = rig.raw_client()
    timed_raw_call(client, *api_call_for(WARM_UP))
    raw, e2e = [], []
    for text in commands:
        raw.append(timed_raw_call(client, *api_call_for(text)))
        e2e.append(command(user, text)[1])
    return {"raw_sdk": summary(raw), "miss": summary(e2e)}


def cache_hits(rig: Rig, user: SlackClient, repeated: str, runs: int, walks: int) -> dict[str, Any]:
    """The same command again `runs` times, then ten Next clicks through each of `walks` results."""
    command(user, repeated)
    before = rig.ccc.calls
    repeats = [command(user, repeated)[1] for _ in range(runs)]
    repeat_calls = rig.ccc.calls - before
    clicks: list[float] = []
    click_calls = 0
    for text in WALKS[:walks]:
        reply, _ = command(user, text)
        before = rig.ccc.calls
        for _ in range(10):
            if reply.button(ACTION_NEXT) is None:
                break
            reply, seconds = click_next(user, reply)
            clicks.append(seconds)
        click_calls += rig.ccc.calls - before
    return {
        "repeat": {**summary(repeats), "upstream_calls": repeat_calls},
        "next": {**summary(clicks), "upstream_calls": click_calls,
                 "calls_per_10_clicks": round(10 * click_calls / max(1, len(clicks)), 2)},
    }


def memory(rig: Rig, process: BotProcess, user: SlackClient, last_page: int) -> dict[str, Any]:
    """Page through every number with Next (as far as the bot can page), then read each worker's peak RSS."""
    reply, _ = command(user, "")
    before_rss = max(peak_rss_mib(pid) for pid in process.workers())
    before_calls = rig.ccc.calls
    seen = reply.numbers()
    clicks = []
    for _ in range(last_page - 1):
        if reply.button(ACTION_NEXT) is None:
            break
        reply, seconds = click_next(user, reply)
        seen += reply.numbers()
        clicks.append(seconds)
    return {
        "numbers_seen": len(seen), "distinct": len(set(seen)), "in_instance": len(rig.ccc.instances[INSTANCE]),
        "upstream_calls": rig.ccc.calls - before_calls, "click": summary(clicks),
        "rss_before_mib": round(before_rss, 1),
        "peak_rss_mib": round(max(peak_rss_mib(pid) for pid in process.workers()), 1),
    }


def burst(rig: Rig, user: SlackClient, commands: list[str], latency: float) -> dict[str, Any]:
    """All `commands` at once while every CCC call takes `latency` seconds; acks, replies and duplicates.

    Each command is signed beforehand, so the clock measures the bot rather than this process's own work.
    """
    signed = [user.signed_command(text) for text in commands]
    start = threading.Barrier(len(signed), timeout=60)
    rig.ccc.latency, normal_latency = latency, rig.ccc.latency
    before_calls = rig.ccc.calls
    try:
        with ThreadPoolExecutor(len(signed)) as pool:
            sent = list(pool.map(lambda request: _send_at_once(user, request, start), signed))
        deadline = time.monotonic() + 180
        replies = [_reply_or_none(user, s.response_url, deadline) if s.status == 200 else None for s in sent]
        time.sleep(1)  # a second reply to any command would arrive by now
    finally:
        rig.ccc.latency = normal_latency
    answered = [r for r in replies if r is not None]
    first_sent = min(s.sent_at for s in sent)
    return {
        "commands": len(commands),
        "ack": summary([s.ack_seconds for s in sent if s.status == 200]),
        "not_acked": sum(s.status != 200 for s in sent),
        "acked_in_3s": sum(s.status == 200 and s.ack_seconds < SLACK_ACK_DEADLINE for s in sent),
        "answered": len(answered),
        "answered_once": sum(len(user.slack.replies_to(s.response_url)) == 1 for s in sent),
        "last_reply_s": round(max(r.received_at for r in answered) - first_sent, 2) if answered else None,
        "upstream_calls": rig.ccc.calls - before_calls,
    }


def _send_at_once(user: SlackClient, request: Signed, start: threading.Barrier) -> Sent:
    """Wait for every other sender, then connect and send; a refused, reset or timed-out connection is status 0."""
    address = urlsplit(user.bot_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=SLACK_ACK_DEADLINE)
    start.wait()
    started = time.monotonic()
    try:
        connection.connect()
        connection.sock.settimeout(ACK_WAIT)
        connection.request("POST", EVENTS_PATH, request.body, request.headers)
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return Sent(status, "", time.monotonic() - started, request.response_url, started)


def _reply_or_none(user: SlackClient, response_url: str, deadline: float) -> Reply | None:
    try:
        return user.slack.wait_for_reply(response_url, max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        return None
