"""NumberService: the one place that knows the SDK. ListPhoneNumbers -> cached API pages -> Page."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from alibabacloud_ccc20200701 import models as ccc_models
from alibabacloud_ccc20200701.client import Client as CccClient
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_tea_openapi.utils_models import Config
from cachetools import TTLCache, cached
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from bot.config import Settings
from bot.errors import MalformedResponse, Problem, describe
from bot.filters import MAX_REACHABLE, Query, max_page_for
from bot.page import Page, PhoneNumber, SkillGroup, rows_window

API_PAGE_SIZE = 100  # the API's maximum: fewest calls, and most Next clicks are cache hits
RETRIED_CODES = ["Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable", "InternalError"]
RETRIED_EXCEPTIONS = ["ServerException", "ThrottlingException", "RetryError"]  # RetryError: timeouts, refused

logger = logging.getLogger(__name__)


class LookupFailed(Exception):
    """A CCC call failed; `problem` says what to tell the user."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class ApiPage:
    total: int
    numbers: tuple[PhoneNumber, ...]


def retry_options(max_attempts: int) -> RetryOptions:
    """Retry throttling, 5xx and network errors with exponential backoff and equal jitter, 2 s at most a wait."""
    return RetryOptions({
        "retryable": True,
        "retryCondition": [{
            "maxAttempts": max_attempts,
            "exception": RETRIED_EXCEPTIONS,
            "errorCode": RETRIED_CODES,
            "backoff": {"policy": "ExponentialWithEqualJitter", "period": 200, "cap": 2000},
            "maxDelay": 2000,
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
        max_idle_conns=settings.listener_threads,  # one pooled connection a listener thread: none opened and thrown away
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
        # The condition makes concurrent misses on the same key wait for one fetch instead of each calling CCC.
        self._fetch = cached(self._cache, key=_cache_key, condition=threading.Condition(), info=True)(self._call_api)

    @property
    def rows_per_page(self) -> int:
        return self._rows_per_page

    def cache_info(self) -> Any:
        return self._fetch.cache_info()

    def page(self, query: Query) -> Page:
        """The page `query.page` of the lookup; past the last page it answers with the last page."""
        shown = query.at_page(min(query.page, max_page_for(self._rows_per_page)))
        total, numbers = self._window(shown)
        last_page = max(1, -(-min(total, MAX_REACHABLE) // self._rows_per_page))
        if shown.page > last_page:
            shown = query.at_page(last_page)
            total, numbers = self._window(shown)
        return Page(shown, numbers, total, self._rows_per_page, requested_page=query.page)

    def _window(self, query: Query) -> tuple[int, tuple[PhoneNumber, ...]]:
        start, count, api_pages = rows_window(query.page, self._rows_per_page, API_PAGE_SIZE)
        fetched = [self._fetch(query, api_pages[0])]
        # the last page of a result may reach past its end: skip API pages that cannot hold a row
        fetched += [self._fetch(query, n) for n in api_pages[1:] if (n - 1) * API_PAGE_SIZE < fetched[0].total]
        rows = [number for api_page in fetched for number in api_page.numbers]
        offset = start - (api_pages[0] - 1) * API_PAGE_SIZE
        return fetched[0].total, tuple(rows[offset:offset + count])

    def _call_api(self, query: Query, api_page: int) -> ApiPage:
        request = list_request(query, api_page)
        try:
            response = self._client.list_phone_numbers_with_options(request, RuntimeOptions())
            return to_api_page(response.body)
        except Exception as error:
            problem = describe(error, instance=query.instance_id, region=self._region)
            logger.warning(
                "ListPhoneNumbers failed: kind=%s code=%s request_id=%s instance=%s page=%d",
                problem.kind, problem.code or "-", problem.request_id or "-", query.instance_id, api_page,
                exc_info=problem.kind in ("bug", "malformed", "unknown"),
            )
            raise LookupFailed(problem) from error


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
    return (query.instance_id, query.pattern, query.usage, query.active, api_page)


def to_api_page(body: Any) -> ApiPage:
    """The useful part of a ListPhoneNumbers response body; MalformedResponse when Data is not what the API documents."""
    data = getattr(body, "data", None)
    if data is None or not isinstance(data.total_count, int) or not isinstance(data.list or [], list):
        raise MalformedResponse("ListPhoneNumbers answered without Data.TotalCount / Data.List")
    return ApiPage(total=max(0, data.total_count), numbers=tuple(_to_number(item) for item in data.list or []))


def _to_number(item: Any) -> PhoneNumber:
    groups = tuple(
        SkillGroup(skill_group_id=_text(g.skill_group_id), name=_text(g.name), display_name=_text(g.display_name))
        for g in item.skill_groups or []
    )
    created = _text(item.create_time)
    return PhoneNumber(
        number=_text(item.number),
        active=item.active if isinstance(item.active, bool) else None,
        usage=_text(item.usage),
        province=_text(item.province),
        city=_text(item.city),
        provider=_text(item.provider),
        contact_flow_name=_text(item.contact_flow_name),
        contact_flow_id=_text(item.contact_flow_id),
        skill_groups=groups,
        user_id=_text(item.user_id),
        tags=_text(item.tags),
        created_at=int(created) // 1000 if created.isdigit() else None,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)
