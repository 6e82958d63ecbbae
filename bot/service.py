"""NumberService: the one place that knows the SDK. ListPhoneNumbers -> cached API pages -> Page."""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from alibabacloud_ccc20200701 import models as ccc_models
from alibabacloud_ccc20200701.client import Client as CccClient
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_tea_openapi.utils_models import Config
from cachetools import TTLCache, cached
from darabonba.model import DaraModel
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from bot.config import Settings
from bot.errors import TOO_SLOW, MalformedResponse, Problem, describe
from bot.filters import MAX_REACHABLE, TAG_SEPARATORS, Query, max_page_for
from bot.page import Page, PhoneNumber, SkillGroup, rows_window

API_PAGE_SIZE = 100  # the API's maximum: fewest calls, and most Next clicks are cache hits
WALK_THREADS = 4  # API pages fetched at once (for the whole process) while a row filter walks a result
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


def build_client(settings: Settings, access_key: tuple[str, str] | None = None) -> CccClient:
    """One SDK client for the process. Without `access_key` it uses the default credential chain."""
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
    if access_key:
        config.access_key_id, config.access_key_secret = access_key
    else:
        config.credential = CredentialClient()
    return CccClient(config)


class NumberService:
    """Answers a Query with a Page, fetching API pages of 100 through a TTL cache shared by all threads."""

    def __init__(self, client: CccClient, settings: Settings) -> None:
        self._client = client
        self._rows_per_page = settings.rows_per_page
        self._region = settings.region_id
        self._cache: TTLCache = TTLCache(maxsize=settings.cache_max_entries, ttl=settings.cache_ttl_seconds)
        self._lock = threading.Condition()
        # The condition makes concurrent misses on the same key wait for one fetch instead of each calling CCC.
        self._fetch = cached(self._cache, key=_cache_key, condition=self._lock, info=True)(self._call_api)
        self._walkers = ThreadPoolExecutor(WALK_THREADS, thread_name_prefix="ccc-walk")

    def close(self) -> None:
        """Stop the walker threads, after the fetches under way."""
        self._walkers.shutdown(wait=True, cancel_futures=True)

    @property
    def rows_per_page(self) -> int:
        return self._rows_per_page

    def cache_info(self) -> Any:
        return self._fetch.cache_info()

    def page(self, query: Query) -> Page:
        """The page `query.page` of the lookup; past the last page it answers with the last page."""
        if query.row_filters:
            return self._filtered_page(query)
        shown = query.at_page(min(query.page, max_page_for(self._rows_per_page)))
        total, numbers = self._window(shown)
        last_page = max(1, -(-min(total, MAX_REACHABLE) // self._rows_per_page))
        if shown.page > last_page:
            shown = query.at_page(last_page)
            total, numbers = self._window(shown)
        return Page(shown, numbers, total, self._rows_per_page, requested_page=query.page)

    def sample(self, instance_id: str, *, fetch: bool = True) -> tuple[PhoneNumber, ...]:
        """The first API page of an instance (cached), for examples; with fetch=False only what the cache holds."""
        query = Query(instance_id)
        if fetch:
            return self._fetch(query, 1).numbers
        with self._lock:  # a TTLCache is not safe to read while another thread writes it
            found = self._cache.get(_cache_key(query, 1))
        return found.numbers if found else ()

    def cached_number(self, instance_id: str, number: str) -> PhoneNumber | None:
        """`number` of `instance_id` as the latest cached API page that holds it has it, whatever query fetched that page;
        None when no cached page holds it. Never calls CCC."""
        with self._lock:  # a TTLCache is not safe to read while another thread writes it
            api_pages = [api_page for key, api_page in self._cache.items() if key[0] == instance_id]
        found = (row for api_page in reversed(api_pages) for row in api_page.numbers if row.number == number)
        return next(found, None)

    def _filtered_page(self, query: Query) -> Page:
        api_total, matches = self.all_numbers(query)
        last_page = max(1, -(-len(matches) // self._rows_per_page))
        shown = query.at_page(min(query.page, last_page))
        start = (shown.page - 1) * self._rows_per_page
        return Page(shown, matches[start:start + self._rows_per_page], len(matches), self._rows_per_page,
                    requested_page=query.page, searched=api_total)

    def all_numbers(self, query: Query, progress: Progress | None = None,
                    deadline: float | None = None) -> tuple[int, tuple[PhoneNumber, ...]]:
        """CCC's count for the API filters, and each row of theirs (the first 10,000 at most) the row filters keep.

        Walks every API page of the result through the cache, whatever page `query` is on, calling
        `progress(rows read, rows to read)` after each. LookupFailed when the walk is not done by `deadline`
        (a time.monotonic() time)."""
        first = self._fetch(query, 1)
        reachable = min(first.total, MAX_REACHABLE)
        last = -(-reachable // API_PAGE_SIZE)
        report = progress or _no_progress
        report(min(API_PAGE_SIZE, reachable), reachable)
        api_pages = [first]
        try:
            for api_page in self._walk(query, range(2, last + 1), deadline):
                api_pages.append(api_page)
                report(min(len(api_pages) * API_PAGE_SIZE, reachable), reachable)
        except TimeoutError:
            logger.warning("gave up walking %s at its deadline with %d of %d API pages read", query, len(api_pages), last)
            raise LookupFailed(Problem(*TOO_SLOW)) from None
        rows = [number for api_page in api_pages for number in api_page.numbers]
        return first.total, tuple(number for number in rows if matches(number, query.row_filters))

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

    def _window(self, query: Query) -> tuple[int, tuple[PhoneNumber, ...]]:
        start, count, api_pages = rows_window(query.page, self._rows_per_page, API_PAGE_SIZE)
        fetched = [self._fetch(query, api_pages[0])]
        # the last page of a result may reach past its end: skip API pages that cannot hold a row
        fetched += [self._fetch(query, n) for n in api_pages[1:] if (n - 1) * API_PAGE_SIZE < fetched[0].total]
        rows = [row for api_page in fetched for row in api_page.rows]
        offset = start - (api_pages[0] - 1) * API_PAGE_SIZE
        return fetched[0].total, tuple(row for row in rows[offset:offset + count] if row is not None)

    def _call_api(self, query: Query, api_page: int) -> ApiPage:
        request = list_request(query, api_page)
        try:
            response = self._client.list_phone_numbers_with_options(request, RuntimeOptions())
            # The SDK's models give up on the whole body when one field has an unexpected type; to_map() then
            # returns the JSON as CCC sent it, which to_api_page reads field by field.
            found = to_api_page(response.to_map().get("body"))
        except Exception as error:
            problem = describe(error, instance=query.instance_id, region=self._region, endpoint=self._client._endpoint)
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


def _cache_key(query: Query, api_page: int) -> tuple:
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
