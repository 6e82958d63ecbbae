"""`python -m bot` in Socket Mode against a local Socket Mode end: commands, reconnecting by itself, stopping."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.sandbox import CccServer
from harness.process import BotProcess
from harness.slack import Reply, SlackServer
from harness.socket_mode import SocketModeServer
from tests.e2e.conftest import bot_env
from tests.e2e.test_process import PLATFORM_GRACE
from tests.e2e.test_slack_flow import matching

APP_TOKEN = "xapp-1-A0NUMBERS-e2e"

BREAKS: dict[str, Callable[[SocketModeServer], None]] = {
    "closed": SocketModeServer.close_connection,
    "dropped": SocketModeServer.drop_connection,
    "refresh_requested": lambda server: server.ask_to_reconnect("refresh_requested"),
    "warning": lambda server: server.ask_to_reconnect("warning"),
}


@pytest.fixture()
def socket_mode(slack: SlackServer) -> Iterator[SocketModeServer]:
    server = SocketModeServer(slack).start()
    yield server
    server.stop()


@pytest.fixture()
def socket_bot(ccc: CccServer, slack: SlackServer, socket_mode: SocketModeServer, tmp_path: Path) -> Iterator[BotProcess]:
    bot = start_socket_bot(ccc, slack, socket_mode, tmp_path / "bot.log")
    yield bot
    bot.stop()


def start_socket_bot(ccc: CccServer, slack: SlackServer, socket_mode: SocketModeServer, log_path: Path,
                     **settings: str) -> BotProcess:
    """`python -m bot` with an app token and `settings`, once it has opened its websocket."""
    bot = BotProcess(bot_env(ccc, slack, SLACK_APP_TOKEN=APP_TOKEN, **settings), log_path)
    try:
        socket_mode.wait_for_connections(1, timeout=30)
    except TimeoutError:
        bot.stop()
        raise AssertionError(f"the bot did not connect:\n{bot.log()}") from None
    return bot


def answered(socket_mode: SocketModeServer, slack: SlackServer, text: str) -> Reply:
    """Send `/numbers text`; it must be acked on the websocket, then answered on its response_url."""
    envelope = socket_mode.command(text)
    socket_mode.wait_for_ack(envelope.envelope_id)
    return slack.wait_for_reply(envelope.response_url)


def test_a_command_is_acked_on_the_socket_and_answered_on_the_response_url(socket_bot: BotProcess, socket_mode: SocketModeServer,
                                                                           slack: SlackServer, ccc: CccServer) -> None:
    envelope = socket_mode.command("0833 inbound")
    ack = socket_mode.wait_for_ack(envelope.envelope_id)
    assert not ack.get("payload")  # an empty ack: the answer comes on the response_url
    reply = slack.wait_for_reply(envelope.response_url)
    assert reply.body["response_type"] == "ephemeral"
    assert reply.numbers() == matching(ccc, "0833", "Inbound")[:10]
    assert (APP_TOKEN not in socket_bot.log()) and ("apps.connections.open", f"Bearer {APP_TOKEN}") in slack.api_calls


@pytest.mark.parametrize("how", BREAKS)
def test_the_bot_reconnects_by_itself_and_answers_the_next_command(how: str, socket_bot: BotProcess, socket_mode: SocketModeServer,
                                                                   slack: SlackServer, ccc: CccServer) -> None:
    answered(socket_mode, slack, "0833 inbound")
    opened = slack.calls_to("apps.connections.open")

    BREAKS[how](socket_mode)
    socket_mode.wait_for_connections(2, timeout=60)  # each URL works once: a new apps.connections.open, a new websocket
    socket_mode.wait_until_closed(1)

    assert answered(socket_mode, slack, "0833 outbound").numbers() == matching(ccc, "0833", "Outbound")[:10]
    assert slack.calls_to("apps.connections.open") == opened + 1
    assert socket_mode.connections == 2 and socket_bot.process.poll() is None


def test_sigterm_stops_taking_events_and_finishes_the_lookups_in_flight(ccc: CccServer, slack: SlackServer,
                                                                         socket_mode: SocketModeServer, tmp_path: Path) -> None:
    # the lookup outlasts closing the websocket (the SDK takes up to 3 s), so an exit that skips it would lose the reply
    bot = start_socket_bot(ccc, slack, socket_mode, tmp_path / "bot.log", CCC_READ_TIMEOUT_SECONDS="10")
    opened = slack.calls_to("apps.connections.open")
    ccc.latency = 5
    try:
        envelope = socket_mode.command("0833 inbound")
        socket_mode.wait_for_ack(envelope.envelope_id)
        stopping_at = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        socket_mode.wait_until_closed(1, timeout=PLATFORM_GRACE)
        assert bot.process.wait(PLATFORM_GRACE) == 0, bot.log()
    finally:
        bot.stop()

    replies = slack.replies_to(envelope.response_url)
    assert len(replies) == 1 and replies[0].received_at > stopping_at, bot.log()
    assert replies[0].numbers() == matching(ccc, "0833", "Inbound")[:10]
    # closed for good: no reconnecting while the lookup finished
    assert socket_mode.connections == 1 and slack.calls_to("apps.connections.open") == opened
