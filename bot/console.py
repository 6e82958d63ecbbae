"""The local console: `python -m bot console "0833 inbound"` prints one page; without text, a prompt with next/prev."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TextIO

from bot.config import SANDBOX_INSTANCE_ID, SANDBOX_INSTANCE_IDS, Settings
from bot.credentials import CredentialClient, NoCredentials, credential_source, default_chain
from bot.filters import HELP_WORDS, HelpRequest, Query, QueryError, SummaryRequest, max_page_for, parse_command
from bot.formatters import detail_parts, headline, printable, summary_line, truncation_note
from bot.page import Page, PhoneNumber
from bot.service import LookupFailed, NumberService
from bot.summary import CHANGED_WHILE_COUNTING_TEXT, Summary, summarize

PROMPT = "numbers> "
KEYS = "Enter or n: next · p: prev · new filters (e.g. 0833 inbound) · help · q: quit"


def console_settings(settings: Settings, credentials: CredentialClient, err: TextIO) -> Settings:
    """Real CCC when CCC_ENDPOINT is set or the SDK's default credential chain finds credentials, else the sample
    instance, said out loud with every source the chain tried."""
    if settings.sandbox or settings.endpoint:
        return settings
    try:
        credential_source(credentials)
        return settings
    except NoCredentials as e:
        print(f"No Alibaba Cloud credentials found (tried {'; '.join(e.tried)}), so this is the built-in sample "
              f"instance `{SANDBOX_INSTANCE_ID}` (set CCC_SANDBOX=1 to choose it on purpose).", file=err)
    return replace(settings, sandbox=True, instance_id=SANDBOX_INSTANCE_ID, instance_ids=SANDBOX_INSTANCE_IDS)


def run(text: str | None, service: NumberService, settings: Settings,
        out: TextIO = sys.stdout, read: Callable[[str], str] = input) -> int:
    """One lookup when `text` is given (exit status 0 or 1); otherwise the interactive prompt."""
    shell = Shell(service, settings, out)
    if text is not None:
        return 0 if shell.handle(text) else 1
    print(f"numbers console on {settings.instance_id}. {KEYS}", file=out)
    while True:
        try:
            line = read(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return 0
        if line.lower() in ("q", "quit", "exit"):
            return 0
        shell.handle(line)


class Shell:
    def __init__(self, service: NumberService, settings: Settings, out: TextIO) -> None:
        self.service, self.settings, self.out = service, settings, out
        self.page: Page | None = None

    def handle(self, line: str) -> bool:
        """Act on one line; True when it showed a result."""
        word = line.lower()
        if word in ("", "n", "next", "p", "prev") and self.page is not None:
            step = -1 if word in ("p", "prev") else 1
            target = self.page.query.page + step
            if not 1 <= target <= self.page.page_count:
                print("No more pages that way.", file=self.out)
                return False
            return self.show(self.page.query.at_page(target))
        if word in HELP_WORDS:
            print(CONSOLE_HELP, file=self.out)
            return True
        try:
            parsed = parse_command(line, default_instance=self.settings.instance_id,
                                   allowed_instances=self.settings.allowed_instances,
                                   max_page=max_page_for(self.service.rows_per_page))
        except QueryError as e:
            print(str(e).replace("/numbers help", "help"), file=self.out)
            return False
        if isinstance(parsed, HelpRequest):
            print(CONSOLE_HELP, file=self.out)
            return True
        if isinstance(parsed, SummaryRequest):
            return self.show_summary(parsed.query)
        return self.show(parsed)

    def show(self, query: Query) -> bool:
        try:
            self.page = self.service.page(query)
        except LookupFailed as e:
            return self.failed(e)
        print(render_page(self.page), file=self.out)
        return True

    def show_summary(self, query: Query) -> bool:
        try:
            walk = self.service.walk(query)
        except LookupFailed as e:
            return self.failed(e)
        print(render_summary(summarize(query, walk.searched, walk.numbers, unsettled=walk.unsettled)), file=self.out)
        return True

    def failed(self, error: LookupFailed) -> bool:
        request_id = f" (CCC request ID {error.problem.request_id})" if error.problem.request_id else ""
        print(f"{error.problem.message}{request_id}", file=self.out)
        return False


def render_page(page: Page) -> str:
    lines = [headline(page.query, page.total), summary_line(page)]
    if page.clamped:
        lines.append(f"There is no page {page.requested_page:,}; this is the last one.")
    if page.truncated:
        lines.append(truncation_note(page))
    lines.append("")
    for row, number in enumerate(page.numbers, start=page.first_row):
        lines.extend(render_number(row, number))
    return "\n".join(lines)


def render_summary(summary: Summary) -> str:
    lines = [f"Summary of {headline(summary.query, summary.total)}"]
    if summary.unsettled:
        lines.append(CHANGED_WHILE_COUNTING_TEXT)
    if summary.truncated:
        lines.append(f"CCC has {summary.searched:,} numbers for the pattern, usage and state, but lists only the first "
                     "10,000: these counts cover those.")
    for tally in summary.tallies if summary.total else ():
        lines.append(f"{tally.title}: " + " · ".join(f"{printable(value)} {count:,}" for value, count in tally.counts))
    lines.append("Needs attention:")
    for check in summary.attention:
        lines.append(f"  {check.title}: {len(check.numbers):,}")
        if check.numbers:
            shown = " ".join(printable(number) for number in check.numbers)
            lines.append(textwrap.fill(shown, width=100, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


def render_number(row: int, number: PhoneNumber) -> list[str]:
    state = {True: "active", False: "inactive"}.get(number.active, "state unknown")
    details = [detail.label + (_local_date(detail.when) if detail.when is not None else detail.text) for detail in detail_parts(number)]
    return [f"{row:>5}. {number.number}  {number.usage or 'usage unknown'} · {state}", "       " + " · ".join(details)]


def _local_date(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).astimezone().strftime("%Y-%m-%d")


CONSOLE_HELP = """Type filters in any order, as after /numbers in Slack:
  PATTERN                 digits anywhere in the number, e.g. 0833
  inbound|outbound|bidirection   (in, out, both, 呼入, 呼出, 呼入和呼出)
  active|inactive         page N         instance:ID
  province:四川  city:乐山  provider:alicom  agent:agent07  tag:M1   (exact)
  group:VIP  flow:IVR     (part of the name); quote a value with spaces: group:"VIP 热线"
  summary                 counts by usage, state, province, provider and skill group, and what needs attention
Then Enter or n for the next page, p for the previous one, q to quit."""


def main(text: str | None, settings: Settings) -> int:
    from bot.app import build_service

    credentials = default_chain()
    settings = console_settings(settings, credentials, sys.stderr)
    if not settings.instance_id:
        print("numbers: CCC_INSTANCE_ID: not set; set it to your CCC instance ID", file=sys.stderr)
        return 2
    return run(text, build_service(settings, credentials), settings)
