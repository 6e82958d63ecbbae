import logging
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.logs import AUDIT_LOGGER, REDACTED, RESPONSE_URL_LOGGER, RedactingFormatter, configure_logging

SECRET = "xoxb-0000-top-secret-token"


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("bot", logging.ERROR, __file__, 1, message, args, exc_info)


def test_secrets_are_redacted_from_messages_arguments_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", [SECRET, "", "short"])
    assert formatter.format(record("token=%s", SECRET)) == f"token={REDACTED}"
    try:
        raise RuntimeError(f"Slack refused {SECRET}")
    except RuntimeError as e:
        text = formatter.format(record("failed", exc=e))
    assert SECRET not in text and REDACTED in text


def test_short_values_are_not_treated_as_secrets() -> None:
    assert RedactingFormatter("%(message)s", ["abc"]).format(record("abc")) == "abc"



@pytest.fixture()
def logging_restored() -> Iterator[None]:
    """configure_logging sets up the whole process's logging; put it back for the tests after this one."""
    loggers = [logging.getLogger(), logging.getLogger(AUDIT_LOGGER), logging.getLogger(RESPONSE_URL_LOGGER)]
    saved = [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    yield
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


def test_response_urls_stay_out_of_even_the_debug_log(capsys: pytest.CaptureFixture[str], logging_restored: None) -> None:
    configure_logging(Settings(log_level="DEBUG"))
    logging.getLogger("slack_sdk.webhook.client").debug("Sending a request - url: https://hooks.slack.com/commands/T0/1/x")
    logging.getLogger("slack_sdk.web.base_client").debug("still at DEBUG")
    written = capsys.readouterr().err
    assert written.splitlines()[-1].endswith("DEBUG slack_sdk.web.base_client: still at DEBUG")
    assert "hooks.slack.com" not in written
