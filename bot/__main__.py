"""`python -m bot`: Socket Mode with SLACK_APP_TOKEN, HTTP with SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET, else the console."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings, require_instance

USAGE = 'usage: python -m bot [console ["FILTERS"]]'


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
        if args and args[0] not in ("console", "-h", "--help"):
            raise ConfigError(f"unknown argument {args[0]!r}; {USAGE}")
        if args[:1] in (["-h"], ["--help"]):
            print(USAGE)
            return 0
        if args[:1] == ["console"] or settings.mode == "console":
            return _console(args[1:], settings)
        require_instance(settings)
    except ConfigError as e:
        print(f"numbers: {e}", file=sys.stderr)
        return 2
    if settings.mode == "socket":
        return _socket_mode(settings)
    from bot.server import serve

    serve(settings)
    return 0


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
    finish_in_flight(app)  # the lookups behind those acks
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
