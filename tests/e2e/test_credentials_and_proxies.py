"""Where the bot finds Alibaba Cloud credentials, which CCC endpoint it calls, and which calls go through a proxy.

alibabacloud_credentials reads its variables once, at import, so every case here is a fresh `python -m bot`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, CccServer
from harness.process import BotProcess, clean_env
from harness.proxy import METADATA_HOST, CountingProxy, EcsRole
from harness.slack import SlackClient, SlackServer
from tests.e2e.conftest import SIGNING_SECRET, bot_env
from tests.e2e.test_entry_point import run_bot

SHANGHAI = "ccc.cn-shanghai.aliyuncs.com"  # what the SDK makes of the default CCC_REGION_ID
ROLE = EcsRole("numbers-bot", SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET)
SAMPLE_LINE = "built-in sample instance"
NOT_ECS = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED",)


@pytest.fixture()
def proxy(ccc: CccServer) -> Iterator[CountingProxy]:
    """A proxy that carries plain-HTTP calls for CCC in Shanghai to the local CCC server, and answers as the metadata
    service of an ECS instance with the RAM role ROLE."""
    server = CountingProxy(routes={SHANGHAI: ccc.endpoint}, role=ROLE).start()
    yield server
    server.stop()


def on_ecs(*drop: str, **settings: str) -> dict[str, str]:
    """clean_env with `settings`, without the variables named in `drop` (by default the one that skips the ECS probe)."""
    env = clean_env(**settings)
    for name in drop or NOT_ECS:
        env.pop(name, None)
    return env


def shown_numbers(stdout: str) -> list[str]:
    return [line.split()[1] for line in stdout.splitlines() if line.strip()[:1].isdigit() and ". " in line]


# --- credentials as the SDK's default chain sees them ---------------------------------------------


def test_console_on_an_ecs_host_with_a_ram_role_reads_real_ccc(proxy: CountingProxy) -> None:
    env = on_ecs(HTTP_PROXY=proxy.url, CCC_PROTOCOL="http", CCC_INSTANCE_ID="ccc-test")
    result = run_bot("console", "0833 inbound", env=env)
    assert result.returncode == 0, result.stderr
    assert SAMPLE_LINE not in result.stderr
    assert result.stdout.startswith("94 numbers in ccc-test · matching 0833 · inbound")
    assert proxy.carried[METADATA_HOST] >= 2 and proxy.carried[SHANGHAI] == 1  # the role's name, then its credentials


def test_console_on_an_ecs_host_without_a_ram_role_shows_the_sample_instance(proxy: CountingProxy) -> None:
    proxy.role = None
    result = run_bot("console", "0833", env=on_ecs(HTTP_PROXY=proxy.url))
    assert result.returncode == 0, result.stderr
    assert SAMPLE_LINE in result.stderr and "the ECS RAM role" in result.stderr
    assert proxy.carried[METADATA_HOST] >= 1 and proxy.carried[SHANGHAI] == 0


def test_a_metadata_service_that_does_not_answer_costs_seconds_not_minutes(proxy: CountingProxy) -> None:
    proxy.metadata_delay = 30  # the SDK gives up on each metadata call after 1 s
    result = run_bot("console", "0833", env=on_ecs(HTTP_PROXY=proxy.url), timeout=20)
    assert result.returncode == 0, result.stderr
    assert SAMPLE_LINE in result.stderr and "the ECS RAM role" in result.stderr


def test_no_credentials_names_every_source_the_chain_tried() -> None:
    result = run_bot("console", "0833", env=clean_env())
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if SAMPLE_LINE in line)
    for source in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "~/.aliyun/config.json", "~/.alibabacloud/credentials.ini"):
        assert source in line
    assert "ECS" not in line  # ALIBABA_CLOUD_ECS_METADATA_DISABLED=true takes the probe out of the chain


def test_a_role_arn_alone_is_not_credentials() -> None:
    """ALIBABA_CLOUD_ROLE_ARN is one of the three variables of an OIDC (RRSA) role; alone it gives nothing."""
    result = run_bot("console", "0833", env=clean_env(ALIBABA_CLOUD_ROLE_ARN="acs:ram::1234567890:role/numbers"))
    assert result.returncode == 0, result.stderr
    assert SAMPLE_LINE in result.stderr and len(shown_numbers(result.stdout)) == 10


def test_an_aliyun_cli_config_without_a_usable_profile_is_not_credentials() -> None:
    env = clean_env()
    config = Path(env["HOME"]) / ".aliyun" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"current": "default", "profiles": []}))
    result = run_bot("console", "0833", env=env)
    assert result.returncode == 0, result.stderr
    assert SAMPLE_LINE in result.stderr and len(shown_numbers(result.stdout)) == 10


def test_an_aliyun_cli_profile_is_credentials(proxy: CountingProxy) -> None:
    env = clean_env(HTTP_PROXY=proxy.url, CCC_PROTOCOL="http", CCC_INSTANCE_ID="ccc-test")
    config = Path(env["HOME"]) / ".aliyun" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"current": "default", "profiles": [{
        "name": "default", "mode": "AK", "access_key_id": SANDBOX_ACCESS_KEY_ID, "access_key_secret": SANDBOX_ACCESS_KEY_SECRET}]}))
    result = run_bot("console", "0833", env=env)
    assert result.returncode == 0, result.stderr
    assert SAMPLE_LINE not in result.stderr and proxy.carried[SHANGHAI] == 1


# --- endpoints and proxies ------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "endpoint"), [("cn-shanghai", SHANGHAI), ("ap-southeast-1", "ccc.aliyuncs.com")])
def test_real_ccc_is_reached_through_the_configured_https_proxy(ccc: CccServer, region: str, endpoint: str) -> None:
    proxy = CountingProxy().start()
    try:
        env = clean_env(HTTPS_PROXY=proxy.url, NO_PROXY="127.0.0.1,localhost", CCC_REGION_ID=region, CCC_INSTANCE_ID="ccc-x",
                        CCC_MAX_ATTEMPTS="1", ALIBABA_CLOUD_ACCESS_KEY_ID="id", ALIBABA_CLOUD_ACCESS_KEY_SECRET="secret")
        result = run_bot("console", "0833", env=env)
    finally:
        proxy.stop()
    assert result.returncode == 1 and SAMPLE_LINE not in result.stderr
    assert dict(proxy.carried) == {f"{endpoint}:443": 1}  # the proxy could not connect: the bot says so, once


def test_console_on_the_sample_instance_never_sends_loopback_through_a_proxy(proxy: CountingProxy) -> None:
    env = clean_env(HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url, NO_PROXY="127.0.0.1,localhost")
    result = run_bot("console", "0833 inbound", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("94 numbers in ccc-test")
    assert not proxy.carried


def test_ccc_sandbox_in_slack_mode_never_sends_loopback_ccc_calls_through_a_proxy(
        ccc: CccServer, slack: SlackServer, proxy: CountingProxy, tmp_path: Path) -> None:
    env = bot_env(ccc, slack, CCC_SANDBOX="1", CCC_ENDPOINT="", CCC_INSTANCE_ID="", CCC_INSTANCE_IDS="", WEB_CONCURRENCY="1",
                  HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url, NO_PROXY="127.0.0.1,localhost")
    bot = BotProcess(env, tmp_path / "bot.log").wait_until_ready()
    try:
        reply = SlackClient(bot.url, SIGNING_SECRET, slack).run("0833 inbound")
    finally:
        bot.stop()
    assert "94 numbers" in reply.text, bot.log()
    slack_host = slack.base_url.split("://", 1)[1]
    assert set(proxy.carried) <= {slack_host}, proxy.carried  # slack_sdk's own choice; never the CCC sandbox


def test_start_up_logs_the_endpoint_the_sdk_uses(ccc: CccServer, slack: SlackServer, tmp_path: Path) -> None:
    env = bot_env(ccc, slack, CCC_ENDPOINT="", CCC_PROTOCOL="", CCC_REGION_ID="ap-southeast-1", WEB_CONCURRENCY="1")
    bot = BotProcess(env, tmp_path / "bot.log").wait_until_ready()
    try:
        line = bot.wait_for_log("CCC endpoint")
        credentials = bot.wait_for_log("Alibaba Cloud credentials")
    finally:
        bot.stop()
    assert "https://ccc.aliyuncs.com" in line and "ap-southeast-1" in line
    assert "default/env" in credentials and SANDBOX_ACCESS_KEY_SECRET not in bot.log()


def test_slack_mode_without_credentials_warns_naming_the_sources_tried(ccc: CccServer, slack: SlackServer, tmp_path: Path) -> None:
    env = bot_env(ccc, slack, WEB_CONCURRENCY="1")
    del env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
    bot = BotProcess(env, tmp_path / "bot.log").wait_until_ready()
    try:
        line = bot.wait_for_log("no Alibaba Cloud credentials")
        endpoint = bot.wait_for_log("CCC endpoint")
    finally:
        bot.stop()
    assert "WARNING" in line and "ALIBABA_CLOUD_ACCESS_KEY_ID" in line and "~/.aliyun/config.json" in line
    assert f"http://{ccc.endpoint}" in endpoint
