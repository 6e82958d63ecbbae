"""Slack's side fails: a response_url answers 404 or 500, or takes the reply and never answers.

The bot logs the failure with the request it belonged to (which command or click, which user; never a secret),
and serves the next command as usual.
"""

from __future__ import annotations

import time

from bot.sandbox import CccServer
from harness.process import BotProcess
from harness.slack import Signed, SlackClient, SlackServer
from tests.e2e.conftest import BOT_TOKEN, SIGNING_SECRET

# respond() waits 30 s for a response_url that never answers (slack_sdk's WebhookClient default); a shorter wait in
# the bot only makes this test quicker
GIVE_UP_WITHIN = 45


def failure_line(bot: BotProcess, user_id: str, timeout: float = 15) -> str:
    """The bot's first ERROR line that names `user_id`."""
    return bot.wait_for_log(" ERROR ", user_id, timeout=timeout)


def assert_no_secret_logged(bot: BotProcess, request: Signed) -> None:
    log = bot.log()
    for secret in (BOT_TOKEN, SIGNING_SECRET, request.headers["X-Slack-Signature"], request.response_url):
        assert secret not in log


def assert_serves_the_next_command(bot: BotProcess, user: SlackClient) -> None:
    assert bot.process.poll() is None
    assert user.run("0833 inbound", user_id="U0NEXT").numbers()


def test_a_response_url_answering_404_is_logged_with_the_command_and_user(bot: BotProcess, user: SlackClient,
                                                                         slack: SlackServer) -> None:
    slack.fail_next_response_url(404)
    request = user.signed_command("0833 inbound", user_id="U0GONE404")
    assert user.send(request).status == 200

    line = failure_line(bot, "U0GONE404")
    assert "404" in line
    assert "command" in line, f"the failure line must name the request it belonged to: {line}"
    assert len(slack.replies_to(request.response_url)) == 1  # tried once: a 404 will not heal
    assert_no_secret_logged(bot, request)
    assert_serves_the_next_command(bot, user)


def test_a_response_url_answering_500_to_a_click_is_logged_with_the_action_and_user(bot: BotProcess, user: SlackClient,
                                                                                   slack: SlackServer) -> None:
    listed = user.run("0833", user_id="U0CLICK500")
    slack.fail_next_response_url(500)  # the fresh response_url the click brings
    assert user.click(listed, "numbers_next", user_id="U0CLICK500").status == 200

    line = failure_line(bot, "U0CLICK500")
    assert "500" in line
    assert "page" in line or "numbers_next" in line, f"the failure line must name the request it belonged to: {line}"
    assert_serves_the_next_command(bot, user)


def test_a_response_url_that_never_answers_is_given_up_and_other_commands_go_on(bot: BotProcess, user: SlackClient,
                                                                              slack: SlackServer) -> None:
    slack.fail_next_response_url(SlackServer.HANG)
    request = user.signed_command("0833 inbound", user_id="U0STALLED")
    assert user.send(request).status == 200
    slack.wait_for_reply(request.response_url)  # posted, and now waiting for an answer that never comes

    assert user.run("0833 outbound", user_id="U0MEANWHILE").numbers()  # served while the first reply hangs
    line = failure_line(bot, "U0STALLED", timeout=GIVE_UP_WITHIN)
    assert "command" in line, f"the failure line must name the request it belonged to: {line}"
    assert len(slack.replies_to(request.response_url)) == 1  # no retry after a timeout
    assert_no_secret_logged(bot, request)
    assert_serves_the_next_command(bot, user)


def replies_when(slack: SlackServer, response_url: str, count: int, timeout: float = 15) -> list:
    deadline = time.monotonic() + timeout
    while len(slack.replies_to(response_url)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return slack.replies_to(response_url)


def test_a_reply_slack_refuses_gets_one_short_note_and_a_warning(bot: BotProcess, user: SlackClient,
                                                                 slack: SlackServer) -> None:
    slack.refuse_next_reply("invalid_blocks")
    request = user.signed_command("0833 inbound", user_id="U0REFUSED")
    assert user.send(request).status == 200

    line = bot.wait_for_log(" WARNING ", "U0REFUSED")
    assert "invalid_blocks" in line and "command" in line and "400" in line
    time.sleep(0.3)  # room for a third, unwanted post
    refused, note = replies_when(slack, request.response_url, 2)
    assert refused.refusal == "invalid_blocks" and note.accepted
    assert note.body["response_type"] == "ephemeral" and "`invalid_blocks`" in note.text and "Try again" in note.text
    assert_no_secret_logged(bot, request)


def test_a_reply_to_an_expired_response_url_is_logged_and_not_repeated(bot: BotProcess, user: SlackClient,
                                                                        slack: SlackServer, ccc: CccServer) -> None:
    ccc.latency = 1.0
    request = user.signed_command("503 outbound", user_id="U0LATE")  # asked nowhere else: the reply waits for CCC
    assert user.send(request).status == 200
    slack.age_response_url(request.response_url, SlackServer.LIFETIME_SECONDS + 1)  # as if CCC took half an hour

    line = failure_line(bot, "U0LATE")
    assert "404" in line and "expired_url" in line
    time.sleep(0.3)
    assert [r.refusal for r in slack.replies_to(request.response_url)] == ["expired_url"]  # no note: it cannot arrive


def test_each_render_has_block_ids_of_its_own(user: SlackClient) -> None:
    """Slack keeps a menu's choice across an update that reuses its block_id: Next, then Prev, must not."""
    first = user.run("0833")
    second = user.press(first, "numbers_next")
    again = user.press(second, "numbers_prev")
    menus = [reply.button("numbers_details")["block_id"] for reply in (first, second, again)]
    assert len(set(menus)) == 3, menus
