"""The WSGI application for production HTTP (gunicorn, see the Procfile): POST /slack/events, GET and HEAD /healthz."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.arbiter import Arbiter
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_normalized_headers
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.config import EVENTS_PATH, Settings, load_settings, stop_start_up
from bot.verification import log_refusal, refusal_reason

logger = logging.getLogger(__name__)


class SlackRequests(SlackRequestHandler):
    """bolt's WSGI adapter. bolt reads the body before it checks the signature; a body it cannot read is refused here,
    with the same one log line as any refused request, instead of a 500 and a traceback."""

    def __init__(self, app: App, signing_secret: str) -> None:
        super().__init__(app, path=EVENTS_PATH)
        self.verifier = SignatureVerifier(signing_secret)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        headers, body = request.get_headers(), ""
        try:
            body = request.get_body()
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except Exception:  # not UTF-8, not JSON, JSON of another shape: nothing Slack sends
            reason = refusal_reason(build_normalized_headers(headers), body, self.verifier)
            log_refusal(reason or "a signed body that cannot be read")
            return BoltResponse(status=401 if reason else 400, body={"error": "invalid request"})
        return self.app.dispatch(bolt_request)


class Application:
    """bolt behind WSGI, plus /healthz for load balancers."""

    def __init__(self, app: App, signing_secret: str) -> None:
        self.app = app
        self.slack = SlackRequests(app, signing_secret)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") == "/healthz" and method in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"] if method == "GET" else []  # HEAD: the headers a GET would get, no body (RFC 9110)
        return self.slack(environ, start_response)

    def finish_in_flight(self) -> None:
        from bot.app import finish_in_flight

        logger.info("stopping: finishing the replies still in progress")
        finish_in_flight(self.app)


def make_application(settings: Settings) -> Application:
    # Imported here, after load_settings() has read .env: the SDK's credential chain reads the environment on import.
    from bot.app import SlackSetupError, build_service, configure_logging, create_app, freeze_startup_objects

    configure_logging(settings)
    try:
        application = Application(create_app(settings, build_service(settings)), settings.slack_signing_secret)
    except SlackSetupError as e:
        stop_start_up(e, Arbiter.WORKER_BOOT_ERROR)  # gunicorn then stops instead of booting workers forever
    freeze_startup_objects()
    return application


def __getattr__(name: str) -> Any:
    # gunicorn imports `bot.wsgi:application` in each worker; build it there, after the fork.
    if name == "application":
        globals()["application"] = make_application(load_settings())  # checked by gunicorn_config in the master
        return globals()["application"]
    raise AttributeError(name)
