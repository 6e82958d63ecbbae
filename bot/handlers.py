"""register(app): the /numbers command and the Prev / Next / Share buttons. The only module that knows Slack's shapes.

Every listener acks at once (in the request thread, so a slow CCC never delays an ack) and does its work in a
lazy listener on bolt's executor, answering exactly once through respond().
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.config import Settings
from bot.errors import BUG, Problem
from bot.filters import HelpRequest, Query, QueryError, decode_value, max_page_for, parse_command
from bot.formatters import (
    ACTION_NEXT,
    ACTION_PREV,
    ACTION_SHARE,
    Message,
    help_message,
    notice_message,
    page_message,
    problem_message,
)
from bot.service import LookupFailed, NumberService

COMMAND = "/numbers"
logger = logging.getLogger(__name__)


def register(app: App, service: NumberService, settings: Settings) -> None:
    listeners = Listeners(service, settings)
    app.command(COMMAND)(ack=acknowledge, lazy=[listeners.on_command])
    app.action(ACTION_PREV)(ack=acknowledge, lazy=[listeners.on_page_click])
    app.action(ACTION_NEXT)(ack=acknowledge, lazy=[listeners.on_page_click])
    app.action(ACTION_SHARE)(ack=acknowledge, lazy=[listeners.on_share_click])


def acknowledge(ack: Ack) -> None:
    ack()


class Listeners:
    def __init__(self, service: NumberService, settings: Settings) -> None:
        self.service = service
        self.instances = settings.allowed_instances
        self.default_instance = settings.instance_id
        self.max_page = max_page_for(service.rows_per_page)

    def on_command(self, command: dict[str, Any], respond: Respond) -> None:
        logger.info("command user=%s channel=%s text=%r", command.get("user_id"), command.get("channel_id"), command.get("text"))
        try:
            parsed = parse_command(command.get("text") or "", default_instance=self.default_instance,
                                   allowed_instances=self.instances, max_page=self.max_page)
        except QueryError as e:
            _reply(respond, notice_message(str(e)), response_type="ephemeral")
            return
        if isinstance(parsed, HelpRequest):
            _reply(respond, help_message(self.instances, self.service.rows_per_page), response_type="ephemeral")
            return
        message, _ = self.lookup(parsed)
        _reply(respond, message, response_type="ephemeral")

    def on_page_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        query = self._query_from(action, respond)
        if query is None:
            return
        logger.info("click user=%s action=%s page=%d query=%r", (body.get("user") or {}).get("id"), action.get("action_id"),
                    query.page, query.describe())
        message, found = self.lookup(query)
        if found:
            _reply(respond, message, replace_original=True)
        else:  # keep the list the user has; say what went wrong beside it
            _reply(respond, message, response_type="ephemeral", replace_original=False)

    def on_share_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        query = self._query_from(action, respond)
        if query is None:
            return
        user = (body.get("user") or {}).get("id") or "someone"
        message, found = self.lookup(query, shared_by=user)
        _reply(respond, message, response_type="in_channel" if found else "ephemeral", replace_original=False)

    def lookup(self, query: Query, shared_by: str | None = None) -> tuple[Message, bool]:
        """The message for a query and whether it is a result (True) or the problem that stopped it. Never raises."""
        try:
            return page_message(self.service.page(query), shared_by=shared_by), True
        except LookupFailed as e:
            return problem_message(e.problem), False
        except Exception:
            logger.exception("lookup failed for %s", query)
            return problem_message(Problem(*BUG)), False

    def _query_from(self, action: dict[str, Any], respond: Respond) -> Query | None:
        try:
            return decode_value(action.get("value"), allowed_instances=self.instances, max_page=self.max_page)
        except QueryError as e:
            logger.warning("refused a button value: %s", e)
            _reply(respond, notice_message(str(e)), response_type="ephemeral", replace_original=False)
            return None


def _reply(respond: Respond, message: Message, **options: Any) -> None:
    """Send one reply through the response_url; a failure there is logged, never raised into bolt."""
    try:
        response = respond(**message, **options)
        if response.status_code >= 300:
            logger.error("response_url answered HTTP %s: %s", response.status_code, response.body[:200])
    except Exception:
        logger.exception("could not post the reply to the response_url")
