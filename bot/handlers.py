"""register(app): the /numbers command, the Prev / Next / Share / Export buttons and the Details menu.
The only module that knows Slack's shapes.

Every listener acks at once (in the request thread, so a slow CCC never delays an ack) and does its work in a
lazy listener on bolt's executor: check who may ask, read the request, look up, answer exactly once through
respond(), then write one audit line.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot import audit
from bot.access import Access
from bot.audit import Who
from bot.config import Settings
from bot.details import details_view
from bot.errors import BUG, Problem
from bot.export import file_name, to_csv
from bot.filters import (
    MAX_REACHABLE,
    HelpRequest,
    Query,
    QueryError,
    UnknownWord,
    command_text,
    decode_number_ref,
    decode_value,
    max_page_for,
    parse_command,
)
from bot.formatters import (
    ACTION_DETAILS,
    ACTION_EXPORT,
    ACTION_NEXT,
    ACTION_PREV,
    ACTION_SHARE,
    Message,
    closest_example,
    escape,
    headline,
    help_examples,
    help_message,
    notice_message,
    page_message,
    problem_message,
)
from bot.page import Page, PhoneNumber
from bot.service import LookupFailed, NumberService

COMMAND = "/numbers"
REPLY_TIMEOUT_SECONDS = 10  # respond() itself waits 30 s for a response_url that never answers: gunicorn's whole grace period
logger = logging.getLogger(__name__)


def register(app: App, service: NumberService, settings: Settings) -> None:
    listeners = Listeners(service, settings)
    app.command(COMMAND)(ack=acknowledge, lazy=[listeners.on_command])
    app.action(ACTION_PREV)(ack=acknowledge, lazy=[listeners.on_page_click])
    app.action(ACTION_NEXT)(ack=acknowledge, lazy=[listeners.on_page_click])
    app.action(ACTION_SHARE)(ack=acknowledge, lazy=[listeners.on_share_click])
    app.action(ACTION_EXPORT)(ack=acknowledge, lazy=[listeners.on_export_click])
    app.action(ACTION_DETAILS)(ack=acknowledge, lazy=[listeners.on_details_choice])


def acknowledge(ack: Ack) -> None:
    ack()


@dataclass(frozen=True)
class Answer:
    """What a lookup came to: the message, and the page it shows or the problem that stopped it."""

    message: Message
    page: Page | None = None
    problem: Problem | None = None

    @property
    def outcome(self) -> str:
        if self.problem is not None:
            return "error"
        return "ok" if self.page is not None and self.page.numbers else "no-matches"


class Listeners:
    def __init__(self, service: NumberService, settings: Settings) -> None:
        self.service = service
        self.access = Access.from_settings(settings)
        self.instances = settings.allowed_instances
        self.default_instance = settings.instance_id
        self.max_page = max_page_for(service.rows_per_page)

    def on_command(self, command: dict[str, Any], respond: Respond) -> None:
        started = time.monotonic()
        who = Who(command.get("user_id") or "", command.get("channel_id") or "", command.get("user_name") or "")
        text = command.get("text") or ""
        if self._refused(who, "command", respond, text=text):
            return
        try:
            parsed = parse_command(text, default_instance=self.default_instance,
                                   allowed_instances=self.instances, max_page=self.max_page)
        except QueryError as e:
            # an unknown word never calls CCC: its examples are live only if the help has fetched them already
            hint = f" {closest_example(text, self.examples(fetch=False))}" if isinstance(e, UnknownWord) else ""
            _reply(respond, "command", who, notice_message(f"{e}{hint}"), response_type="ephemeral")
            audit.record("command", who, "invalid", text=text)
            return
        if isinstance(parsed, HelpRequest):
            message = help_message(self.instances, self.service.rows_per_page, self.examples())
            _reply(respond, "command", who, message, response_type="ephemeral")
            audit.record("command", who, "help", text=text)
            return
        answer = self.lookup(parsed)
        _reply(respond, "command", who, answer.message, response_type="ephemeral")
        self._audit("command", who, parsed, answer, started, text=text)

    def on_page_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "page")
        if query is None:
            return
        answer = self.lookup(query)
        if answer.problem is None:
            _reply(respond, "page", who, answer.message, replace_original=True)
        else:  # keep the list the user has; say what went wrong beside it
            _reply(respond, "page", who, answer.message, response_type="ephemeral", replace_original=False)
        self._audit("page", who, query, answer, started)

    def on_share_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "share")
        if query is None:
            return
        answer = self.lookup(query, shared_by=who.user or "someone")
        shared = answer.problem is None
        _reply(respond, "share", who, answer.message, response_type="in_channel" if shared else "ephemeral", replace_original=False)
        self._audit("share", who, query, answer, started)

    def on_export_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """Every match as a CSV file in the clicker's DM with the bot, then one private word where they clicked.

        Numbers stay whole: the file goes to the requester alone."""
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "export")
        if query is None:
            return
        outcome, problem, results = "ok", None, None
        try:
            searched, numbers = self.service.all_numbers(query)
            results = len(numbers)
            name = upload_csv(client, who.user, query, numbers)
            message = notice_message(export_note(name, results, searched))
        except Exception as error:
            problem, message = failure(error, who, "export", "send you the file", export_advice)
            outcome = "error"
        _reply(respond, "export", who, message, response_type="ephemeral", replace_original=False)
        audit.record("export", who, outcome, query=query, problem=problem, results=results,
                     latency_ms=_ms_since(started))

    def on_details_choice(self, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                          client: WebClient) -> None:
        """The chosen number's every field in a modal; the modal is the answer, a note only when there is none."""
        started = time.monotonic()
        who = _clicker(body)
        if self._refused(who, "details", respond):
            return
        try:
            instance, wanted = decode_number_ref((action.get("selected_option") or {}).get("value"),
                                                 allowed_instances=self.instances)
        except QueryError as e:
            _invalid(respond, "details", who, e)
            return
        query = Query(instance, pattern=re.sub(r"[^0-9]", "", wanted))
        outcome, problem, note = "ok", None, None
        try:
            number = next((n for n in self.service.all_numbers(query)[1] if n.number == wanted), None)
            if number is None:
                outcome, note = "not-found", notice_message(f"{wanted} is no longer in {instance}; run the command again.")
            else:
                client.views_open(trigger_id=body.get("trigger_id") or "", view=details_view(number, instance))
        except Exception as error:
            problem, note = failure(error, who, "details", "open the details", details_advice)
            outcome = "error"
        if note is not None:
            _reply(respond, "details", who, note, response_type="ephemeral", replace_original=False)
        audit.record("details", who, outcome, query=query, problem=problem, latency_ms=_ms_since(started))

    def examples(self, fetch: bool = True) -> tuple[str, ...]:
        """Example commands from the default instance's first API page (cached); static ones if CCC fails."""
        try:
            return help_examples(self.service.sample(self.default_instance, fetch=fetch))
        except LookupFailed:
            return help_examples(())

    def lookup(self, query: Query, shared_by: str | None = None) -> Answer:
        """The answer to a query: a page (masked for the channel when shared and so configured) or a problem. Never raises."""
        try:
            page = self.service.page(query)
            shown = self.access.for_channel(page) if shared_by else page
            return Answer(page_message(shown, shared_by=shared_by), page=page)
        except LookupFailed as e:
            return Answer(problem_message(e.problem), problem=e.problem)
        except Exception:
            logger.exception("lookup failed for %s", query)
            problem = Problem(*BUG)
            return Answer(problem_message(problem), problem=problem)

    def _refused(self, who: Who, event: str, respond: Respond, text: str | None = None) -> bool:
        refusal = self.access.refusal(who.user, who.channel)
        if refusal is None:
            return False
        _reply(respond, event, who, notice_message(refusal), response_type="ephemeral", replace_original=False)
        audit.record(event, who, "refused", text=text)
        return True

    def _query_from(self, who: Who, action: dict[str, Any], respond: Respond, event: str) -> Query | None:
        """The Query a clicked button carries, or None once the user has been told why not."""
        if self._refused(who, event, respond):
            return None
        try:
            return decode_value(action.get("value"), allowed_instances=self.instances, max_page=self.max_page)
        except QueryError as e:
            _invalid(respond, event, who, e)
            return None

    @staticmethod
    def _audit(event: str, who: Who, query: Query, answer: Answer, started: float, text: str | None = None) -> None:
        audit.record(event, who, answer.outcome, query=query, page=answer.page, problem=answer.problem, text=text,
                     latency_ms=_ms_since(started))


