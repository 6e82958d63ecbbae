"""The WSGI application for production HTTP (gunicorn, see the Procfile): POST /slack/events, GET /healthz."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.app import build_service, configure_logging, create_app
from bot.config import Settings, load_settings, require_instance

EVENTS_PATH = "/slack/events"


def make_application(settings: Settings) -> Callable[..., Iterable[bytes]]:
    require_instance(settings)
    configure_logging(settings)
    slack = SlackRequestHandler(create_app(settings, build_service(settings)), path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        return slack(environ, start_response)

    return application


def __getattr__(name: str) -> Any:
    # gunicorn imports `bot.wsgi:application` in each worker; build it there, after the fork.
    if name == "application":
        globals()["application"] = make_application(load_settings())
        return globals()["application"]
    raise AttributeError(name)
