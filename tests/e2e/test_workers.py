"""The bot keeps no session: with two gunicorn workers, a click works on a process that never saw the command."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from bot.sandbox import CccServer
from harness.process import BotProcess
from harness.slack import SlackClient
from tests.e2e.test_slack_flow import matching


def served_by(bot: BotProcess, timeout: float = 5, **wanted: Any) -> int:
    """The process ID on the last audit line of the bot whose fields include `wanted`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [entry["pid"] for entry in audit_lines(bot.log()) if wanted.items() <= entry.items()]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no audit line with {wanted}:\n{bot.log()[-2000:]}")


def audit_lines(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith('{"ts"')]


def test_a_click_is_served_by_a_worker_that_never_saw_the_command(bot: BotProcess, user: SlackClient, ccc: CccServer) -> None:
    workers = bot.workers()
    assert len(workers) == 2 and bot.pid not in workers
    reply = user.run("0833 outbound page 2")
    commanded = served_by(bot, event="command", text="0833 outbound page 2")
    assert commanded in workers

    os.kill(commanded, signal.SIGSTOP)  # only the other worker can take the click now
    try:
        # at most 10 s for the ack and 10 s for the reply: well inside gunicorn's 30 s before it replaces a silent worker
        after = user.press(reply, "numbers_next", reply_timeout=10)
    finally:
        os.kill(commanded, signal.SIGCONT)

    clicked = served_by(bot, event="page", page=3, filters={"pattern": "0833", "usage": "Outbound", "active": None})
    assert clicked in workers and clicked != commanded
    assert after.numbers() == matching(ccc, "0833", "Outbound")[20:30]
    assert after.body.get("replace_original") is True
