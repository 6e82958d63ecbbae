"""The WSGI application for production HTTP (gunicorn, see the Procfile): POST /slack/events, GET /healthz."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.arbiter import Arbiter
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.config import Settings, load_settings, require_instance

EVENTS_PATH = "/slack/events"
logger = logging.getLogger(__name__)


class Application:
    """bolt behind WSGI, plus GET /healthz for load balancers."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        return self.slack(environ, start_response)

    def finish_in_flight(self) -> None:
        from bot.app import finish_in_flight

        logger.info("stopping: finishing the replies still in progress")
        finish_in_flight(self.app)


def make_application(settings: Settings) -> Application:
    # Imported here, after load_settings() has read .env: the SDK's credential chain reads the environment on import.
    from bot.app import SlackSetupError, build_service, configure_logging, create_app, freeze_startup_objects

    require_instance(settings)
    configure_logging(settings)
    try:
        application = Application(create_app(settings, build_service(settings)))
    except SlackSetupError as e:
        print(f"numbers: {e}", file=sys.stderr, flush=True)
        raise SystemExit(Arbiter.WORKER_BOOT_ERROR) from None  # gunicorn then stops instead of rebooting workers forever
    freeze_startup_objects()
    return application


def __getattr__(name: str) -> Any:
    # gunicorn imports `bot.wsgi:application` in each worker; build it there, after the fork.
    if name == "application":
        globals()["application"] = make_application(load_settings())
        return globals()["application"]
    raise AttributeError(name)
