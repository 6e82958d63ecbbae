"""A clean stop, in HTTP mode (the Procfile's command) and Socket Mode: the first SIGTERM or Ctrl-C drains for a bounded
time, a summary or export cut off by it is told to run again, and a second signal exits at once."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.rig import procfile_command
from bot.formatters import ACTION_EXPORT
from bot.sandbox import CccServer
from bot.stopping import CUT_OFF_REPLY_SECONDS, DRAIN_SECONDS
from harness.process import BotProcess
from harness.slack import SlackClient, SlackServer
from harness.socket_mode import SocketModeServer
from tests.e2e.conftest import SIGNING_SECRET, bot_env
from tests.e2e.test_process import PLATFORM_GRACE
from tests.e2e.test_socket_mode import socket_mode, start_socket_bot  # noqa: F401 (socket_mode is a fixture)

# A CCC call that hangs outlasts the drain: one attempt, read timeout far beyond DRAIN_SECONDS
HANGING_CCC = {"CCC_READ_TIMEOUT_SECONDS": "60", "CCC_MAX_ATTEMPTS": "1", "NUMBERS_CACHE_TTL_SECONDS": "0"}
AT_ONCE = 5  # seconds: what "at once" may take on a loaded machine (the drain alone is DRAIN_SECONDS)
RESTARTING = "The bot is restarting"

Send = Callable[[str], str]  # sends `/numbers TEXT` to the bot, once it is acked returns the response_url


def start(mode: str, ccc: CccServer, slack: SlackServer, request: pytest.FixtureRequest, log_path: Path) -> tuple[BotProcess, Send]:
    """The bot in `mode` with a CCC that may hang, and how to send it a command."""
    if mode == "socket-mode":
        server: SocketModeServer = request.getfixturevalue("socket_mode")
        bot = start_socket_bot(ccc, slack, server, log_path, **HANGING_CCC)

        def send_on_socket(text: str) -> str:
            envelope = server.command(text)
            server.wait_for_ack(envelope.envelope_id)
            return envelope.response_url

        return bot, send_on_socket
    bot = BotProcess(bot_env(ccc, slack, **HANGING_CCC), log_path, procfile_command()).wait_until_ready()
    user = SlackClient(bot.url, SIGNING_SECRET, slack)

    def send_signed(text: str) -> str:
        sent = user.command(text)
        assert sent.status == 200, bot.log()
        return sent.response_url

    request.addfinalizer(bot.stop)
    return bot, send_signed


def hang_next_call(ccc: CccServer) -> Callable[[], None]:
    """Make CCC's next call hang; the function returned waits until that call has arrived."""
    ccc.fail_next("hang")
    before = ccc.calls

    def arrived() -> None:
        deadline = time.monotonic() + 10
        while ccc.calls == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ccc.calls > before, "the bot never called CCC"

    return arrived


def stop_signal(bot: BotProcess, name: str) -> None:
    """SIGTERM as a platform sends it (to the process it started); SIGINT as a terminal's Ctrl-C sends it (to the whole
    foreground process group: gunicorn's master and every worker)."""
    pids = [bot.pid] if name == "SIGTERM" else sorted({bot.pid, *bot.workers()})
    for pid in pids:
        os.kill(pid, signal.Signals[name])


def audit_lines(bot: BotProcess) -> list[dict[str, object]]:
    return [json.loads(line[line.index("{"):]) for line in bot.log().splitlines() if '"event":' in line]


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("mode", ["procfile", "socket-mode"])
def test_a_second_stop_signal_exits_at_once(mode: str, name: str, ccc: CccServer, slack: SlackServer,
                                            request: pytest.FixtureRequest, tmp_path: Path) -> None:
    bot, send = start(mode, ccc, slack, request, tmp_path / "bot.log")
    try:
        arrived = hang_next_call(ccc)
        send("0833 inbound")
        arrived()
        stop_signal(bot, name)
        bot.wait_for_log("stopping")  # the first signal drains: the process is still there
        assert bot.process.poll() is None, bot.log()
        stop_signal(bot, name)
        bot.process.wait(AT_ONCE)
    except Exception:
        print(bot.log())
        raise
    finally:
        bot.stop(timeout=1)
    assert "a second stop signal; exiting at once" in bot.log()


@pytest.mark.parametrize(("mode", "task"), [("procfile", "summary"), ("procfile", "export"), ("socket-mode", "summary")])
def test_a_summary_or_export_cut_off_by_the_stop_is_told_to_run_again(mode: str, task: str, ccc: CccServer, slack: SlackServer,
                                                                     request: pytest.FixtureRequest, tmp_path: Path) -> None:
    bot, send = start(mode, ccc, slack, request, tmp_path / "bot.log")
    if task == "summary":
        arrived = hang_next_call(ccc)
        response_url = send("summary 0833")
    else:
        listed = slack.wait_for_reply(send("0833 inbound"))
        arrived = hang_next_call(ccc)
        clicked = SlackClient(bot.url, SIGNING_SECRET, slack).click(listed, ACTION_EXPORT)
        assert clicked.status == 200, bot.log()
        response_url = clicked.response_url
    arrived()
    stopping_at = time.monotonic()
    bot.process.send_signal(signal.SIGTERM)
    try:
        exit_code = bot.process.wait(PLATFORM_GRACE)
    finally:
        bot.stop(timeout=1)

    assert exit_code == 0, bot.log()
    replies = slack.replies_to(response_url)
    assert len(replies) == 1, bot.log()
    assert RESTARTING in replies[0].text and f"your {task}" in replies[0].text
    assert replies[0].received_at - stopping_at < DRAIN_SECONDS + CUT_OFF_REPLY_SECONDS + AT_ONCE, bot.log()
    cut_off = [line for line in audit_lines(bot) if line["outcome"] == "cut-off"]
    assert [(line["event"], line["filters"]["pattern"]) for line in cut_off] == [(task, "0833")], bot.log()
