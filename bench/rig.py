"""The stand-ins on loopback (CCC with a large instance, Slack) and the bots under test, each a child process."""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alibabacloud_ccc20200701.client import Client as CccClient
from darabonba.runtime import RuntimeOptions

from bot.config import load_settings
from bot.filters import Query
from bot.sandbox import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, CccServer
from bot.sandbox.data import make_numbers
from bot.service import build_client, list_request
from harness.process import ROOT, BotProcess, clean_env, free_port
from harness.slack import SlackClient, SlackServer

INSTANCE = "ccc-bench"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"


@dataclass(frozen=True)
class Target:
    """A way to run a /numbers bot: its name in the report, its command line, and how far it can page."""

    name: str
    argv: tuple[str, ...]
    last_page: int = 1000  # 10,000 reachable numbers at 10 a page


def procfile_command() -> tuple[str, ...]:
    """The Procfile's `web:` command, run with this interpreter (`python -m bot http`, or a program run as `-m program`)."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    program, *args = shlex.split(line.removeprefix("web:"))
    return (sys.executable, *args) if program == "python" else (sys.executable, "-m", program, *args)


TARGETS = {
    "gunicorn": Target("Procfile (gunicorn)", procfile_command()),
    "bot": Target("python -m bot", (sys.executable, "-m", "bot")),
    "naive": Target("naive bot", (sys.executable, "-m", "bench.naive"), last_page=100),
}


class Rig:
    """One CCC stand-in with `size` numbers and one Slack stand-in, shared by every target in a run."""

    def __init__(self, size: int, workers: int | None, settings: dict[str, str] | None = None) -> None:
        self.ccc = CccServer({INSTANCE: make_numbers(INSTANCE, size, seed=833)}).start()
        self.slack = SlackServer().start()
        self.workers = workers
        self.settings = settings or {}
        self._logs = Path(tempfile.mkdtemp(prefix="numbers-bench-"))

    def close(self) -> None:
        self.ccc.stop()
        self.slack.stop()
        shutil.rmtree(self._logs, ignore_errors=True)

    def env(self, port: int) -> dict[str, str]:
        return clean_env(
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=f"{self.slack.base_url}/api/",
            PORT=str(port), CCC_ENDPOINT=self.ccc.endpoint, CCC_PROTOCOL="http", CCC_INSTANCE_ID=INSTANCE,
            ALIBABA_CLOUD_ACCESS_KEY_ID=SANDBOX_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SANDBOX_ACCESS_KEY_SECRET,
            LOG_LEVEL="WARNING", **({"WEB_CONCURRENCY": str(self.workers)} if self.workers else {}), **self.settings,
        )

    @contextmanager
    def running(self, target: Target) -> Iterator[tuple[BotProcess, SlackClient]]:
        """A fresh process of `target`, and a client that sends it signed requests; stopped afterwards."""
        port = free_port()
        process = BotProcess(self.env(port), self._logs / f"{port}.log", argv=target.argv).wait_until_ready()  # stops it if not
        try:
            yield process, SlackClient(process.url, SIGNING_SECRET, self.slack, timeout=120)
        finally:
            process.stop()

    def raw_client(self) -> CccClient:
        """The SDK client a script would use: the same settings as the bot's, built once."""
        settings = load_settings({"CCC_ENDPOINT": self.ccc.endpoint, "CCC_PROTOCOL": "http"}, dotenv=False)
        return build_client(settings, (SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET))


def timed_raw_call(client: CccClient, query: Query, api_page: int) -> float:
    """Seconds for one ListPhoneNumbers call through the SDK, response parsed into the SDK's models."""
    started = time.monotonic()
    client.list_phone_numbers_with_options(list_request(query, api_page), RuntimeOptions())
    return time.monotonic() - started
