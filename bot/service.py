"""NumberService: the one place that knows the SDK. ListPhoneNumbers -> cached API pages -> Page."""

from __future__ import annotations

import ipaddress
import logging
import os
import time
import unicodedata
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_ccc20200701 import models as ccc_models
from alibabacloud_ccc20200701.client import Client as CccClient
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.model import DaraModel
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from bot.config import Settings
from bot.errors import TOO_SLOW, MalformedResponse, Problem, describe
from bot.filters import MAX_REACHABLE, TAG_SEPARATORS, Anchor, Query, max_page_for
from bot.flight import CallCounts, SharedCalls
from bot.page import Page, PhoneNumber, SkillGroup, rows_window

API_PAGE_SIZE = 100  # the API's maximum: fewest calls, and most Next clicks are cache hits
WALK_THREADS = 4  # API pages fetched at once (for the whole process) while a row filter walks a result
WALK_READS = 3  # readings of a whole result whose API pages disagree (CCC changing), before answering with the last
PAGE_READS = 2  # readings of the API pages behind one page of rows that disagree
# SignatureNonceUsed: the SDK signs each attempt with a fresh nonce, so a nonce the gateway saw twice is worth one more try
RETRIED_CODES = ["Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable", "InternalError", "SignatureNonceUsed"]
# RetryError: timeouts, refused. None: an exception the SDK does not name, which is what it raises for an answer that
# is not JSON, such as a gateway's HTML 502/503 page (a RuntimeError); also a credential provider's failure.
RETRIED_EXCEPTIONS = ["ServerException", "ThrottlingException", "RetryError", None]
BACKOFF_CAP_MS = 2000  # our own exponential backoff waits at most this long
# The longest wait asked for by throttling (x-acs-retry-after) that the bot honours before it tries again; a longer one
# is cut to it, since the person who clicked waits the whole time.
RETRY_AFTER_CAP_SECONDS = 10
# Any one CCC text is cut to this: more than a message shows, and the cache cannot fill with megabytes of one field.
MAX_TEXT_KEPT = 1000
LAST_SHOWABLE_SECOND = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last instant Python's datetime can hold

logger = logging.getLogger(__name__)


Progress = Callable[[int, int], None]  # (rows read so far, rows to read)


def _no_progress(done: int, total: int) -> None:
    pass


class LookupFailed(Exception):
    """A CCC call failed; `problem` says what to tell the user."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class ApiPage:
    total: int
    rows: tuple[PhoneNumber | None, ...]  # None for an item without a Number: a gap, so later rows keep their place

    @property
    def numbers(self) -> tuple[PhoneNumber, ...]:
        return tuple(row for row in self.rows if row is not None)


def retry_options(max_attempts: int) -> RetryOptions:
    """Retry throttling, 5xx and network errors with exponential backoff and equal jitter (BACKOFF_CAP_MS at most a
    wait), or after the wait throttling asks for (RETRY_AFTER_CAP_SECONDS at most): the SDK's maxDelay caps both."""
    return RetryOptions({
        "retryable": True,
        "retryCondition": [{
            "maxAttempts": max_attempts,
            "exception": RETRIED_EXCEPTIONS,
            "errorCode": RETRIED_CODES,
            "backoff": {"policy": "ExponentialWithEqualJitter", "period": 200, "cap": BACKOFF_CAP_MS},
            "maxDelay": RETRY_AFTER_CAP_SECONDS * 1000,
        }],
    })


def build_client(settings: Settings, credentials: tuple[str, str] | CredentialClient | None = None) -> CccClient:
    """One SDK client for the process, with an AccessKey (id, secret) or a credential client; by default the SDK's
    default credential chain. Logs the endpoint it calls and whether through a proxy."""
    config = Config(
        region_id=settings.region_id,
        protocol=settings.protocol,
        connect_timeout=int(settings.connect_timeout_seconds * 1000),
        read_timeout=int(settings.read_timeout_seconds * 1000),
        retry_options=retry_options(settings.max_attempts),
        # one pooled connection a thread that calls CCC: none opened and thrown away
        max_idle_conns=settings.listener_threads + WALK_THREADS,
    )
    if settings.endpoint:
        config.endpoint = settings.endpoint
    if isinstance(credentials, tuple):
        config.access_key_id, config.access_key_secret = credentials
    else:
        config.credential = credentials or CredentialClient()
    endpoint = sdk_endpoint(settings)
    proxy = ccc_proxy(settings.protocol, endpoint)
    if settings.protocol == "https":
        config.https_proxy = proxy
    else:
        config.http_proxy = proxy
    logger.info("CCC endpoint %s://%s (CCC_REGION_ID %s), %s", settings.protocol, endpoint, settings.region_id,
                f"through the proxy at {_proxy_address(proxy)}" if proxy else "direct")
    return CccClient(config)


