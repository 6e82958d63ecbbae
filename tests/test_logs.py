import logging

from bot.logs import REDACTED, RedactingFormatter

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
