"""Slack's side fails: a response_url answers 404 or 500, or takes the reply and never answers.

The bot logs the failure with the request it belonged to (which command or click, which user; never a secret),
and serves the next command as usual.
"""

from __future__ import annotations

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
