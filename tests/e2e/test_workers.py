"""The bot keeps no session: with two gunicorn workers, a click works on a process that never saw the command."""

from __future__ import annotations

import os
import re
import signal
import time

from bot.sandbox import CccServer
from harness.process import BotProcess
from harness.slack import SlackClient
from tests.e2e.test_slack_flow import matching


def served_by(bot: BotProcess, marker: str, timeout: float = 5) -> int:
    """The process ID on the bot's log line that contains `marker`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in bot.log().splitlines():
            if marker in line:
                return int(re.search(r"\[(\d+)\]", line).group(1))
        time.sleep(0.05)
    raise AssertionError(f"no log line with {marker!r}:\n{bot.log()[-2000:]}")


def test_a_click_is_served_by_a_worker_that_never_saw_the_command(bot: BotProcess, user: SlackClient, ccc: CccServer) -> None:
    workers = bot.workers()
    assert len(workers) == 2 and bot.pid not in workers
    reply = user.run("0833 outbound page 2")
    commanded = served_by(bot, "text='0833 outbound page 2'")
    assert commanded in workers

    os.kill(commanded, signal.SIGSTOP)  # only the other worker can take the click now
    try:
        # at most 10 s for the ack and 10 s for the reply: well inside gunicorn's 30 s before it replaces a silent worker
        after = user.press(reply, "numbers_next", reply_timeout=10)
    finally:
        os.kill(commanded, signal.SIGCONT)

    clicked = served_by(bot, "action=numbers_next page=3 query='matching 0833 · outbound'")
    assert clicked in workers and clicked != commanded
    assert after.numbers() == matching(ccc, "0833", "Outbound")[20:30]
    assert after.body.get("replace_original") is True
