"""A local stand-in for Slack's Socket Mode end: the websocket the bot opens with the URL from apps.connections.open.

Like Slack, it greets each connection with `hello`, sends slash commands as envelopes, records the acks the bot
sends back, and can close a connection, drop it without a word, or ask the bot to reconnect. Each URL it hands out
works once, so every connection the bot makes proves a fresh apps.connections.open.
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
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from harness.slack import SlackClient, SlackServer

HELLO = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0NUMBERS"},
         "debug_info": {"host": "applink-e2e", "build_number": 1, "approximate_connection_time": 18060}}


@dataclass(frozen=True)
class Envelope:
    """A slash command sent over the websocket: the ID its ack must carry, and where its reply will arrive."""

    envelope_id: str
    response_url: str


class SocketModeServer:
    """Serves ws://127.0.0.1:<port>/link/?ticket=...; `start()` attaches it to `slack` for apps.connections.open."""

    def __init__(self, slack: SlackServer) -> None:
        self.slack = slack
        self.acks: list[dict[str, Any]] = []  # every message the bot sent, in order
        self.closed_at: list[float] = []  # time.monotonic() when each connection ended
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

    def command(self, text: str, **options: Any) -> Envelope:
        """Send `/numbers text` on the newest connection, with the fields SlackClient sends over HTTP (same options)."""
        signed = SlackClient("", "unused", self.slack).signed_command(text, **options)
        payload = dict(parse_qsl(signed.body.decode()))
        envelope = Envelope(uuid.uuid4().hex, signed.response_url)
        self._send({"envelope_id": envelope.envelope_id, "type": "slash_commands", "payload": payload,
                    "accepts_response_payload": True, "retry_attempt": 0, "retry_reason": ""})
        return envelope

    def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's `disconnect` message: it sends "warning" a few seconds before it closes, "refresh_requested" to rotate."""
        self._send({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-e2e"}})

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
        """The bot's ack of `envelope_id`; TimeoutError if none comes in `timeout` seconds."""
        found: list[dict[str, Any]] = []

        def acked() -> bool:
            found[:] = [m for m in self.acks if m.get("envelope_id") == envelope_id]
            return bool(found)

        self._wait(acked, timeout, f"an ack of {envelope_id}")
        return found[0]

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
            await connection.send(json.dumps(HELLO))
            async for message in connection:
                with self._changed:
                    self.acks.append(json.loads(message))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self.closed_at.append(time.monotonic())
                self._changed.notify_all()

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._changed:
            if ticket in self._tickets:
                self._tickets.remove(ticket)
                return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")

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


def _reset(connection: ServerConnection) -> None:
    """Close with SO_LINGER 0, so the kernel sends RST instead of the FIN of an orderly close."""
    connection.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.transport.abort()