def _invalid(respond: Respond, event: str, who: Who, error: QueryError) -> None:
    """A button or menu value the bot will not follow: logged, one private note, one audit line."""
    logger.warning("refused a %s value from user=%s: %s", event, who.user, error)
    _reply(respond, event, who, notice_message(str(error)), response_type="ephemeral", replace_original=False)
    audit.record(event, who, "invalid")


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _clicker(body: dict[str, Any]) -> Who:
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return Who(user.get("id") or "", channel, user.get("username") or user.get("name") or "")


def upload_csv(client: WebClient, user_id: str, query: Query, numbers: tuple[PhoneNumber, ...]) -> str:
    """Upload `numbers` as a CSV file to the DM of `user_id` with the bot; the file's name."""
    dm = client.conversations_open(users=user_id)["channel"]["id"]
    name, title = file_name(query), headline(query, len(numbers))
    command = escape(command_text(query.at_page(1)))
    client.files_upload_v2(channel=dm, content=to_csv(numbers), filename=name, title=title,
                           initial_comment=f"{escape(title)}, every column: what `/numbers {command}` finds.")
    return name


def export_note(name: str, results: int, searched: int) -> str:
    note = f"Sent `{name}` ({results:,} number{'' if results == 1 else 's'}) to your DM with me."
    if searched > MAX_REACHABLE:
        note += f" CCC lists only the first {MAX_REACHABLE:,} of {searched:,}: add a filter to export the rest."
    return note


SCOPE_ERRORS = ("missing_scope", "not_in_channel", "not_allowed_token_type", "channel_not_found", "cannot_dm_bot")


def export_advice(code: str) -> str:
    if code in SCOPE_ERRORS:
        return "The app needs the `files:write` and `im:write` scopes: ask a Slack admin to reinstall it from manifest.json."
    return "Try again in a minute."


def details_advice(code: str) -> str:
    return "Choose the number again." if code == "expired_trigger_id" else "Try again in a minute."


def failure(error: Exception, who: Who, event: str, task: str, advice: Callable[[str], str]) -> tuple[Problem | None, Message]:
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


def _reply(respond: Respond, event: str, who: Who, message: Message, **options: Any) -> None:
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
