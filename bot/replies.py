"""Answering through a response_url, and what a user is told when a task fails. The only I/O is the post."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.audit import Who
from bot.errors import BUG, Problem
from bot.formatters import Message, notice_message, problem_message
from bot.service import LookupFailed

REPLY_TIMEOUT_SECONDS = 10  # respond() itself waits 30 s for a response_url that never answers: gunicorn's whole grace period
logger = logging.getLogger(__name__)


def try_again(code: str) -> str:
    return "Try again in a minute."


def failure(error: Exception, who: Who, event: str, task: str,
            advice: Callable[[str], str] = try_again) -> tuple[Problem | None, Message]:
    """What the user is told when `task` (e.g. "send you the file") fails, and the CCC problem behind it if any;
    logged with the request, never with a token. `advice` turns Slack's error code into what to do next."""
    request = f"{event} request from user={who.user} channel={who.channel}"
    if isinstance(error, LookupFailed):  # the service has logged CCC's answer
        logger.warning("CCC failed the %s: kind=%s", request, error.problem.kind)
        return error.problem, problem_message(error.problem)
    if isinstance(error, SlackApiError):
        code = error.response.get("error") or "unknown"
        logger.error("could not %s for the %s: Slack answered %s", task, request, code)
        return None, notice_message(f"I could not {task}: Slack answered `{code}`. {advice(code)}")
    if isinstance(error, OSError | SlackClientError):
        logger.error("could not reach Slack to %s for the %s: %s: %.200s", task, request, type(error).__name__, error)
        return None, notice_message(f"I could not reach Slack to {task}. Try again in a minute.")
    logger.exception("the %s failed", request)
    problem = Problem(*BUG)
    return problem, problem_message(problem)


def reply(respond: Respond, event: str, who: Who, message: Message, **options: Any) -> None:
    """Send one reply through the response_url; a failure there is logged with the request, never raised into bolt."""
    request = f"{event} from user={who.user} channel={who.channel}"
    try:
        client = WebhookClient(respond.response_url, timeout=REPLY_TIMEOUT_SECONDS, proxy=respond.proxy, ssl=respond.ssl)
        response = client.send(**message, **options)
        if response.status_code >= 300:
            logger.error("response_url answered HTTP %s to the reply for the %s: %s", response.status_code, request,
                         response.body[:200])
    except Exception:
        logger.exception("could not post the reply for the %s", request)
