"""The end-to-end rig: a local CCC-compatible server, a local Slack, and the bot as a real HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, CccServer, sample_instances
from harness.process import BotProcess, clean_env, free_port
from harness.slack import SlackClient, SlackServer
from tests.conftest import assert_no_handler_errors

SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-e2e-0000000000-secret-bot-token"
ALICE, BOB = "U0ALICE", "U0BOB"


@pytest.fixture(scope="session")
def ccc() -> Iterator[CccServer]:
    server = CccServer(sample_instances()).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "ccc" in request.fixturenames:
        server = request.getfixturevalue("ccc")
        server.clear_faults()
        server.latency = 0.0
        assert_no_handler_errors(server)
    if "slack" in request.fixturenames:
        request.getfixturevalue("slack").clear_faults()


@pytest.fixture(scope="session")
def slack() -> Iterator[SlackServer]:
    server = SlackServer().start()
    yield server
    server.stop()


def bot_env(ccc: CccServer, slack: SlackServer, **overrides: str) -> dict[str, str]:
    settings = dict(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=f"{slack.base_url}/api/",
        PORT=str(free_port()), CCC_ENDPOINT=ccc.endpoint, CCC_PROTOCOL="http",
        CCC_INSTANCE_ID="ccc-test", CCC_INSTANCE_IDS="ccc-test,ccc-demo",
        ALIBABA_CLOUD_ACCESS_KEY_ID=SANDBOX_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SANDBOX_ACCESS_KEY_SECRET,
        CCC_READ_TIMEOUT_SECONDS="3", WEB_CONCURRENCY="2", LOG_LEVEL="INFO",
    )
    return clean_env(**{**settings, **overrides})


def running_bot(env: dict[str, str], directory: Path) -> Iterator[BotProcess]:
    """A bot process with `env`, logging to `directory`/bot.log, stopped when the generator is closed."""
    process = BotProcess(env, directory / "bot.log").wait_until_ready()
    yield process
    process.stop()


def alice_only_bot(ccc: CccServer, slack: SlackServer, directory: Path) -> Iterator[BotProcess]:
    """A bot only ALICE may use, with one worker, so its log holds every audit line and its cache every page."""
    yield from running_bot(bot_env(ccc, slack, NUMBERS_ALLOWED_USERS=ALICE, WEB_CONCURRENCY="1"), directory)


@pytest.fixture(scope="session")
def bot(ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    process = BotProcess(bot_env(ccc, slack), tmp_path_factory.mktemp("bot") / "bot.log").wait_until_ready()
    yield process
    process.stop()


@pytest.fixture()
def user(bot: BotProcess, slack: SlackServer) -> SlackClient:
    return SlackClient(bot.url, SIGNING_SECRET, slack)