def sdk_endpoint(settings: Settings) -> str:
    """The host[:port] the SDK calls: CCC_ENDPOINT, else what the SDK's endpoint map (or its regional rule) makes of
    CCC_REGION_ID, e.g. ap-southeast-1 -> ccc.aliyuncs.com, cn-shanghai -> ccc.cn-shanghai.aliyuncs.com."""
    return CccClient(Config(region_id=settings.region_id, endpoint=settings.endpoint or None))._endpoint


def ccc_proxy(protocol: str, endpoint: str) -> str | None:
    """The proxy calls to `endpoint` go through: none on this machine, else HTTPS_PROXY or HTTP_PROXY for `protocol`.

    The SDK reads those variables itself on every call, ignoring NO_PROXY, and has no setting that means "direct":
    for a loopback endpoint the variable is taken out of this process's environment, or even the built-in sample
    instance would be asked through the proxy."""
    names = (f"{protocol.upper()}_PROXY", f"{protocol.lower()}_proxy")  # in the order the SDK reads them
    configured = next((os.environ[name] for name in names if os.environ.get(name)), None)
    host = urlsplit(f"//{endpoint}").hostname or ""
    if not _is_loopback(host):
        if configured and urllib.request.proxy_bypass_environment(host):
            logger.warning("NO_PROXY names %s, but the Alibaba Cloud SDK does not read NO_PROXY: "
                           "CCC calls go through %s all the same", host, names[0])
        return configured
    for name in names:
        if os.environ.pop(name, None):
            logger.info("CCC at %s is on this machine: %s no longer applies in this process", endpoint, name)
    return None


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _proxy_address(proxy: str) -> str:
    """host:port of a proxy URL, without the user and password it may carry."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


class NumberService:
    """Answers a Query with a Page, fetching API pages of 100 through a TTL cache shared by all threads.

    CCC has no snapshot reads, so a result read page by page can change under the reader. What the service reads for
    one answer must agree: every API page's TotalCount the same, and for Prev/Next the number beside the page the one
    the user saw there. When it does not, the query's pages are dropped from the cache and read again, a bounded
    number of times."""

    def __init__(self, client: CccClient, settings: Settings) -> None:
        self._client = client
        self._rows_per_page = settings.rows_per_page
        self._region = settings.region_id
        self._endpoint = client._endpoint  # the host the client calls (see sdk_endpoint), for the NotExists message
        self._calls: SharedCalls[PageKey, ApiPage, LookupFailed] = SharedCalls(
            self._call_api, max_entries=settings.cache_max_entries, ttl=settings.cache_ttl_seconds,
            failure_ttl=settings.error_cache_seconds, remembered=LookupFailed, again=lambda e: LookupFailed(e.problem))
        self._walkers = ThreadPoolExecutor(WALK_THREADS, thread_name_prefix="ccc-walk")

    def close(self) -> None:
        """Stop the walker threads, after the fetches under way."""
        self._walkers.shutdown(wait=True, cancel_futures=True)

    @property
    def rows_per_page(self) -> int:
        return self._rows_per_page

    def cache_info(self) -> CallCounts:
        return self._calls.counts

    def page(self, query: Query) -> Page:
        """The page `query.page` of the lookup; past the last page it answers with the last page."""
        if query.row_filters:
            return self._filtered_page(query)
        shown = query.at_page(min(query.page, max_page_for(self._rows_per_page)))
        window = self._window(shown, query.anchor)
        last_page = max(1, -(-min(window.total, MAX_REACHABLE) // self._rows_per_page))
        if shown.page > last_page:
            shown = query.at_page(last_page)
            window = self._window(shown, None)
        return Page(shown, window.numbers, window.total, self._rows_per_page, requested_page=query.page, moved=window.moved)

    def cached_sample(self, instance_id: str) -> tuple[PhoneNumber, ...]:
        """The first API page of an instance if the cache holds it, for examples; never calls CCC."""
        found = self._calls.peek(_cache_key(Query(instance_id), 1))
        return found.numbers if found else ()

    def cached_number(self, instance_id: str, number: str) -> PhoneNumber | None:
        """`number` of `instance_id` as the latest cached API page that holds it has it, whatever query fetched that page;
        None when no cached page holds it. Never calls CCC."""
        api_pages = [api_page for key, api_page in self._calls.values() if key[0] == instance_id]
        found = (row for api_page in reversed(api_pages) for row in api_page.numbers if row.number == number)
        return next(found, None)

    def _filtered_page(self, query: Query) -> Page:
        walk = self.walk(query)
        matches = walk.numbers
        last_page = max(1, -(-len(matches) // self._rows_per_page))
        shown = query.at_page(min(query.page, last_page))
        start = (shown.page - 1) * self._rows_per_page
        rows = matches[start:start + self._rows_per_page]
        # the walk is one consistent reading: a neighbour that is not the one the user saw means CCC changed
        moved = query.anchor is not None and shown.page == query.page and not _next_to(
            query.anchor, matches[:start], rows, matches[start + self._rows_per_page:])
        return Page(shown, rows, len(matches), self._rows_per_page, requested_page=query.page, searched=walk.searched,
                    moved=moved)

    def walk(self, query: Query, progress: Progress | None = None, deadline: float | None = None) -> Walk:
        """Every row of the result (the first 10,000 at most) that the row filters keep, each number once.

        Reads every API page of the result through the cache, whatever page `query` is on, calling
        `progress(rows read, rows to read)` after each; reads them again (WALK_READS times at most) while their
        TotalCounts disagree. LookupFailed when the walk is not done by `deadline` (a time.monotonic() time)."""
        for reading in range(1, WALK_READS + 1):
            api_pages = self._read_every_page(query, progress or _no_progress, deadline)
            settled = _settled(api_pages)
            if settled:
                break
            logger.warning("CCC's count for %s changed while reading it (%s); reading %s", query,
                           _totals(api_pages), "it again" if reading < WALK_READS else "no more")
            self._forget(query)
        rows = _once_each(number for api_page in api_pages for number in api_page.numbers)
        return Walk(api_pages[0].total, tuple(n for n in rows if matches(n, query.row_filters)), unsettled=not settled)

    def _read_every_page(self, query: Query, report: Progress, deadline: float | None) -> list[ApiPage]:
        first = self._fetch(query, 1)
        reachable = min(first.total, MAX_REACHABLE)
        last = -(-reachable // API_PAGE_SIZE)
        report(min(API_PAGE_SIZE, reachable), reachable)
        api_pages = [first]
        try:
            for api_page in self._walk(query, range(2, last + 1), deadline):
                api_pages.append(api_page)
                report(min(len(api_pages) * API_PAGE_SIZE, reachable), reachable)
        except TimeoutError:
            logger.warning("gave up walking %s at its deadline with %d of %d API pages read", query, len(api_pages), last)
            raise LookupFailed(Problem(*TOO_SLOW)) from None
        return api_pages

    def _walk(self, query: Query, api_pages: range, deadline: float | None) -> Iterator[ApiPage]:
        """The API pages `api_pages` of `query`, in order. Each walk keeps at most WALK_THREADS fetches queued, so
        walks that run at once share the walkers instead of one waiting for the whole of another."""
        pending: deque[Future[ApiPage]] = deque()
        upcoming = iter(api_pages)
        try:
            while True:
                while len(pending) < WALK_THREADS and (number := next(upcoming, None)) is not None:
                    pending.append(self._walkers.submit(self._fetch, query, number))
                if not pending:
                    return
                yield pending.popleft().result(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        finally:  # on a failure or at the deadline: the fetches not started are dropped; those under way fill the cache
            for future in pending:
                future.cancel()

    def _window(self, query: Query, anchor: Anchor | None) -> Window:
        """The rows of `query.page`, from API pages that agree, and beside the number `anchor` names when there is one."""
        start, count, _ = rows_window(query.page, self._rows_per_page, API_PAGE_SIZE)
        before = 1 if anchor is not None and anchor.side == "after" and start > 0 else 0  # the row before the page, to check
        after = 1 if anchor is not None and anchor.side == "before" else 0
        for reading in range(1, PAGE_READS + 1):
            api_pages, rows = self._rows(query, start - before, start + count + after)
            settled = _settled(api_pages) and (anchor is None or _next_to(anchor, rows[:before], rows[before:before + count],
                                                                           rows[before + count:]))
            if settled:
                break
            logger.info("%s moved since the page beside it was read (%s); reading %s", query, _totals(api_pages),
                        "it again" if reading < PAGE_READS else "no more")
            self._forget(query)
        shown = tuple(row for row in rows[before:before + count] if row is not None)
        return Window(api_pages[0].total, shown, moved=not settled)

    def _rows(self, query: Query, first: int, end: int) -> tuple[list[ApiPage], list[PhoneNumber | None]]:
        """The API pages that hold rows `first`..`end - 1` (0-based; fewer past the end of the result) and those rows."""
        numbers = range(first // API_PAGE_SIZE + 1, (end - 1) // API_PAGE_SIZE + 2)
        head = self._fetch(query, numbers[0])
        # the last page of a result may reach past its end: skip API pages that cannot hold a row
        api_pages = [head, *(self._fetch(query, n) for n in numbers[1:] if (n - 1) * API_PAGE_SIZE < head.total)]
        offset = first - (numbers[0] - 1) * API_PAGE_SIZE
        return api_pages, [row for api_page in api_pages for row in api_page.rows][offset:offset + end - first]

    def _fetch(self, query: Query, api_page: int) -> ApiPage:
        return self._calls.get(_cache_key(query, api_page))

    def _forget(self, query: Query) -> None:
        """Drop every API page of `query`'s API filters from the cache (100 at most: no scan of the cache)."""
        self._calls.drop(_cache_key(query, number) for number in range(1, MAX_REACHABLE // API_PAGE_SIZE + 1))

    def _call_api(self, key: PageKey) -> ApiPage:
        instance_id, pattern, usage, active, api_page = key
        query = Query(instance_id, pattern, usage, active)
        request = list_request(query, api_page)
        try:
            response = self._client.list_phone_numbers_with_options(request, RuntimeOptions())
            # The SDK's models give up on the whole body when one field has an unexpected type; to_map() then
            # returns the JSON as CCC sent it, which to_api_page reads field by field.
            found = to_api_page(response.to_map().get("body"))
        except Exception as error:
            problem = describe(error, instance=query.instance_id, region=self._region, endpoint=self._endpoint)
            # the error's text, cut short: the SDK puts the whole body it could not parse in it
            logger.warning(
                "ListPhoneNumbers failed: kind=%s code=%s request_id=%s instance=%s page=%d error=%.500s",
                problem.kind, problem.code or "-", problem.request_id or "-", query.instance_id, api_page, error,
                exc_info=problem.kind == "bug",
            )
            raise LookupFailed(problem) from error
        if len(found.numbers) < len(found.rows):
            logger.warning("ListPhoneNumbers page %d of %s: %d of %d items have no Number and are not shown",
                           api_page, query.instance_id, len(found.rows) - len(found.numbers), len(found.rows))
        return found


@dataclass(frozen=True)
class Walk:
    searched: int  # CCC's count for the API filters
    numbers: tuple[PhoneNumber, ...]  # the rows the row filters keep, each number once
    unsettled: bool = False  # CCC kept changing while it was read: the figures may be off by a few


@dataclass(frozen=True)
class Window:
    total: int
    numbers: tuple[PhoneNumber, ...]
    moved: bool = False  # even read afresh, the page is not beside the number the user saw there


def _once_each(numbers: Iterable[PhoneNumber]) -> tuple[PhoneNumber, ...]:
    """Each number at its first place: a row that moved to a later API page while they were read is not shown twice."""
    first: dict[str, PhoneNumber] = {}
    for number in numbers:
        first.setdefault(number.number, number)
    return tuple(first.values())


def _settled(api_pages: Sequence[ApiPage]) -> bool:
    return len({api_page.total for api_page in api_pages}) == 1


def _totals(api_pages: Sequence[ApiPage]) -> str:
    return "TotalCount " + ", ".join(str(api_page.total) for api_page in api_pages)


def _next_to(anchor: Anchor, before: Sequence[PhoneNumber | None], page: Sequence[PhoneNumber | None],
             after: Sequence[PhoneNumber | None]) -> bool:
    """Whether the rows of a page sit where `anchor` says: right after (or right before) the number it names.

    An item without a Number beside the page cannot tell, and counts as in place."""
    if not page:
        return False
    neighbour = before[-1:] if anchor.side == "after" else after[:1]
    return bool(neighbour) and (neighbour[0] is None or anchor.names(neighbour[0].number))


def matches(number: PhoneNumber, row_filters: Sequence[tuple[str, str]]) -> bool:
    """Whether a number passes every row filter: case-insensitive, group and flow names by substring, the rest exact."""
    return all(_matches(number, name, _folded(value)) for name, value in row_filters)


def _matches(number: PhoneNumber, name: str, wanted: str) -> bool:
    texts = [_folded(text) for text in _texts(number, name)]
    return any(wanted in text for text in texts) if name in SUBSTRING_FILTERS else wanted in texts


SUBSTRING_FILTERS = ("group", "flow")


def _texts(number: PhoneNumber, name: str) -> list[str]:
    """What a row filter compares its value with."""
    if name == "group":
        return [text for group in number.skill_groups for text in (group.name, group.display_name) if text]
    if name == "flow":
        return [number.contact_flow_name]
    if name == "tag":  # Tags is one text that may hold several tags
        return [tag for tag in TAG_SEPARATORS.split(number.tags) if tag]
    if name == "agent":  # the whole ID, or the part before `@`
        return [number.user_id, number.user_id.partition("@")[0]] if number.user_id else []
    return [getattr(number, name)]  # province, city, provider


def _folded(text: str) -> str:
    """Text as compared: full-width letters as ASCII, any case as lower case."""
    return unicodedata.normalize("NFKC", text).casefold()


def list_request(query: Query, page_number: int, page_size: int = API_PAGE_SIZE) -> ccc_models.ListPhoneNumbersRequest:
    """The ListPhoneNumbers request for one API page of `query`'s filters."""
    return ccc_models.ListPhoneNumbersRequest(
        instance_id=query.instance_id,
        search_pattern=query.pattern or None,
        usage=query.usage,
        active=query.active,
        page_number=page_number,
        page_size=page_size,
    )


PageKey = tuple[str, str, str | None, bool | None, int]  # the API filters and an API page number


def _cache_key(query: Query, api_page: int) -> PageKey:
    return (query.instance_id, query.pattern, query.usage, query.active, api_page)  # the instance first: cached_number


def to_api_page(body: Any) -> ApiPage:
    """The useful part of a ListPhoneNumbers answer (the SDK's body model or its JSON map), read leniently.

    A field of the wrong type reads as missing; an item without a Number leaves a gap. MalformedResponse when there
    is no Data, no count or no list of items to page through.
    """
    raw = body.to_map() if isinstance(body, DaraModel) else body
    data = raw.get("Data") if isinstance(raw, dict) else None
    if not isinstance(data, dict):
        raise MalformedResponse("ListPhoneNumbers answered without a Data object")
    total, items = _count(data.get("TotalCount")), data.get("List")
    if total is None:
        raise MalformedResponse(f"Data.TotalCount is a {type(data.get('TotalCount')).__name__}, not a count")
    if not isinstance(items, list | None):
        raise MalformedResponse(f"Data.List is a {type(items).__name__}, not a list")
    return ApiPage(total=max(0, total), rows=tuple(_to_number(item) for item in items or []))


TEXT_FIELDS = {  # PhoneNumber field -> ListPhoneNumbers item field, for the plain texts
    "number": "Number", "usage": "Usage", "province": "Province", "city": "City", "provider": "Provider",
    "contact_flow_name": "ContactFlowName", "contact_flow_id": "ContactFlowId", "user_id": "UserId", "tags": "Tags",
}


def _to_number(item: Any) -> PhoneNumber | None:
    if not isinstance(item, dict) or not _text(item.get("Number")):
        return None
    return PhoneNumber(
        **{field: _text(item.get(name)) for field, name in TEXT_FIELDS.items()},
        active=_flag(item.get("Active")),
        skill_groups=_to_groups(item.get("SkillGroups")),
        created_at=_unix_seconds(item.get("CreateTime")),
    )


def _to_groups(groups: Any) -> tuple[SkillGroup, ...]:
    if not isinstance(groups, list):
        return ()
    return tuple(SkillGroup(skill_group_id=_text(g.get("SkillGroupId")), name=_text(g.get("Name")),
                            display_name=_text(g.get("DisplayName"))) for g in groups if isinstance(g, dict))


def _text(value: Any) -> str:
    """A string (at most MAX_TEXT_KEPT characters), a number as digits; anything else (a list, an object) as missing."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return value if len(value) <= MAX_TEXT_KEPT else value[:MAX_TEXT_KEPT - 1] + "…"


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(value.lower()) if isinstance(value, str) else None


def _unix_seconds(milliseconds: Any) -> int | None:
    """CreateTime (Unix milliseconds, a string or a number) in seconds; None when it is not a date anyone can show."""
    count = _count(milliseconds)
    return count // 1000 if count is not None and 0 <= count // 1000 <= LAST_SHOWABLE_SECOND else None
