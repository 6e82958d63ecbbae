"""Start-up as an operator sees it, for the Procfile's command and for `python -m bot`: a bad setting stops both with the
same one line, Slack out of reach is told apart from a refused token, a clean start logs one INFO line saying where the
bot listens, and a health check logs nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests

from bench.rig import procfile_command
from bot.sandbox import CccServer
from harness.process import BOT_COMMAND, ROOT, BotProcess, clean_env, free_port, workdir
from harness.slack import SlackServer
from tests.e2e.conftest import bot_env

PROCFILE = procfile_command()
BOTH_COMMANDS = pytest.mark.parametrize("argv", [PROCFILE, BOT_COMMAND], ids=["procfile", "python-m-bot"])
HTTP_MODE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "a-signing-secret", "CCC_INSTANCE_ID": "ccc-test"}


def start(argv: Sequence[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `argv` until it exits by itself; TimeoutExpired means it kept going (e.g. gunicorn rebooting workers)."""
    return subprocess.run(list(argv), cwd=workdir(env), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize(("name", "settings"), [
    ("CCC_INSTANCE_ID", {**HTTP_MODE, "CCC_INSTANCE_ID": ""}),
    ("SLACK_SIGNING_SECRET", {**HTTP_MODE, "SLACK_SIGNING_SECRET": ""}),
    ("SLACK_BOT_TOKEN", {**HTTP_MODE, "SLACK_BOT_TOKEN": ""}),
    ("PORT", {**HTTP_MODE, "PORT": "70000"}),
    ("WEB_CONCURRENCY", {**HTTP_MODE, "WEB_CONCURRENCY": "two"}),
    ("GUNICORN_THREADS", {**HTTP_MODE, "GUNICORN_THREADS": "0"}),
    ("LOG_LEVEL", {**HTTP_MODE, "LOG_LEVEL": "verbose"}),
])
def test_a_bad_setting_stops_the_procfile_and_python_m_bot_with_the_same_one_line(name: str, settings: dict[str, str]) -> None:
    env = clean_env(**{"PORT": str(free_port()), **settings})
    procfile, python_m_bot = start(PROCFILE, env), start(BOT_COMMAND, env)
    assert procfile.stderr.splitlines()[:1] == python_m_bot.stderr.splitlines()[:1], (procfile.stderr, python_m_bot.stderr)
    for result in (procfile, python_m_bot):
        assert result.returncode == 2, result.stderr
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr  # no worker booted, no traceback
        assert result.stderr.startswith(f"numbers: {name}: "), result.stderr


def test_the_procfile_with_a_dotenv_copied_from_the_example_says_what_to_fill_in() -> None:
    env = clean_env(PORT=str(free_port()))
    shutil.copy(ROOT / ".env.example", Path(workdir(env)) / ".env")
    result = start(PROCFILE, env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["numbers: SLACK_BOT_TOKEN: not set; HTTP mode needs the bot token (xoxb-...) "
                                          "from OAuth & Permissions"]


def test_gunicorns_own_command_line_with_the_config_module_stops_with_the_same_one_line() -> None:
    """`gunicorn --config python:bot.gunicorn_config bot.wsgi:application` checks the settings in gunicorn's master."""
    gunicorn = (sys.executable, "-m", "gunicorn", "--config", "python:bot.gunicorn_config", "bot.wsgi:application")
    for name, settings in [("LOG_LEVEL", {**HTTP_MODE, "LOG_LEVEL": "verbose"}), ("SLACK_BOT_TOKEN", {"CCC_SANDBOX": "1"})]:
        result = start(gunicorn, clean_env(PORT=str(free_port()), **settings))
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith(f"numbers: {name}: ")


@BOTH_COMMANDS
@pytest.mark.parametrize("how", ["nobody listens", "it hangs up"])
def test_slack_out_of_reach_at_start_up_says_so_once_and_stops(argv: tuple[str, ...], how: str, ccc: CccServer,
                                                               slack: SlackServer) -> None:
    url, reason = f"http://127.0.0.1:{free_port()}/api/", "Connection refused"
    if how == "it hangs up":
        url, reason = f"{slack.base_url}/api/", "Remote end closed connection without response"
        slack.drop_api("auth.test")
    result = start(argv, bot_env(ccc, slack, SLACK_API_URL=url, WEB_CONCURRENCY="1"))
    assert result.returncode != 0
    said = [line for line in result.stderr.splitlines() if line.startswith("numbers: ")]
    assert said == [f"numbers: could not reach Slack at {url}: {reason}"], result.stderr
    assert "Traceback" not in result.stderr and "did not accept" not in result.stderr


@BOTH_COMMANDS
def test_slack_answering_an_http_error_at_start_up_is_not_blamed_on_the_token(argv: tuple[str, ...], ccc: CccServer,
                                                                             slack: SlackServer) -> None:
    slack.break_api("auth.test", 503)
    result = start(argv, bot_env(ccc, slack, WEB_CONCURRENCY="1"))
    assert result.returncode != 0
    said = [line for line in result.stderr.splitlines() if line.startswith("numbers: ")]
    assert said == [f"numbers: Slack at {slack.base_url}/api/ answered HTTP 503; try again in a minute "
                    "(https://status.slack.com)"], result.stderr
    assert "Traceback" not in result.stderr and "SLACK_BOT_TOKEN" not in result.stderr


@BOTH_COMMANDS
def test_a_refused_bot_token_keeps_its_line_and_stops(argv: tuple[str, ...], ccc: CccServer, slack: SlackServer) -> None:
    result = start(argv, bot_env(ccc, slack, SLACK_BOT_TOKEN="xoxb-bad", WEB_CONCURRENCY="1"))
    assert result.returncode != 0
    said = [line for line in result.stderr.splitlines() if line.startswith("numbers: ")]
    assert len(said) == 1 and said[0].startswith(f"numbers: SLACK_BOT_TOKEN: Slack at {slack.base_url}/api/ did not accept it: ")
    assert "invalid_auth" in said[0] and "Traceback" not in result.stderr


@BOTH_COMMANDS
def test_a_clean_start_logs_one_info_line_with_where_and_how_and_a_health_check_logs_nothing(
        argv: tuple[str, ...], ccc: CccServer, slack: SlackServer, tmp_path: Path) -> None:
    env = bot_env(ccc, slack, WEB_CONCURRENCY="1")
    bot = BotProcess(env, tmp_path / "bot.log", argv).wait_until_ready()
    try:
        started = bot.log()
        for _ in range(3):
            assert requests.head(f"{bot.url}/healthz", timeout=5).status_code == 200
            assert requests.get(f"{bot.url}/healthz", timeout=5).text == "ok"
        time.sleep(0.5)
        assert bot.log() == started
    finally:
        bot.stop()

    lines = started.splitlines()
    where = [line for line in lines if env["PORT"] in line]
    assert len(where) == 1 and " INFO " in where[0], started
    assert f"http://0.0.0.0:{env['PORT']}/slack/events" in where[0] and "HTTP mode" in where[0]
    assert not [line for line in lines if "WARNING" in line or "ERROR" in line], started


@BOTH_COMMANDS
def test_a_blank_web_concurrency_in_dotenv_means_the_default(argv: tuple[str, ...], ccc: CccServer, slack: SlackServer,
                                                             tmp_path: Path) -> None:
    """gunicorn parses WEB_CONCURRENCY from the environment when it is imported, and .env has been read by then."""
    env = bot_env(ccc, slack)
    del env["WEB_CONCURRENCY"]
    (Path(workdir(env)) / ".env").write_text("WEB_CONCURRENCY=\n")
    bot = BotProcess(env, tmp_path / "bot.log", argv).wait_until_ready()
    try:
        assert bot.workers() != [bot.pid] and len(bot.workers()) == 1
    finally:
        bot.stop()
