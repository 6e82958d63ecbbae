"""register(app): the /numbers command, the Prev / Next / Share / Export / Summary buttons and the Details menu.
The only module that knows Slack's shapes.

Every listener acks at once (in the request thread, so a slow CCC never delays an ack) and does its work in a
lazy listener on bolt's executor: check who may ask, read the request, look up, answer exactly once through
respond(), then write one audit line.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import audit
from bot.access import Access
from bot.audit import Who
from bot.config import Settings
from bot.details import details_view, loading_view, message_view
from bot.errors import BUG, Problem
from bot.export import file_name, to_csv
from bot.filters import (
    MAX_REACHABLE,
    HelpRequest,
    Query,
    QueryError,
    SummaryRequest,
    UnknownWord,
    command_text,
    decode_number_ref,
    decode_value,
    max_page_for,
    parse_command,
    typed_text,
)
from bot.formatters import (
    ACTION_DETAILS,
    ACTION_EXPORT,
    ACTION_LIST,
    ACTION_NEXT,
    ACTION_PREV,
    ACTION_SHARE,
    ACTION_SHARE_SUMMARY,
    ACTION_SUMMARY,
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
from bot.progress import ProgressNotes
from bot.replies import failure, reply, try_again
from bot.service import LookupFailed, NumberService, Walk
from bot.stopping import long_tasks
from bot.summary import Summary, summarize
from bot.summary_message import progress_message, summary_message, with_back_button

COMMAND = "/numbers"
# A summary's or an export's answer must reach its response_url within Slack's 30 minutes; a walk that takes longer
# gives up.
WALK_TIME_LIMIT_SECONDS = 25 * 60
logger = logging.getLogger(__name__)


def register(app: App, service: NumberService, settings: Settings) -> None:
    listeners = Listeners(service, settings)
    app.command(COMMAND)(ack=acknowledge, lazy=[listeners.on_command])
    app.action(ACTION_PREV)(ack=acknowledge, lazy=[listeners.on_page_click])
    app.action(ACTION_NEXT)(ack=acknowledge, lazy=[listeners.on_page_click])
    app.action(ACTION_LIST)(ack=acknowledge, lazy=[listeners.on_page_click])
    app.action(ACTION_SHARE)(ack=acknowledge, lazy=[listeners.on_share_click])
    app.action(ACTION_EXPORT)(ack=acknowledge, lazy=[listeners.on_export_click])
    app.action(ACTION_DETAILS)(ack=acknowledge, lazy=[listeners.on_details_choice])
    app.action(ACTION_SUMMARY)(ack=acknowledge, lazy=[listeners.on_summary_click])
    app.action(ACTION_SHARE_SUMMARY)(ack=acknowledge, lazy=[listeners.on_share_summary_click])


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
        text = typed_text(command.get("text") or "")
        if self._refused(who, "command", respond, text=text):
            return
        try:
            parsed = parse_command(text, default_instance=self.default_instance,
                                   allowed_instances=self.instances, max_page=self.max_page)
        except QueryError as e:
            hint = f" {closest_example(text, self.examples())}" if isinstance(e, UnknownWord) else ""
            reply(respond, "command", who, notice_message(f"{e}{hint}"), response_type="ephemeral")
            audit.record("command", who, "invalid", text=text)
            return
        if isinstance(parsed, HelpRequest):
            message = help_message(self.instances, self.service.rows_per_page, self.examples())
            reply(respond, "command", who, message, response_type="ephemeral")
            audit.record("command", who, "help", text=text)
            return
        if isinstance(parsed, SummaryRequest):
            self.summary(parsed.query, who, respond, started, in_place=False, text=text)
            return
        answer = self.lookup(parsed)
        reply(respond, "command", who, answer.message, response_type="ephemeral")
        self._audit("command", who, parsed, answer, started, text=text)

    def on_page_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "page")
        if query is None:
            return
        answer = self.lookup(query)
        if answer.problem is None:
            reply(respond, "page", who, answer.message, replace_original=True)
        else:  # keep the list the user has; say what went wrong beside it
            reply(respond, "page", who, answer.message, response_type="ephemeral", replace_original=False)
        self._audit("page", who, query, answer, started)

    def on_share_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "share")
        if query is None:
            return
        answer = self.lookup(query, shared_by=who.user or "someone")
        shared = answer.problem is None
        reply(respond, "share", who, answer.message, response_type="in_channel" if shared else "ephemeral", replace_original=False)
        self._audit("share", who, query, answer, started)

    def on_summary_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "summary")
        if query is not None:
            self.summary(query, who, respond, started, in_place=True)

    def summary(self, query: Query, who: Who, respond: Respond, started: float, *, in_place: bool,
                text: str | None = None) -> None:
        """Count every match, with a progress note or two while that takes long, then answer with the summary.

        `in_place` (a click): the notes and the summary replace the message clicked. A command's reply cannot be
        replaced, so there a long count gets one note and the summary follows it as a new message."""
        task = long_tasks.start("summary", who, respond, query, started)

        def post_progress(done: int, total: int) -> None:
            if task.answered:  # a stop has said the bot is restarting: a note now would say the work goes on
                return
            note = progress_message(query, done, total, follows=not in_place)
            reply(respond, "summary", who, note, response_type="ephemeral", replace_original=in_place)

        notes = ProgressNotes(post_progress, limit=2 if in_place else 1)
        problem, summary = None, None
        try:
            summary = self.count(query, started, notes)
            message = summary_message(summary)
        except Exception as error:
            problem, message = failure(error, who, "summary", "count the numbers")
            if in_place and notes.posted:  # the list is gone: the problem takes its place, with the way back
                message = with_back_button(message, query)
        if not long_tasks.finish(task):  # a stop has answered already
            return
        # in place of the list or the note, except a problem before any note: that goes beside the list, which stays
        replace = in_place and (problem is None or bool(notes.posted))
        reply(respond, "summary", who, message, response_type="ephemeral", replace_original=replace)
        outcome = "error" if problem else "ok" if summary and summary.total else "no-matches"
        audit.record("summary", who, outcome, query=query, problem=problem, text=text,
                     results=summary.total if summary else None, latency_ms=_ms_since(started))

    def on_share_summary_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """The summary the clicker sees, posted to the channel (counted again: from the cache, most often)."""
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "summary-share")
        if query is None:
            return
        task = long_tasks.start("summary-share", who, respond, query, started)
        problem, summary = None, None
        try:
            summary = self.count(query, started)
            message = summary_message(self.access.shared_summary(summary), shared_by=who.user or "someone",
                                      mask=self.access.shared_number)
        except Exception as error:
            problem, message = failure(error, who, "summary-share", "count the numbers")
        if not long_tasks.finish(task):  # a stop has answered already
            return
        shared = problem is None
        reply(respond, "summary-share", who, message, response_type="in_channel" if shared else "ephemeral",
              replace_original=False)
        audit.record("summary-share", who, "ok" if shared else "error", query=query, problem=problem,
                     results=summary.total if summary else None, latency_ms=_ms_since(started))

    def count(self, query: Query, started: float, progress: ProgressNotes | None = None) -> Summary:
        """The summary of every match of `query`; LookupFailed when CCC fails, or is too slow for the answer to reach
        the response_url within Slack's 30 minutes of the request `started` (time.monotonic())."""
        walk = self.walk(query, started, progress)
        return summarize(query, walk.searched, walk.numbers, unsettled=walk.unsettled)

    def walk(self, query: Query, started: float, progress: ProgressNotes | None = None) -> Walk:
        """Every match of `query` (see NumberService.walk), read by WALK_TIME_LIMIT_SECONDS after the request `started`
        (time.monotonic()), or LookupFailed."""
        return self.service.walk(query, progress, deadline=started + WALK_TIME_LIMIT_SECONDS)

    def on_export_click(self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """Every match as a CSV file in the clicker's DM with the bot, then one private word where they clicked.

        Numbers stay whole: the file goes to the requester alone."""
        started = time.monotonic()
        who = _clicker(body)
        query = self._query_from(who, action, respond, "export")
        if query is None:
            return
        task = long_tasks.start("export", who, respond, query, started)
        outcome, problem, results = "ok", None, None
        try:
            walk = self.walk(query, started)
            results = len(walk.numbers)
            name = upload_csv(client, who.user, query, walk.numbers)
            message = notice_message(export_note(name, results, walk.searched, unsettled=walk.unsettled))
        except Exception as error:
            problem, message = failure(error, who, "export", "send you the file", export_advice)
            outcome = "error"
        if not long_tasks.finish(task):  # a stop has answered already
            return
        reply(respond, "export", who, message, response_type="ephemeral", replace_original=False)
        audit.record("export", who, outcome, query=query, problem=problem, results=results,
                     latency_ms=_ms_since(started))

    def on_details_choice(self, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                          client: WebClient) -> None:
        """The chosen number's every field in a modal, opened before any CCC call: the trigger_id opens one modal within
        3 s. From a page already cached it opens with the details; otherwise it opens "Loading…" and views.update
        fills it in when CCC answers. The modal is the answer; a private note only when there is none."""
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
        cached = self.service.cached_number(instance, wanted)
        try:
            opened = client.views_open(trigger_id=body.get("trigger_id") or "",
                                       view=loading_view(wanted) if cached is None else details_view(cached, instance))
        except Exception as error:
            problem, note = failure(error, who, "details", "open the details", details_advice)
            reply(respond, "details", who, note, response_type="ephemeral", replace_original=False)
            audit.record("details", who, "error", query=query, problem=problem, latency_ms=_ms_since(started))
            return
        outcome, problem = ("ok", None) if cached is not None else self._fill_in(client, opened["view"], query, wanted, who)
        audit.record("details", who, outcome, query=query, problem=problem, latency_ms=_ms_since(started))

    def _fill_in(self, client: WebClient, loading: dict[str, Any], query: Query, wanted: str,
                 who: Who) -> tuple[str, Problem | None]:
        """Look `wanted` up and put what that comes to (its details, or why not) in place of the `loading` modal;
        the outcome and the problem for the audit line."""
        outcome, problem = "ok", None
        try:
            number = next((n for n in self.service.walk(query).numbers if n.number == wanted), None)
            if number is None:
                outcome = "not-found"
                view = message_view(notice_message(f"{wanted} is no longer in {query.instance_id}; run the command again."))
            else:
                view = details_view(number, query.instance_id)
        except Exception as error:
            problem, message = failure(error, who, "details", "look up the number")
            outcome, view = "error", message_view(message)
        try:
            client.views_update(view_id=loading["id"], hash=loading.get("hash"), view=view)
        except Exception as error:  # the user closed the modal, or Slack failed: logged only, the modal was the answer
            update_problem, _ = failure(error, who, "details", "show the details")
            return "error", problem or update_problem
        return outcome, problem

    def examples(self) -> tuple[str, ...]:
        """Example commands from the default instance's first API page when a lookup has cached it, else fixed ones:
        help and the hint for an unknown word never wait on CCC."""
        return help_examples(self.service.cached_sample(self.default_instance))

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
        reply(respond, event, who, notice_message(refusal), response_type="ephemeral", replace_original=False)
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
    reply(respond, event, who, notice_message(str(error)), response_type="ephemeral", replace_original=False)
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


def export_note(name: str, results: int, searched: int, *, unsettled: bool = False) -> str:
    note = f"Sent `{name}` ({results:,} number{'' if results == 1 else 's'}) to your DM with me."
    if searched > MAX_REACHABLE:
        note += f" CCC lists only the first {MAX_REACHABLE:,} of {searched:,}: add a filter to export the rest."
    if unsettled:
        note += " CCC changed while exporting; the file may be off by a few."
    return note


# https://api.slack.com/methods/conversations.open, files.getUploadURLExternal, files.completeUploadExternal: errors
SCOPE_ERRORS = ("missing_scope", "not_allowed_token_type")
NO_DM_ERRORS = ("user_not_visible", "invalid_user_combination", "cannot_dm_bot")


def export_advice(code: str) -> str:
    if code in SCOPE_ERRORS:
        return "The app needs the `files:write` and `im:write` scopes: ask a Slack admin to reinstall it from manifest.json."
    if code in NO_DM_ERRORS:
        return ("Slack does not let me send you a direct message, as happens for guests and for people from another "
                "organization in a shared channel. Ask a full member of this workspace to export it, or use "
                "*Share in channel*.")
    return try_again(code)


TRIGGER_ERRORS = ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id")


def details_advice(code: str) -> str:
    """What to do when Slack would not open the modal: a choice brings a new trigger_id, so choosing again works."""
    return "Choose the number again." if code in TRIGGER_ERRORS else try_again(code)
