"""Answering through a response_url, and what a user is told when a task fails. The only I/O is the post."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
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
    """Send one reply through the response_url; a failure there is logged with the request, never raised into bolt.

    When Slack refuses the message itself (a 4xx other than 404, an expired or used-up URL), the user gets one short note
    instead, if the URL has a use left: without it they would wait for an answer that never comes."""
    request = f"{event} from user={who.user} channel={who.channel}"
    status, answer = _post(respond, request, message, options)
    if status is None or status < 300:
        return
    if status < 500 and status != GONE and _uses.left(respond.response_url):
        logger.warning("Slack refused the reply for the %s: HTTP %s %s", request, status, answer)
        note = notice_message(f"Slack would not show my answer (`{answer}`). Try again; if it happens again, tell the "
                              "bot's admins.")
        _post(respond, request, note, {"response_type": "ephemeral", "replace_original": False})
    else:
        logger.error("response_url answered HTTP %s to the reply for the %s: %s", status, request, answer)


GONE = 404  # Slack's status for a response_url that has expired or is used up: no other post can reach the user


def _post(respond: Respond, request: str, message: Message, options: dict[str, Any]) -> tuple[int | None, str]:
    """Post to the response_url: (HTTP status, Slack's answer clipped), or (None, "") when the post did not get through."""
    try:
        _uses.count(respond.response_url)
        client = WebhookClient(respond.response_url, timeout=REPLY_TIMEOUT_SECONDS, proxy=respond.proxy, ssl=respond.ssl)
        response = client.send(**message, **options)
        return response.status_code, (response.body or "")[:200]
    except Exception:
        logger.exception("could not post the reply for the %s", request)
        return None, ""


class _Uses:
    """How many posts this process has made to each response_url, which takes at most 5 in 30 minutes
    (https://api.slack.com/interactivity/handling#message_responses). Each request's posts come from the process
    that acked it."""

    LIMIT = 5

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._posts: TTLCache[str, int] = TTLCache(maxsize=100_000, ttl=30 * 60)

    def count(self, url: str) -> None:
        with self._lock:
            self._posts[url] = self._posts.get(url, 0) + 1

    def left(self, url: str) -> int:
        with self._lock:
            return self.LIMIT - self._posts.get(url, 0)


_uses = _Uses()
