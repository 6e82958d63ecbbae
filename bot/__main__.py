"""`python -m bot`: Socket Mode with SLACK_APP_TOKEN, HTTP with SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET, else the console.

`python -m bot http` is HTTP mode whatever is set (the Procfile's web process); `python -m bot console` the console.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings, require_http, require_instance, stop_start_up

USAGE = 'usage: python -m bot [console ["FILTERS"] | http]'


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
        unknown = _unknown_argument(args)
        if unknown is not None:
            raise ConfigError(f"unknown argument {unknown!r}; {USAGE}")
        if args[:1] in (["-h"], ["--help"]):
            print(USAGE)
            return 0
        mode = args[0] if args[:1] in (["console"], ["http"]) else settings.mode
        if mode == "console":
            return _console(args[1:], settings)
        if mode == "http":
            require_http(settings)
        require_instance(settings)
    except ConfigError as e:
        stop_start_up(e)
    if mode == "socket":
        return _socket_mode(settings)
    os.environ["WEB_CONCURRENCY"] = str(settings.web_concurrency)  # gunicorn parses it on import and fails on a blank one
    from bot.server import serve

    serve(settings)
    return 0


def _unknown_argument(args: list[str]) -> str | None:
    """The first argument this command does not take: `console` takes filters after it, `http` nothing."""
    if args and args[0] not in ("console", "http", "-h", "--help"):
        return args[0]
    return args[1] if args[:1] == ["http"] and len(args) > 1 else None


def _console(args: list[str], settings: Settings) -> int:
    from bot import console

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        return console.main(" ".join(args) if args else None, settings)
    except BrokenPipeError:  # the reader stopped reading (`| head`): nothing went wrong here
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush has nowhere to fail
        return 0


def _socket_mode(settings: Settings) -> int:
    from slack_sdk.errors import SlackApiError

    from bot.app import SlackSetupError, build_service, configure_logging, create_app, finish_in_flight, freeze_startup_objects
    from bot.socket_mode import SocketMode, stop_on_signal

    configure_logging(settings)
    stop = stop_on_signal()
    try:
        app = create_app(settings, build_service(settings))
        handler = SocketMode(app, settings.slack_app_token)
        started = handler.connect_first(stop)  # says "connected" when Slack's hello arrives, and keeps trying until then
    except SlackSetupError as e:
        print(f"numbers: {e}", file=sys.stderr)
        return 2
    except SlackApiError as e:
        print(f"numbers: SLACK_APP_TOKEN: Slack did not accept it for Socket Mode: {e.response.get('error')}", file=sys.stderr)
        return 2
    logger = logging.getLogger(__name__)
    if started:
        freeze_startup_objects()
        stop.wait()
    logger.info("stopping: no new events; finishing the replies still in progress")
    handler.close()  # no reconnecting from here on; waits for the events being acked
    finish_in_flight(app)  # the lookups behind those acks, for a bounded time (bot.stopping)
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
