"""Wiring: Settings -> NumberService (and the sandbox when asked for) -> bolt App with the listeners."""

from __future__ import annotations

import gc
import logging
from dataclasses import replace

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot import handlers, logs
from bot.config import Settings
from bot.credentials import CredentialClient, NoCredentials, credential_source, default_chain
from bot.sandbox import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, CccServer, sample_instances
from bot.service import NumberService, build_client
from bot.stopping import ListenerPool, finish_or_cut_off
from bot.verification import LoggedRequestVerification

logger = logging.getLogger(__name__)
# A dropped connection (slack_sdk's default), and once a method's rate limit, after the Retry-After Slack gives
SLACK_RETRIES = [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=1)]


def build_service(settings: Settings, credentials: CredentialClient | None = None) -> NumberService:
    """The NumberService for these settings; with CCC_SANDBOX=1 it first starts the sample instance on loopback.

    Real CCC is called with `credentials`, by default the SDK's default credential chain; where that finds them is logged
    now, or a warning naming every source it tried."""
    if not settings.sandbox:
        credentials = credentials or default_chain()
        try:
            logger.info("Alibaba Cloud credentials from %s", credential_source(credentials))
        except NoCredentials as e:
            logger.warning("%s; every CCC lookup fails until one of them is set", e)
        return NumberService(build_client(settings, credentials), settings)
    sandbox = CccServer(sample_instances()).start()
    logger.info("CCC_SANDBOX=1: serving the built-in sample instance at http://%s", sandbox.endpoint)
    settings = replace(settings, endpoint=sandbox.endpoint, protocol="http")
    return NumberService(build_client(settings, (SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET)), settings)


class SlackSetupError(RuntimeError):
    """Slack refused the bot's credentials at start-up, or could not be reached."""


def create_app(settings: Settings, service: NumberService) -> App:
    """The bolt App. Acks run in the request thread; the work runs on a pool sized by NUMBERS_LISTENER_THREADS.

    bolt checks SLACK_BOT_TOKEN with auth.test here; a refusal, or no answer, becomes one clear SlackSetupError.
    """
    try:
        app = _bolt_app(settings)
    except OSError as e:  # no answer: refused connection, DNS, timeout, TLS (urllib's URLError is an OSError)
        raise SlackSetupError(f"could not reach Slack at {settings.slack_api_url}: {_network_reason(e)}") from e
    except (BoltError, SlackApiError) as e:
        answer = _slack_answer(e)
        if answer is not None and answer.status_code >= 500:
            raise SlackSetupError(f"Slack at {settings.slack_api_url} answered HTTP {answer.status_code}; "
                                  "try again in a minute (https://status.slack.com)") from e
        reason = answer.get("error") if answer is not None else e
        raise SlackSetupError(f"SLACK_BOT_TOKEN: Slack at {settings.slack_api_url} did not accept it: {reason}") from e
    handlers.register(app, service, settings)
    return app


def _slack_answer(error: BaseException) -> SlackResponse | None:
    """Slack's answer behind `error`: bolt wraps the SlackApiError of its auth.test in a BoltError."""
    cause = error if isinstance(error, SlackApiError) else error.__cause__ or error.__context__
    return cause.response if isinstance(cause, SlackApiError) else None


def _network_reason(error: OSError) -> str:
    """'Connection refused' rather than '<urlopen error [Errno 111] Connection refused>'."""
    reason = getattr(error, "reason", error)
    return getattr(reason, "strerror", None) or str(reason)


class _WithoutClientTokenWarning(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns that it will not use it:
    it is the token the client already holds, so there is nothing to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.App").addFilter(_WithoutClientTokenWarning())  # the logger bolt's App warns on


def _bolt_app(settings: Settings) -> App:
    return App(
        client=WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, retry_handlers=SLACK_RETRIES),
        signing_secret=settings.slack_signing_secret or None,
        # bolt's own check, in its own place in the middleware chain, logging a refusal without the body (see verification)
        request_verification_enabled=False,
        before_authorize=LoggedRequestVerification(settings.slack_signing_secret),
        process_before_response=True,
        listener_executor=ListenerPool(max_workers=settings.listener_threads, thread_name_prefix="numbers"),
    )


def freeze_startup_objects() -> None:
    """Everything loaded at start-up lives as long as the process: keep it out of the garbage collector's full
    passes, which otherwise pause a request now and then for 50-70 ms (measured) to walk every module and class."""
    gc.freeze()


def finish_in_flight(app: App) -> None:
    """Wait, a bounded time, for the lookups of requests already acked: their replies go out after the ack (bolt lazy
    listeners). A summary or export cut off is told the bot is restarting, and the process exits (see bot.stopping)."""
    finish_or_cut_off(app.listener_runner.listener_executor)


def configure_logging(settings: Settings) -> None:
    logs.configure_logging(settings)
