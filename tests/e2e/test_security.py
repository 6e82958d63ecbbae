"""Access control, masking, the audit trail and secrets, against a bot started with allow lists and known secrets."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from bot.access import mask_number
from bot.sandbox import CccServer, sample_instances
from harness.process import BotProcess
from harness.slack import EVENTS_PATH, Reply, Signed, SlackClient, SlackServer
from tests.e2e.conftest import ALICE, BOB, bot_env

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-e2e-1111-known-bot-token-secret",
    "SLACK_SIGNING_SECRET": "known-signing-secret-5f1d0c9a",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "known-access-key-secret-7Q2w",
}
ACCESS_KEY_ID = "LTAI-e2e-security"
OPS, ELSEWHERE = "C0OPS", "C0ELSEWHERE"


@pytest.fixture(scope="module")
def own_ccc() -> Iterator[CccServer]:
    server = CccServer(sample_instances(), access_keys={ACCESS_KEY_ID: SECRETS["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def guarded(own_ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    env = bot_env(own_ccc, slack, **SECRETS, ALIBABA_CLOUD_ACCESS_KEY_ID=ACCESS_KEY_ID, LOG_LEVEL="DEBUG",
                  NUMBERS_ALLOWED_USERS=f"{ALICE},{BOB.replace('BOB', 'CAROL')}", NUMBERS_ALLOWED_CHANNELS=f"{OPS},D0ALICE",
                  NUMBERS_MASK_SHARED="true", WEB_CONCURRENCY="1")
    process = BotProcess(env, tmp_path_factory.mktemp("guarded") / "bot.log").wait_until_ready()
    yield process
    process.stop()


def client(bot: BotProcess, slack: SlackServer, channel: str = OPS) -> SlackClient:
    user = SlackClient(bot.url, SECRETS["SLACK_SIGNING_SECRET"], slack)
    user.defaults = {**user.defaults, "channel_id": channel}
    return user


def audit_lines(bot: BotProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in bot.log().splitlines() if line.startswith('{"ts"')]


def last_audit(bot: BotProcess, **wanted: Any) -> dict[str, Any]:
    for _ in range(50):
        found = [entry for entry in audit_lines(bot) if wanted.items() <= entry.items()]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no audit line with {wanted}")


def answered_once(slack: SlackServer, reply: Reply) -> bool:
    time.sleep(0.3)
    return len(slack.replies_to(reply.response_url)) == 1


def test_an_allowed_user_in_an_allowed_channel_gets_numbers(guarded: BotProcess, slack: SlackServer) -> None:
    reply = client(guarded, slack).run("0833 inbound", user_id=ALICE)
    assert len(reply.numbers()) == 10 and reply.body["response_type"] == "ephemeral"


def test_a_user_not_on_the_list_is_refused_and_nothing_is_fetched(guarded: BotProcess, slack: SlackServer,
                                                                  own_ccc: CccServer) -> None:
    before = own_ccc.calls
    reply = client(guarded, slack).run("0833", user_id=BOB)
    assert reply.body["response_type"] == "ephemeral" and not reply.numbers()
    assert "NUMBERS_ALLOWED_USERS" in reply.text and BOB in reply.text
    assert answered_once(slack, reply) and own_ccc.calls == before
    assert last_audit(guarded, user=BOB, event="command")["outcome"] == "refused"


def test_a_conversation_not_on_the_list_is_refused(guarded: BotProcess, slack: SlackServer, own_ccc: CccServer) -> None:
    before = own_ccc.calls
    reply = client(guarded, slack, channel=ELSEWHERE).run("0833", user_id=ALICE)
    assert "NUMBERS_ALLOWED_CHANNELS" in reply.text and ELSEWHERE in reply.text and not reply.numbers()
    assert own_ccc.calls == before


def test_a_refused_user_cannot_page_with_someone_elses_buttons(guarded: BotProcess, slack: SlackServer,
                                                               own_ccc: CccServer) -> None:
    user = client(guarded, slack)
    mine = user.run("0833 outbound", user_id=ALICE)
    before = own_ccc.calls
    theirs = user.press(mine, "numbers_next", user_id=BOB)
    assert "NUMBERS_ALLOWED_USERS" in theirs.text and not theirs.numbers()
    assert theirs.body.get("replace_original") is False and own_ccc.calls == before
    assert last_audit(guarded, user=BOB, event="page")["outcome"] == "refused"


def test_shared_numbers_are_masked_and_private_ones_whole(guarded: BotProcess, slack: SlackServer) -> None:
    user = client(guarded, slack)
    private = user.run("0833 bidirection", user_id=ALICE)
    whole = private.numbers()
    shared = user.press(private, "numbers_share", user_id=ALICE)
    assert shared.body["response_type"] == "in_channel"
    assert [len(n) for n in shared.numbers()] == [len(n) for n in whole]
    assert all("****" in n and n[:4] == w[:4] and n[-4:] == w[-4:] for n, w in zip(shared.numbers(), whole, strict=True))
    assert not any(number in shared.text for number in whole)


@pytest.mark.parametrize("digits", [12, 9], ids=["whole-number", "nine-digits"])
@pytest.mark.parametrize("share", ["numbers_share", "numbers_share_summary"])
def test_a_shared_whole_number_gives_a_see_it_yourself_command_that_works(share: str, digits: int, guarded: BotProcess,
                                                                           slack: SlackServer) -> None:
    """The pattern is masked in the channel (from nine digits on); the command under it keeps the digits before the
    mask, and runs."""
    user = client(guarded, slack)
    whole = user.run("0833", user_id=ALICE).numbers()[0][:digits]
    private = user.run(whole, user_id=ALICE)
    if share == "numbers_share_summary":
        private = user.press(private, "numbers_summary", user_id=ALICE)
    shared = user.press(private, share, user_id=ALICE)
    footer = shared.blocks[-1]["elements"][0]["text"]
    visible = mask_number(whole).partition("*")[0]
    assert whole not in shared.text and f"{visible}****" in shared.text
    command = re.search(r"`/numbers ([^`]*)`", footer).group(1)
    assert "*" not in command and command.replace("summary ", "").startswith(visible + " ")
    again = user.run(command, user_id=ALICE)
    assert ":information_source:" not in again.text and f"matching `{visible}`" in again.text, again.text


def test_a_shared_summary_masks_every_number_it_lists(guarded: BotProcess, slack: SlackServer) -> None:
    user = client(guarded, slack)
    private = user.press(user.run("0833", user_id=ALICE), "numbers_summary", user_id=ALICE)
    listed = re.findall(r"\b0833[0-9]{6,}\b", private.text)  # the numbers in its attention lists
    assert listed, "the summary should list numbers that need attention"
    shared = user.press(private, "numbers_share_summary", user_id=ALICE)
    assert shared.body["response_type"] == "in_channel"
    assert not any(number in shared.text for number in listed)
    assert all(mask_number(number) in shared.text for number in listed)


def test_every_lookup_page_and_share_leaves_one_audit_line(guarded: BotProcess, slack: SlackServer) -> None:
    user = client(guarded, slack)
    reply = user.run("0571 active", user_id=ALICE)
    user.press(reply, "numbers_next", user_id=ALICE)
    user.press(reply, "numbers_share", user_id=ALICE)
    user.run("0571 inbond", user_id=ALICE)
    command = last_audit(guarded, event="command", text="0571 active")
    assert command["user"] == ALICE and command["channel"] == OPS and command["instance"] == "ccc-test"
    assert command["filters"] == {"pattern": "0571", "usage": None, "active": True}
    assert command["outcome"] == "ok" and command["results"] > 10 and command["latency_ms"] > 0
    page = last_audit(guarded, event="page", user=ALICE, page=2)
    assert page["filters"] == command["filters"] and page["outcome"] == "ok"
    assert last_audit(guarded, event="share", user=ALICE, page=1)["outcome"] == "ok"
    assert last_audit(guarded, event="command", text="0571 inbond")["outcome"] == "invalid"


def test_a_failed_next_click_is_audited_with_its_code(guarded: BotProcess, slack: SlackServer, own_ccc: CccServer) -> None:
    user = client(guarded, slack)
    listed = user.run("0 active page 10", user_id=ALICE)  # API page 1 of 100 numbers; page 11 needs API page 2
    own_ccc.fail_next("NoPermission")  # not retried: one call, one failure
    failed = user.press(listed, "numbers_next", user_id=ALICE)
    assert ":warning:" in failed.text and failed.body.get("replace_original") is False
    entry = last_audit(guarded, event="page", user=ALICE, page=11)
    assert entry["outcome"] == "error" and entry["code"] == "NoPermission" and entry["request_id"]


def test_a_ccc_failure_is_audited_with_its_code_and_request_id(guarded: BotProcess, slack: SlackServer,
                                                               own_ccc: CccServer) -> None:
    own_ccc.fail_next("NoPermission", times=3)
    client(guarded, slack).run("0755 outbound", user_id=ALICE)
    entry = last_audit(guarded, event="command", text="0755 outbound")
    assert entry["outcome"] == "error" and entry["code"] == "NoPermission" and entry["request_id"]


def refusals(bot: BotProcess) -> list[str]:
    return [line for line in bot.log().splitlines() if "refused a request" in line]


def forged_click(user: SlackClient, user_id: str) -> Signed:
    """A button click as Slack sends it, with a signature made without the signing secret."""
    response_url = user.slack.new_response_url()
    payload = {"type": "block_actions", "user": {"id": user_id}, "team": {"id": user.team_id}, "response_url": response_url,
               "actions": [{"action_id": "numbers_next", "type": "button", "value": "{}"}]}
    request = user.signed_command("0833")  # for its fresh timestamp
    body = urlencode({"payload": json.dumps(payload)})
    return Signed(body.encode(), {**request.headers, "X-Slack-Signature": "v0=" + "2" * 64}, response_url)


def tampered(user: SlackClient, how: str, user_id: str) -> Signed:
    """A request Slack did not sign as it is: `how` names what is wrong with it."""
    if how == "bad signature":
        return user.signed_command("0833", user_id=user_id, signature="v0=" + "1" * 64)
    if how == "stale timestamp":
        return user.signed_command("0833", user_id=user_id, timestamp=int(time.time()) - 600)  # signed, 10 minutes ago
    if how == "missing headers":
        request = user.signed_command("0833", user_id=user_id)
        return replace(request, headers={"Content-Type": request.headers["Content-Type"]})
    if how == "malformed timestamp":
        request = user.signed_command("0833", user_id=user_id)
        return replace(request, headers={**request.headers, "X-Slack-Request-Timestamp": "soon"})
    return forged_click(user, user_id)


@pytest.mark.parametrize(("how", "reason"), [("bad signature", "bad signature"), ("stale timestamp", "stale timestamp"),
                                             ("missing headers", "missing headers"), ("malformed timestamp", "malformed timestamp"),
                                             ("forged click", "bad signature")])
def test_a_refused_request_leaves_one_warning_with_the_reason_and_who_never_the_body(guarded: BotProcess, slack: SlackServer,
                                                                                      how: str, reason: str) -> None:
    user_id = "U0FORGE" + how.split()[0].upper()
    request = tampered(client(guarded, slack), how, user_id)
    assert client(guarded, slack).send(request).status == 401
    time.sleep(0.3)
    said = [line for line in guarded.log().splitlines() if user_id in line]
    assert len(said) == 1 and " WARNING " in said[0] and reason in said[0], said
    assert "T0TEST" in said[0]
    assert request.response_url not in guarded.log() and request.body.decode() not in guarded.log()
    signature = request.headers.get("X-Slack-Signature", "v0=")[3:]
    assert not signature or signature not in guarded.log()
    assert slack.replies_to(request.response_url) == []


def test_a_refused_request_whose_body_cannot_be_read_leaves_one_warning_and_no_traceback(guarded: BotProcess,
                                                                                         slack: SlackServer) -> None:
    before = len(refusals(guarded))
    headers = {**client(guarded, slack).signed_command("0833").headers, "X-Slack-Signature": "v0=" + "3" * 64}
    for body in (b"payload=%7Bnot-json", b'{"type": "event_callback"'):
        response = requests.post(f"{guarded.url}{EVENTS_PATH}", data=body, headers=headers, timeout=10)
        assert response.status_code == 401
    time.sleep(0.3)
    said = refusals(guarded)[before:]
    assert len(said) == 2 and all(" WARNING " in line and "bad signature" in line for line in said), said
    assert "Traceback" not in guarded.log() and "not-json" not in guarded.log()


def test_no_secret_and_no_signature_ever_reaches_the_log(guarded: BotProcess, slack: SlackServer, own_ccc: CccServer,
                                                         tmp_path: Path) -> None:
    """Runs last in this module: everything above plus failures, at LOG_LEVEL=DEBUG, then the whole log is searched."""
    user = client(guarded, slack)
    signatures = []
    response_urls = []
    for text in ("0833", "028 active", "help", "inbond"):
        request = user.signed_command(text, user_id=ALICE)
        signatures.append(request.headers["X-Slack-Signature"])
        response_urls.append(request.response_url)
        user.send(request)
    forged = replace(user.signed_command("0833", user_id=ALICE), headers={
        **user.signed_command("0833", user_id=ALICE).headers, "X-Slack-Signature": "v0=" + "1" * 64})
    assert user.send(forged).status == 401
    signatures.append(forged.headers["X-Slack-Signature"])
    response_urls.append(forged.response_url)
    own_ccc.fail_next("InvalidAccessKeyId.NotFound", times=3)
    user.run("010 inbound", user_id=ALICE)
    slack.response_status = 500
    try:
        user.command("021", user_id=ALICE)
        time.sleep(1)
    finally:
        slack.response_status = 200
    time.sleep(0.5)
    log = guarded.log()
    assert "DEBUG" in log and len(log) > 5000  # the debug log was on and had plenty to say
    for name, secret in SECRETS.items():
        assert secret not in log, f"{name} appears in the log"
    for signature in signatures:
        assert signature not in log and signature[3:] not in log
    for response_url in response_urls:  # whoever has one can post as the bot for 30 minutes
        assert response_url not in log
