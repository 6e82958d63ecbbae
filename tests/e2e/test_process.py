"""Stopping the HTTP bot: on SIGTERM, a command already acked still gets its reply before the process exits 0."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.rig import procfile_command
from bot.sandbox import CccServer
from harness.process import BOT_COMMAND, BotProcess
from harness.slack import SlackClient, SlackServer
from tests.e2e.conftest import SIGNING_SECRET, bot_env
from tests.e2e.test_slack_flow import matching

# What Heroku and Kubernetes wait after SIGTERM before they kill; gunicorn's graceful_timeout is the same
PLATFORM_GRACE = 30


@pytest.mark.parametrize("argv", [procfile_command(), BOT_COMMAND], ids=["procfile", "python-m-bot"])
def test_sigterm_lets_an_acked_command_reply_before_exit(argv: tuple[str, ...], ccc: CccServer, slack: SlackServer,
                                                       tmp_path: Path) -> None:
    bot = BotProcess(bot_env(ccc, slack), tmp_path / "bot.log", argv).wait_until_ready()
    ccc.latency = 2  # the lookup is still running when SIGTERM comes
    try:
        sent = SlackClient(bot.url, SIGNING_SECRET, slack).command("0833 inbound")
        assert sent.status == 200
    finally:
        stopping_at = time.monotonic()
        exit_code = bot.stop(timeout=PLATFORM_GRACE)

    assert exit_code == 0, bot.log()
    replies = slack.replies_to(sent.response_url)
    assert len(replies) == 1, bot.log()
    assert replies[0].received_at > stopping_at
    assert replies[0].numbers() == matching(ccc, "0833", "Inbound")[:10]
