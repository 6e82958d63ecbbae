"""A local stand-in for Slack's Socket Mode end: the websocket the bot opens with the URL from apps.connections.open.

Like Slack, it greets each connection with `hello`, sends slash commands and button clicks as envelopes, and takes
each envelope's ack only within 3 seconds: a later ack is recorded as late, and `wait_for_ack` refuses it, as Slack
has by then shown the user an error. It can close a connection, drop it without a word, ask the bot to reconnect
(`disconnect`), refuse websockets for a while, and hold back `hello`. Each URL it hands out works once, so every
connection the bot makes proves a fresh apps.connections.open.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from harness.slack import Reply, SlackClient, SlackServer, button_action

# https://api.slack.com/apis/connections/socket-implement: the first message on every new connection
HELLO = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0NUMBERS"},
         "debug_info": {"host": "applink-e2e", "build_number": 1, "approximate_connection_time": 18060}}
# https://api.slack.com/apis/connections/socket-implement: each envelope is acknowledged with its envelope_id, and
# https://api.slack.com/interactivity/handling#acknowledgment_response: within 3 seconds, or the user sees an error;
# a later ack is worth nothing
ACK_WINDOW = 3.0
# https://api.slack.com/apis/connections/socket-implement: a `disconnect` with reason `warning` comes about 10 seconds
# before Slack closes the connection
WARNING_NOTICE = 10.0


@dataclass(frozen=True)
class Envelope:
    """A slash command or a click sent over the websocket: the ID its ack must carry, and where its reply will arrive."""

    envelope_id: str
    response_url: str
    sent_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Ack:
    """One message the bot sent back for an envelope, and how long after the envelope it came."""

    envelope_id: str
    message: dict[str, Any]
    seconds: float

    @property
    def late(self) -> bool:
        return self.seconds > ACK_WINDOW


class SocketModeServer:
    """Serves ws://127.0.0.1:<port>/link/?ticket=...; `start()` attaches it to `slack` for apps.connections.open."""

    def __init__(self, slack: SlackServer) -> None:
        self.slack = slack
        self.acks: list[Ack] = []  # every ack the bot sent, in order, late ones included
        self.closed_at: list[float] = []  # time.monotonic() when each connection ended
        self.refusing: HTTPStatus | None = None  # while set, every websocket handshake is answered with this status
        self.refused = 0  # handshakes answered with `refusing`
        self.holding_hello = False  # while set, new connections wait for `greet()`
        self._envelopes: dict[str, Envelope] = {}
        self._closings: list[Future[None]] = []  # connections to close after a `warning`
        self._connections: list[ServerConnection] = []
        self._tickets: set[str] = set()
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None

    @property
    def connections(self) -> int:
        """How many websockets the bot has opened so far."""
        with self._changed:
            return len(self._connections)

    def start(self) -> SocketModeServer:
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._server = self._call(self._listen())
        self.slack.socket_mode = self
        return self

    def stop(self) -> None:
        self.slack.socket_mode = None
        for closing in self._closings:
            closing.cancel()
        if self._server is not None:
            self._call(self._close_all(self._server))
        self._loop.call_soon_threadsafe(self._loop.stop)

    def new_url(self) -> str:
        """A one-time websocket URL, as apps.connections.open returns it."""
        ticket = uuid.uuid4().hex
        with self._changed:
            self._tickets.add(ticket)
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={ticket}"

    @property
    def late_acks(self) -> list[Ack]:
        with self._changed:
            return [ack for ack in self.acks if ack.late]

    def command(self, text: str, **options: Any) -> Envelope:
        """Send `/numbers text` on the newest connection, with the fields SlackClient sends over HTTP (same options)."""
        signed = SlackClient("", "unused", self.slack).signed_command(text, **options)
        # https://api.slack.com/apis/connections/socket-implement: the form Slack would POST, as a JSON payload
        return self._send_envelope("slash_commands", dict(parse_qsl(signed.body.decode())), accepts_response_payload=True)

    def click(self, reply: Reply, action_id: str, *, user_id: str | None = None, value: str | None = None) -> Envelope:
        """Click the button `action_id` that the bot rendered in `reply`, as SlackClient.click does over HTTP."""
        payload = SlackClient("", "unused", self.slack).block_actions(button_action(reply, action_id, value), user_id)
        # https://api.slack.com/apis/connections/socket-implement: the block_actions payload of an HTTP click, unencoded
        return self._send_envelope("interactive", payload, accepts_response_payload=False)

    def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's `disconnect` message; after a `warning` Slack closes the connection WARNING_NOTICE seconds later.

        https://api.slack.com/apis/connections/socket-implement
        """
        connection = self._newest()
        self._send({"type": "disconnect", "reason": reason, "debug_info": {"host": "wss-e2e.slack.com"}})
        if reason == "warning":
            self._closings.append(asyncio.run_coroutine_threadsafe(_close_after(connection, WARNING_NOTICE), self._loop))

    def greet(self) -> None:
        """Send the `hello` held back on the newest connection (see `holding_hello`)."""
        self._send(HELLO)

    def close_connection(self) -> None:
        """Close the newest connection the proper way, with a close frame (as Slack does when it restarts)."""
        asyncio.run_coroutine_threadsafe(self._newest().close(1001, "going away"), self._loop)

    def drop_connection(self) -> None:
        """End the newest connection abruptly: a TCP reset, no close frame (as a dying load balancer does)."""
        self._loop.call_soon_threadsafe(_reset, self._newest())

    def wait_for_connections(self, count: int, timeout: float = 60) -> None:
        """Wait until the bot has opened `count` websockets in all; TimeoutError otherwise."""
        self._wait(lambda: len(self._connections) >= count, timeout, f"{count} connections")

    def wait_for_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        """The message that acked `envelope_id` in time; TimeoutError if none comes in `timeout` seconds, AssertionError
        if it came after ACK_WINDOW (Slack has shown the user an error by then and ignores it)."""
        found: list[Ack] = []

        def acked() -> bool:
            found[:] = [ack for ack in self.acks if ack.envelope_id == envelope_id]
            return bool(found)

        self._wait(acked, timeout, f"an ack of {envelope_id}")
        assert not found[0].late, f"{envelope_id} was acked after {found[0].seconds:.2f} s; Slack allows {ACK_WINDOW:.0f} s"
        return found[0].message

    def wait_until_closed(self, count: int, timeout: float = 30) -> None:
        """Wait until `count` connections have ended in all."""
        self._wait(lambda: len(self.closed_at) >= count, timeout, f"{count} closed connections")

    async def _listen(self) -> Server:
        return await serve(self._session, "127.0.0.1", 0, process_request=self._check_ticket)

    @staticmethod
    async def _close_all(server: Server) -> None:
        server.close()
        await server.wait_closed()

    async def _session(self, connection: ServerConnection) -> None:
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()
        try:
            if not self.holding_hello:
                await connection.send(json.dumps(HELLO))
            async for message in connection:
                self._take_ack(json.loads(message), time.monotonic())
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self.closed_at.append(time.monotonic())
                self._changed.notify_all()

    def _take_ack(self, message: dict[str, Any], received_at: float) -> None:
        with self._changed:
            envelope = self._envelopes.get(message.get("envelope_id", ""))
            if envelope is not None:
                self.acks.append(Ack(envelope.envelope_id, message, received_at - envelope.sent_at))
                self._changed.notify_all()

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._changed:
            known = ticket in self._tickets
            self._tickets.discard(ticket)
            if self.refusing is not None:
                self.refused += 1
                return connection.respond(self.refusing, f"{self.refusing.phrase}\n")
        return None if known else connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")

    def _send_envelope(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool) -> Envelope:
        envelope = Envelope(uuid.uuid4().hex, payload["response_url"])
        with self._changed:
            self._envelopes[envelope.envelope_id] = envelope
        self._send({"envelope_id": envelope.envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": accepts_response_payload})
        return envelope

    def _send(self, message: dict[str, Any]) -> None:
        self._call(self._newest().send(json.dumps(message)))

    def _newest(self) -> ServerConnection:
        with self._changed:
            if not self._connections:
                raise RuntimeError("the bot has not connected")
            return self._connections[-1]

    def _call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {what} within {timeout} s")
                self._changed.wait(left)


async def _close_after(connection: ServerConnection, seconds: float) -> None:
    await asyncio.sleep(seconds)
    await connection.close(1001, "disconnect warning")  # nothing to do if the bot has closed it already


def _reset(connection: ServerConnection) -> None:
    """Close with SO_LINGER 0, so the kernel sends RST instead of the FIN of an orderly close."""
    connection.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.transport.abort()
