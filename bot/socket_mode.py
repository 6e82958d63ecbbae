"""Socket Mode: bolt's SocketModeHandler, with a log that says what the connection really does.

slack_sdk's client reconnects by itself, but reports each failed attempt in two or three ERROR lines, and says "A new
session has been established" even when the websocket handshake was refused. Here each failed attempt is one WARNING
line naming the URL and the reason, and "connected" is said only when Slack's `hello` arrives on the websocket.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient

from bot.stopping import exit_at_once

logger = logging.getLogger(__name__)
CONNECTED = "connected to Slack in Socket Mode"
RETRY_SECONDS = 10  # bolt's ping interval: how often slack_sdk checks the connection and reconnects
SDK_LOGGER = "slack_sdk.socket_mode"
WEB_API_LOGGER = "slack_sdk.web.base_client"  # logs each failed HTTP try of apps.connections.open


class _Attempt(threading.local):
    """What slack_sdk reported while this thread was trying to connect (its lines are replaced by one of ours)."""

    active = False
    reports: list[str]
    error: Exception | None = None


class _AttemptFilter(logging.Filter):
    """Keeps slack_sdk's warnings and errors out of the log while this thread's connection attempt reports them itself."""

    def __init__(self, attempt: _Attempt) -> None:
        super().__init__()
        self.attempt = attempt

    def filter(self, record: logging.LogRecord) -> bool:
        if self.attempt.active and record.levelno >= logging.WARNING:
            self.attempt.reports.append(record.getMessage())
            return False
        return True


class _Client(SocketModeClient):
    """slack_sdk's client; every connection attempt that fails is one WARNING line, and the client keeps trying."""

    def __init__(self, app: App, app_token: str) -> None:
        self.attempt = _Attempt()
        super().__init__(app_token=app_token, logger=_sdk_logger(self.attempt), web_client=app.client, proxy=app.client.proxy,
                         ping_interval=RETRY_SECONDS)
        self.message_listeners.append(_say_when_connected)

    @property
    def api_url(self) -> str:
        return f"{self.web_client.base_url}apps.connections.open"

    def connect_first(self, stop: threading.Event) -> bool:
        """Connect at start-up, trying again while Slack cannot be reached; False if `stop` is set first.

        A SlackApiError (Slack refused the app token) is raised: that needs the operator, not another try.
        """
        while not stop.is_set():
            try:
                with self._reporting():
                    self.wss_uri = self.issue_new_wss_url()
            except OSError as e:
                self._warn(self.api_url, e)
                stop.wait(RETRY_SECONDS)
                continue
            self.connect()
            return True
        return False

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        """What slack_sdk calls to reconnect; a failure is logged here, and the next check tries again."""
        with self._reporting():
            try:
                super().connect_to_new_endpoint(force)
            except (SlackApiError, OSError) as e:
                self._warn(self.api_url, e)

    def connect(self) -> None:
        with self._reporting():
            self.attempt.error = None
            super().connect()
            if not self.is_connected():
                self._warn(_without_query(self.wss_uri or ""), self.attempt.error or _handshake_refusal(self.attempt.reports))

    def _on_error(self, error: Exception) -> None:
        if self.attempt.active:
            self.attempt.error = error
        super()._on_error(error)

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        outer = self.attempt.active
        if not outer:
            self.attempt.active, self.attempt.reports = True, []
        try:
            yield
        finally:
            self.attempt.active = outer

    def _warn(self, url: str, reason: Exception | str) -> None:
        logger.warning("Socket Mode: could not reach Slack at %s: %s; trying again in %d s", url, _reason(reason), RETRY_SECONDS)


class SocketMode(SocketModeHandler):
    """bolt's handler on the client above; `connect_first` instead of `connect`."""

    client: _Client

    def __init__(self, app: App, app_token: str) -> None:
        # not SocketModeHandler.__init__: that builds and starts a client of slack_sdk's own class
        self.app, self.app_token = app, app_token
        self.client = _Client(app, app_token)
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def connect_first(self, stop: threading.Event) -> bool:
        return self.client.connect_first(stop)


def stop_on_signal() -> threading.Event:
    """An event that the first SIGTERM or SIGINT (Ctrl-C) sets; a second one of either exits at once."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            exit_at_once(signal.Signals(signum).name, 128 + signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    return stop


def _say_when_connected(client: Any, message: dict[str, Any], raw: str | None) -> None:
    if message.get("type") == "hello":
        logger.info(CONNECTED)


def _sdk_logger(attempt: _Attempt) -> logging.Logger:
    """slack_sdk's Socket Mode lines: warnings and errors, and its chatter (sessions, pings) only at LOG_LEVEL=DEBUG."""
    sdk = logging.getLogger(SDK_LOGGER)
    sdk.setLevel(logging.DEBUG if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.WARNING)
    for name in (SDK_LOGGER, WEB_API_LOGGER):
        logging.getLogger(name).addFilter(_AttemptFilter(attempt))
    return sdk


def _handshake_refusal(reports: list[str]) -> str:
    status = next((m.group(1) for m in map(re.compile(r"\bstatus: (\d{3})\b").search, reports) if m), None)
    return f"the websocket handshake got HTTP {status}" if status else "the websocket handshake failed"


def _without_query(url: str) -> str:
    """A websocket URL without its one-time ticket."""
    return urlsplit(url)._replace(query="", fragment="").geturl()


def _reason(error: Exception | str) -> str:
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.get('error')}"
    return str(getattr(error, "reason", None) or error)
