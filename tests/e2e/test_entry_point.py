"""`python -m bot` as operators run it: the console, start-up checks, and which mode each setting picks."""

from __future__ import annotations

import subprocess
import sys

from bot.sandbox import CccServer
from harness.process import BotProcess, clean_env, free_port, workdir
from harness.slack import SlackClient, SlackServer
from tests.e2e.conftest import SIGNING_SECRET, bot_env


def run_bot(*args: str, env: dict[str, str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=workdir(env), env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def test_console_with_no_credentials_shows_the_sample_instance_and_says_so() -> None:
    result = run_bot("console", "0833 inbound", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert "built-in sample instance" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("94 numbers in ccc-test · matching 0833 · inbound")
    assert lines[1] == "Showing 1-10 of 94 · page 1 of 10"
    shown = [line.split()[1] for line in lines if line.strip()[:1].isdigit() and ". " in line]
    assert len(shown) == 10 and all("0833" in number for number in shown)


def test_console_summary_counts_the_sample_instance() -> None:
    result = run_bot("console", "summary 0833 inbound", env=clean_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Summary of 94 numbers in ccc-test · matching 0833 · inbound"
    assert lines[1].startswith("Usage: Inbound 94") and lines[2].startswith("State: active ")
    assert "Needs attention:" in lines and any(line.startswith("  In no skill group: ") for line in lines)


def test_console_piped_into_a_reader_that_stops_early_exits_quietly() -> None:
    """`python -m bot console … | head -1`: the pipe closes before the bot writes; no traceback."""
    env = clean_env()
    process = subprocess.Popen([sys.executable, "-m", "bot", "console", "summary 0833"], cwd=workdir(env), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the bot has started, let alone written
    errors = process.stderr.read()
    assert process.wait(timeout=60) == 0 and "Traceback" not in errors, errors


def test_console_names_an_unknown_word_and_fails() -> None:
    result = run_bot("console", "0833 inbond", env=clean_env())
    assert result.returncode == 1
    assert "`inbond`" in result.stdout and "Did you mean `inbound`?" in result.stdout


def test_interactive_console_pages_with_next_and_prev() -> None:
    result = run_bot("console", env=clean_env(), stdin="0833\nn\n\np\nq\n")
    assert result.returncode == 0, result.stderr
    pages = [line for line in result.stdout.splitlines() if "Showing" in line]
    assert [p.split(" · ")[1] for p in pages] == ["page 1 of 19", "page 2 of 19", "page 3 of 19", "page 2 of 19"]


def test_a_malformed_setting_stops_start_up_with_one_line_naming_it() -> None:
    result = run_bot(env=clean_env(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", PORT="eighty"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["numbers: PORT: 'eighty' must be a whole number from 1 to 65535"]


def test_slack_mode_without_an_instance_stops_start_up() -> None:
    result = run_bot(env=clean_env(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s"))
    assert result.returncode == 2 and result.stderr.startswith("numbers: CCC_INSTANCE_ID: not set")


def test_http_forces_http_mode_and_takes_nothing_after_it() -> None:
    result = run_bot("http", env=clean_env(CCC_SANDBOX="1"))  # no Slack settings: python -m bot alone would be the console
    assert result.returncode == 2 and result.stderr.splitlines() == [
        "numbers: SLACK_BOT_TOKEN: not set; HTTP mode needs the bot token (xoxb-...) from OAuth & Permissions"]
    result = run_bot("http", "now", env=clean_env(CCC_SANDBOX="1"))
    assert result.returncode == 2 and result.stderr.startswith("numbers: unknown argument 'now'; usage: python -m bot [")


def test_app_token_selects_socket_mode(ccc: CccServer, slack: SlackServer) -> None:
    """The app token goes to apps.connections.open, and a rejected one stops start-up (test_socket_mode.py: accepted)."""
    result = run_bot(env=bot_env(ccc, slack, SLACK_APP_TOKEN="xapp-1-bad-e2e"), timeout=30)
    assert result.returncode == 2
    assert "numbers: SLACK_APP_TOKEN: Slack did not accept it for Socket Mode: invalid_auth" in result.stderr
    assert ("apps.connections.open", "Bearer xapp-1-bad-e2e") in slack.api_calls


def test_http_mode_on_the_sandbox(slack: SlackServer, tmp_path) -> None:  # noqa: ANN001
    env = clean_env(SLACK_BOT_TOKEN="xoxb-sandbox", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                    SLACK_API_URL=f"{slack.base_url}/api/", PORT=str(free_port()), CCC_SANDBOX="1", WEB_CONCURRENCY="1")
    process = BotProcess(env, tmp_path / "bot.log").wait_until_ready()
    try:
        reply = SlackClient(process.url, SIGNING_SECRET, slack).run("0833 inbound instance:ccc-demo")
        assert "in `ccc-demo`" in reply.text
    finally:
        process.stop()


def test_console_help_lists_every_filter() -> None:
    result = run_bot("console", env=clean_env(), stdin="help\nprovince:四川 group:VIP\nq\n")
    assert result.returncode == 0, result.stderr
    assert all(word in result.stdout for word in ("province:", "city:", "provider:", "agent:", "tag:", "group:", "flow:"))
    assert "province 四川 · group VIP" in result.stdout
