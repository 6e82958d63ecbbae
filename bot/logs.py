"""Logging: the readable log and the audit trail on stderr, with every known secret redacted from both."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable

from bot.config import Settings

AUDIT_LOGGER = "numbers.audit"
# logs every response_url it posts to at DEBUG; whoever reads one can post as the bot for 30 minutes
RESPONSE_URL_LOGGER = "slack_sdk.webhook"
REDACTED = "[redacted]"
SECRET_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")


class RedactingFormatter(logging.Formatter):
    """Formats a record as usual, then replaces every secret in the text (message, arguments, traceback)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def secrets_of(settings: Settings) -> list[str]:
    return [settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
            *(os.environ.get(name, "") for name in SECRET_VARIABLES)]


def configure_logging(settings: Settings) -> None:
    """The log at LOG_LEVEL, and the audit trail always, both to stderr; neither can print a secret."""
    secrets = secrets_of(settings)
    log = logging.StreamHandler(sys.stderr)
    log.setFormatter(RedactingFormatter("%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s", secrets))
    logging.basicConfig(level=settings.log_level, handlers=[log], force=True)
    logging.getLogger(RESPONSE_URL_LOGGER).setLevel(max(logging.INFO, logging.getLevelName(settings.log_level)))

    trail = logging.StreamHandler(sys.stderr)
    trail.setFormatter(RedactingFormatter("%(message)s", secrets))
    audit = logging.getLogger(AUDIT_LOGGER)
    audit.handlers[:] = [trail]
    audit.setLevel(logging.INFO)
    audit.propagate = False
