"""`python -m bot` in Socket Mode against a local Socket Mode end: commands and clicks acked in time, reconnecting by
itself, saying plainly while it cannot connect, stopping."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from websockets.sync.client import connect

from bot.sandbox import CccServer
from harness.process import BotProcess, free_port
from harness.slack import Reply, SlackServer
from harness.socket_mode import ACK_WINDOW, SocketModeServer
from tests.e2e.conftest import bot_env
from tests.e2e.test_entry_point import run_bot
from tests.e2e.test_process import PLATFORM_GRACE
from tests.e2e.test_slack_flow import matching

APP_TOKEN = "xapp-1-A0NUMBERS-e2e"
CONNECTED = "connected to Slack in Socket Mode"

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
    """Send `/numbers text`; it must be acked on the websocket in time, then answered on its response_url."""
    envelope = socket_mode.command(text)
    socket_mode.wait_for_ack(envelope.envelope_id)
    return slack.wait_for_reply(envelope.response_url)


def pressed(socket_mode: SocketModeServer, slack: SlackServer, reply: Reply, action_id: str, **options: str) -> Reply:
    """Click `action_id` in `reply`; the interactive envelope must be acked in time, then answered on its response_url."""
    envelope = socket_mode.click(reply, action_id, **options)
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


def test_clicks_arrive_as_interactive_envelopes_and_are_answered_on_their_response_url(
        socket_bot: BotProcess, socket_mode: SocketModeServer, slack: SlackServer, ccc: CccServer) -> None:
    expected = matching(ccc, "0833", "Inbound")
    second = pressed(socket_mode, slack, answered(socket_mode, slack, "0833 inbound"), "numbers_next")
    assert second.body.get("replace_original") is True and second.numbers() == expected[10:20]

    shared = pressed(socket_mode, slack, second, "numbers_share", user_id="U0BOB")
    assert shared.body["response_type"] == "in_channel" and "<@U0BOB> shared" in shared.text
    assert shared.numbers() == expected[10:20]
    assert socket_mode.late_acks == []


def test_the_bot_acks_in_time_while_ccc_is_slow_and_commands_arrive_together(
        socket_bot: BotProcess, socket_mode: SocketModeServer, slack: SlackServer, ccc: CccServer) -> None:
    first = answered(socket_mode, slack, "0833 inbound")
    ccc.latency = 2.0  # each lookup takes most of the 3 s, and a dozen of them wait for the lookup threads
    commands = [socket_mode.command(f"{pattern} outbound") for pattern in ("0833", "0834", "0835", "0836", "0837", "0838")]
    clicks = [socket_mode.click(first, "numbers_next") for _ in range(6)]

    for envelope in commands + clicks:
        socket_mode.wait_for_ack(envelope.envelope_id)  # refuses an ack later than Slack's 3 s
    for envelope in commands + clicks:
        assert len(slack.wait_for_reply(envelope.response_url, timeout=60).blocks) > 0
    assert socket_mode.late_acks == []


def test_an_ack_after_three_seconds_is_recorded_as_late_and_refused(socket_mode: SocketModeServer) -> None:
    with connect(socket_mode.new_url()) as websocket:
        assert json.loads(websocket.recv(timeout=5))["type"] == "hello"
        on_time, late = socket_mode.command("0833"), socket_mode.command("0834")
        for _ in range(2):
            envelope = json.loads(websocket.recv(timeout=5))
            assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
        websocket.send(json.dumps({"envelope_id": on_time.envelope_id}))
        time.sleep(ACK_WINDOW + 0.2)
        websocket.send(json.dumps({"envelope_id": late.envelope_id}))

        assert socket_mode.wait_for_ack(on_time.envelope_id) == {"envelope_id": on_time.envelope_id}
        with pytest.raises(AssertionError, match="acked after"):
            socket_mode.wait_for_ack(late.envelope_id)
        assert [ack.envelope_id for ack in socket_mode.late_acks] == [late.envelope_id]


def test_a_disconnect_warning_is_followed_by_slack_closing_the_connection(socket_mode: SocketModeServer) -> None:
    with connect(socket_mode.new_url()) as websocket:
        websocket.recv(timeout=5)
        socket_mode.ask_to_reconnect("warning")
        assert json.loads(websocket.recv(timeout=5)) == {"type": "disconnect", "reason": "warning",
                                                         "debug_info": {"host": "wss-e2e.slack.com"}}
        socket_mode.wait_until_closed(1, timeout=15)  # about 10 s later, whether or not the app has gone


def test_connected_is_said_only_when_slack_says_hello(ccc: CccServer, slack: SlackServer, socket_mode: SocketModeServer,
                                                      tmp_path: Path) -> None:
    socket_mode.holding_hello = True
    bot = start_socket_bot(ccc, slack, socket_mode, tmp_path / "bot.log")
    try:
        time.sleep(1)  # the websocket is open, but Slack has not said hello
        assert CONNECTED not in bot.log()
        socket_mode.greet()
        bot.wait_for_log(CONNECTED, timeout=10)
        assert answered(socket_mode, slack, "0833 inbound").numbers()
    finally:
        socket_mode.holding_hello = False
        bot.stop()


def test_while_slack_refuses_the_websocket_the_bot_says_so_once_an_attempt_and_keeps_trying(
        ccc: CccServer, slack: SlackServer, socket_mode: SocketModeServer, tmp_path: Path) -> None:
    socket_mode.refusing = HTTPStatus.SERVICE_UNAVAILABLE
    bot = BotProcess(bot_env(ccc, slack, SLACK_APP_TOKEN=APP_TOKEN), tmp_path / "bot.log")
    try:
        bot.wait_for_log("WARNING", "could not reach Slack at ws://127.0.0.1:", "/link/:", "HTTP 503", timeout=30)
        deadline = time.monotonic() + 30
        while len(complaints(bot)) < 2 and time.monotonic() < deadline:  # it tries again, and says so again
            time.sleep(0.2)
        socket_mode.refusing = None
        socket_mode.wait_for_connections(1, timeout=30)
        bot.wait_for_log(CONNECTED, timeout=10)
        assert answered(socket_mode, slack, "0833 inbound").numbers()
    finally:
        socket_mode.refusing = None
        bot.stop()
    assert len(complaints(bot)) == socket_mode.refused >= 2, bot.log()  # one line for each refused handshake
    assert all("could not reach Slack at ws://" in line for line in complaints(bot)), bot.log()
    assert "ticket=" not in bot.log() and APP_TOKEN not in bot.log()


def test_while_apps_connections_open_is_unreachable_the_bot_says_so_and_keeps_trying(
        ccc: CccServer, slack: SlackServer, socket_mode: SocketModeServer, tmp_path: Path) -> None:
    slack.drop_api("apps.connections.open")
    bot = BotProcess(bot_env(ccc, slack, SLACK_APP_TOKEN=APP_TOKEN), tmp_path / "bot.log")
    try:
        bot.wait_for_log("WARNING", f"could not reach Slack at {slack.base_url}/api/apps.connections.open:", timeout=30)
        slack.clear_faults()
        socket_mode.wait_for_connections(1, timeout=30)
        bot.wait_for_log(CONNECTED, timeout=10)
        assert answered(socket_mode, slack, "0833 inbound").numbers()
    finally:
        bot.stop()
    # one line for each failed attempt (slack_sdk's own retry of the HTTP call and its error lines are part of it)
    assert complaints(bot) and all("could not reach Slack at http://" in line for line in complaints(bot)), bot.log()
    assert APP_TOKEN not in bot.log()


def test_slack_unreachable_at_start_up_stops_with_one_line(ccc: CccServer, slack: SlackServer) -> None:
    result = run_bot(env=bot_env(ccc, slack, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/"),
                     timeout=60)
    said = [line for line in result.stderr.splitlines() if line.startswith("numbers:")]
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(said) == 1 and "could not reach Slack at http://127.0.0.1:" in said[0], result.stderr


def complaints(bot: BotProcess) -> list[str]:
    """The log's WARNING and ERROR lines, but for bolt's note that the bot token is used through the client."""
    return [line for line in bot.log().splitlines()
            if (" WARNING " in line or " ERROR " in line) and "`token` will be unused" not in line]
