"""NumberService with the real SDK client, over HTTP to the sandbox CCC on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from darabonba.core import DaraCore
from darabonba.policy.retry import RetryPolicyContext

from bot.config import ConfigError, Settings, load_settings
from bot.errors import MalformedResponse, Problem
from bot.filters import Query, decode_value, encode_value
from bot.formatters import STATIC_EXAMPLES, page_message
from bot.handlers import Listeners
from bot.page import Page, PhoneNumber, SkillGroup
from bot.sandbox import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, CccServer, sample_instances
from bot.sandbox.data import make_numbers
from bot.sandbox.server import LONG_TEXT_LENGTH, NON_ASCII_TEXT
from bot.service import (
    MAX_TEXT_KEPT,
    RETRY_AFTER_CAP_SECONDS,
    LookupFailed,
    NumberService,
    build_client,
    matches,
    retry_options,
    to_api_page,
)
from bot.summary import summarize
from bot.summary_message import summary_message

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_KEY = (SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET)
UUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
MakeService = Callable[..., NumberService]


def settings_for(endpoint: str, **env: str) -> Settings:
    base = {"CCC_ENDPOINT": endpoint, "CCC_PROTOCOL": "http", "CCC_INSTANCE_ID": "ccc-test",
            "CCC_READ_TIMEOUT_SECONDS": "0.5", "CCC_CONNECT_TIMEOUT_SECONDS": "0.5"}
    return load_settings({**base, **env}, dotenv=False)


@pytest.fixture
def make_service(ccc_server: CccServer) -> MakeService:
    """A NumberService on the sandbox; keyword arguments are extra environment variables (plus `access_key`)."""
    def make(access_key: tuple[str, str] | None = SANDBOX_KEY, endpoint: str | None = None, **env: str) -> NumberService:
        settings = settings_for(endpoint or ccc_server.endpoint, **env)
        return NumberService(build_client(settings, access_key), settings)
    return make


@pytest.fixture
def service(make_service: MakeService) -> NumberService:
    return make_service()


def expected_numbers(server: CccServer, instance: str = "ccc-test", pattern: str = "", usage: str | None = None,
                     active: bool | None = None) -> list[str]:
    """The server's own data, filtered as ListPhoneNumbers documents, in the server's order."""
    return [n["Number"] for n in server.instances[instance]
            if pattern in n["Number"] and usage in (None, n["Usage"]) and active in (None, n["Active"])]


def numbers(page: Page) -> list[str]:
    return [n.number for n in page.numbers]


def walk(service: NumberService, query: Query, limit: int = 100) -> list[Page]:
    """Every page of a query, as Next clicks would show them (at most `limit`, so a broken has_next cannot loop)."""
    pages = [service.page(query)]
    while pages[-1].has_next and len(pages) < limit:
        pages.append(service.page(pages[-1].query.at_page(pages[-1].query.page + 1)))
    return pages


def failure(service: NumberService, query: Query | None = None) -> Problem:
    with pytest.raises(LookupFailed) as caught:
        service.page(query or Query("ccc-test"))
    return caught.value.problem


# --- paging ---------------------------------------------------------------------------------------

FILTERS = [
    {"pattern": "0833", "usage": "Inbound"},
    {"active": False},
    {"pattern": "1", "usage": "Outbound", "active": True},
    {"usage": "Bidirection"},
    {},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_paging_returns_every_match_once_and_in_order(ccc_server, service, filters):
    pages = walk(service, Query("ccc-test", **filters))
    expected = expected_numbers(ccc_server, **filters)
    assert [n for page in pages for n in numbers(page)] == expected
    assert {page.total for page in pages} == {len(expected)}
    assert [page.query.page for page in pages] == list(range(1, len(pages) + 1))


def test_the_fields_arrive_intact(ccc_server, service):
    raw = ccc_server.instances["ccc-test"][0]
    shown = service.page(Query("ccc-test")).numbers[0]
    assert (shown.number, shown.active, shown.usage, shown.city, shown.provider) == (
        raw["Number"], raw["Active"], raw["Usage"], raw["City"], raw["Provider"])
    assert [g.name for g in shown.skill_groups] == [g["Name"] for g in raw["SkillGroups"]]
    assert shown.created_at == int(raw["CreateTime"]) // 1000


def test_ten_pages_of_ten_cost_one_call(ccc_server, service):
    for page in range(1, 11):
        service.page(Query("ccc-test", page=page))
    assert ccc_server.calls == 1
    service.page(Query("ccc-test", page=11))
    assert ccc_server.calls == 2


def test_repeating_a_query_is_a_cache_hit(ccc_server, service):
    first = service.page(Query("ccc-test", pattern="0833"))
    again = service.page(Query("ccc-test", pattern="0833"))
    assert again == first
    assert ccc_server.calls == 1
    assert service.cache_info().hits >= 1


def test_a_ttl_of_zero_means_no_cache(ccc_server, make_service):
    service = make_service(NUMBERS_CACHE_TTL_SECONDS="0")
    service.page(Query("ccc-test"))
    service.page(Query("ccc-test"))
    assert ccc_server.calls == 2


def test_the_cache_keeps_at_most_max_entries(ccc_server, make_service):
    service = make_service(NUMBERS_CACHE_MAX_ENTRIES="100")
    patterns = [f"{n:03d}" for n in range(101)]
    for pattern in [*patterns, patterns[0], patterns[-1]]:  # the first was evicted by the 101st, the last is kept
        service.page(Query("ccc-test", pattern=pattern))
    assert ccc_server.calls == 102


@pytest.mark.parametrize(("first", "second"), [
    (Query("ccc-test", pattern="0833", active=True), Query("ccc-test", pattern="0833", active=False)),
    (Query("ccc-test", pattern="0833", active=True), Query("ccc-test", pattern="0833")),
    (Query("ccc-test", pattern="0833"), Query("ccc-test", pattern="0571")),
    (Query("ccc-test", usage="Inbound"), Query("ccc-test", usage="Outbound")),
    (Query("ccc-test", pattern="0833"), Query("ccc-demo", pattern="0833")),
], ids=["active", "active-or-any", "pattern", "usage", "instance"])
def test_queries_that_differ_in_one_filter_are_cached_apart(ccc_server, service, first, second):
    """Each filter is part of the cache key: one left out would answer the second lookup with the first one's numbers."""
    service.page(first)
    shown = service.page(second)
    assert ccc_server.calls == 2
    expected = expected_numbers(ccc_server, second.instance_id, second.pattern, second.usage, second.active)
    assert [n.number for n in shown.numbers] == expected[:10] and shown.total == len(expected)


def test_different_filters_are_cached_apart(ccc_server, service):
    service.page(Query("ccc-test", usage="Inbound"))
    service.page(Query("ccc-test", usage="Outbound"))
    service.page(Query("ccc-demo", usage="Inbound"))
    assert ccc_server.calls == 3


def test_seven_rows_a_page_straddling_two_api_pages(ccc_server, make_service):
    service = make_service(NUMBERS_ROWS_PER_PAGE="7")
    page = service.page(Query("ccc-test", page=15))  # rows 99-105: the end of API page 1 and the start of page 2
    assert numbers(page) == expected_numbers(ccc_server)[98:105]
    assert (page.first_row, page.last_row) == (99, 105)
    assert ccc_server.calls == 2


def test_seven_rows_a_page_walk_everything(ccc_server, make_service):
    service = make_service(NUMBERS_ROWS_PER_PAGE="7")
    pages = walk(service, Query("ccc-test"))
    assert [n for page in pages for n in numbers(page)] == expected_numbers(ccc_server)
    assert len(pages) == -(-len(expected_numbers(ccc_server)) // 7)


def test_seven_rows_a_page_cost_one_call_per_100_rows(ccc_server, make_service):
    walk(make_service(NUMBERS_ROWS_PER_PAGE="7"), Query("ccc-test"))
    assert ccc_server.calls == 4  # 400 numbers, 100 an API call; the last page (rows 400-406) needs no API page 5


def test_a_page_past_the_end_shows_the_last_page(ccc_server, service):
    expected = expected_numbers(ccc_server, pattern="0833", usage="Inbound")
    last = -(-len(expected) // 10)
    page = service.page(Query("ccc-test", pattern="0833", usage="Inbound", page=last + 40))
    assert (page.query.page, page.requested_page, page.clamped) == (last, last + 40, True)
    assert numbers(page) == expected[(last - 1) * 10:]
    assert not page.has_next


def test_a_page_inside_the_result_is_not_clamped(service):
    page = service.page(Query("ccc-test", page=2))
    assert (page.query.page, page.clamped) == (2, False)


def test_no_matches_is_an_empty_first_page(ccc_server, service):
    page = service.page(Query("ccc-test", pattern="99999999999"))
    assert (page.total, page.numbers, page.query.page, page.has_next) == (0, (), 1, False)


def test_a_page_past_the_10000_row_limit_clamps_too(service):
    page = service.page(Query("ccc-test", page=1001))
    assert page.clamped and page.query.page == 40


# --- more than 10,000 matches ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_instance() -> list[dict[str, Any]]:
    return make_numbers("ccc-big", 10_050, seed=7)


@pytest.fixture(scope="module")
def _big_server(big_instance) -> Iterator[CccServer]:
    server = CccServer({"ccc-big": big_instance}).start()
    yield server
    server.stop()


@pytest.fixture
def big_server(_big_server) -> Iterator[CccServer]:
    _big_server.calls = 0
    yield _big_server
    _big_server.latency = 0.0


def test_more_than_10000_matches_are_truncated(big_server, make_service):
    service = make_service(endpoint=big_server.endpoint, CCC_INSTANCE_ID="ccc-big")
    page = service.page(Query("ccc-big"))
    assert (page.total, page.truncated, page.page_count) == (10_050, True, 1000)


def test_the_last_reachable_page_of_a_truncated_result(big_server, big_instance, make_service):
    service = make_service(endpoint=big_server.endpoint, CCC_INSTANCE_ID="ccc-big")
    page = service.page(Query("ccc-big", page=1000))
    assert numbers(page) == [n["Number"] for n in big_instance[9990:10_000]]
    assert (page.first_row, page.last_row, page.has_next, page.clamped) == (9991, 10_000, False, False)
    assert big_server.calls == 1


def test_a_page_past_the_last_reachable_one_clamps_to_it(big_server, big_instance, make_service):
    service = make_service(endpoint=big_server.endpoint, CCC_INSTANCE_ID="ccc-big")
    page = service.page(Query("ccc-big", page=1001))
    assert (page.query.page, page.requested_page, page.clamped) == (1000, 1001, True)
    assert numbers(page) == [n["Number"] for n in big_instance[9990:10_000]]


def test_row_filters_search_only_the_first_10000_and_say_so(big_server, big_instance, make_service):
    service = make_service(endpoint=big_server.endpoint, CCC_INSTANCE_ID="ccc-big")
    page = service.page(Query("ccc-big", row_filters=(("province", "四川"),)))
    in_reach = [n["Number"] for n in big_instance[:10_000] if n["Province"] == "四川"]
    assert (page.total, page.searched, page.truncated) == (len(in_reach), 10_050, True)
    assert numbers(page) == in_reach[:10]
    assert big_server.calls == 100


def test_a_walk_tells_its_progress_after_each_api_page(ccc_server, service):
    seen: list[tuple[int, int]] = []
    walk = service.walk(Query("ccc-test"), progress=lambda done, total: seen.append((done, total)))
    searched, found = walk.searched, walk.numbers
    assert seen == [(100, 400), (200, 400), (300, 400), (400, 400)] and searched == len(found) == 400


def test_a_walk_of_more_than_10000_tells_progress_out_of_10000(big_server, make_service):
    seen: list[tuple[int, int]] = []
    make_service(endpoint=big_server.endpoint).walk(Query("ccc-big"), progress=lambda *p: seen.append(p))
    assert len(seen) == 100 and seen[-1] == (10_000, 10_000)


def test_walks_at_once_share_the_walkers_rather_than_queue_behind_each_other(big_server, make_service):
    """A small walk started while a big one is under way finishes first: it does not wait for all of the big one."""
    big_server.latency = 0.02
    service = make_service(endpoint=big_server.endpoint)
    finished: list[str] = []
    big = threading.Thread(target=lambda: (service.walk(Query("ccc-big")), finished.append("big")))
    big.start()
    while big_server.calls < 10:  # the big walk has its pages queued
        time.sleep(0.005)
    service.walk(Query("ccc-big", usage="Outbound", active=False))  # a few API pages
    finished.append("small")
    big.join(timeout=60)
    assert finished == ["small", "big"]


def test_a_walk_that_outlasts_its_deadline_gives_up_with_a_timeout(big_server, make_service):
    big_server.latency = 0.3
    service = make_service(endpoint=big_server.endpoint)
    with pytest.raises(LookupFailed) as failed:
        service.walk(Query("ccc-big"), deadline=time.monotonic() + 0.1)
    assert failed.value.problem.kind == "timeout" and "too slowly" in failed.value.problem.message
    service.close()  # the fetches under way finish (into the cache)
    assert big_server.calls == 5  # page 1, then the four queued by then; not the other 95 of the walk


# --- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["Throttling.User", "Throttling", "InternalError", "ServiceUnavailable"])
def test_two_transient_failures_are_retried_invisibly(ccc_server, service, code):
    ccc_server.fail_next(code, 2)
    page = service.page(Query("ccc-test"))
    assert numbers(page) == expected_numbers(ccc_server)[:10]
    assert ccc_server.calls == 3


def test_retries_stop_at_max_attempts(ccc_server, make_service):
    ccc_server.fail_next("ServiceUnavailable", 5)
    problem = failure(make_service(CCC_MAX_ATTEMPTS="3"))
    assert (problem.kind, problem.code) == ("server", "ServiceUnavailable")
    assert ccc_server.calls == 3


def test_one_attempt_means_no_retry(ccc_server, make_service):
    ccc_server.fail_next("Throttling.User", 1)
    assert failure(make_service(CCC_MAX_ATTEMPTS="1")).kind == "throttled"
    assert ccc_server.calls == 1


def test_a_client_error_is_not_retried(ccc_server, service):
    ccc_server.fail_next("Forbidden", 3)
    assert failure(service).kind == "permission"
    assert ccc_server.calls == 1


def test_a_hanging_ccc_times_out(ccc_server, make_service):
    ccc_server.fail_next("hang", 2)
    problem = failure(make_service(CCC_MAX_ATTEMPTS="2", CCC_READ_TIMEOUT_SECONDS="0.5"))
    assert problem.kind == "timeout"
    assert ccc_server.calls == 2  # a timeout is retried like any network failure


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_refused_is_unreachable(make_service):
    problem = failure(make_service(endpoint=f"127.0.0.1:{closed_port()}", CCC_MAX_ATTEMPTS="2"))
    assert problem.kind == "unreachable"
    assert problem.request_id == ""


@pytest.mark.parametrize("fault", ["malformed", "no-data", "wrong-shape"])
def test_an_unreadable_answer_is_malformed(ccc_server, make_service, fault):
    ccc_server.fail_next(fault)
    assert failure(make_service(CCC_MAX_ATTEMPTS="1")).kind == "malformed"


@pytest.mark.parametrize("fault", ["close", "reset"])
def test_a_connection_dropped_without_an_answer_is_retried_invisibly(ccc_server, service, fault):
    ccc_server.fail_next(fault)
    assert numbers(service.page(Query("ccc-test"))) == expected_numbers(ccc_server)[:10]
    assert ccc_server.calls == 2


@pytest.mark.parametrize("fault", ["close", "reset"])
def test_connections_dropped_on_every_attempt_are_explained(ccc_server, make_service, fault):
    ccc_server.fail_next(fault, 3)
    problem = failure(make_service(CCC_MAX_ATTEMPTS="3"))
    assert (problem.kind, problem.request_id) == ("dropped", "")
    assert ccc_server.calls == 3


# --- odd answers ----------------------------------------------------------------------------------


def test_unexpected_fields_and_types_are_read_leniently(ccc_server, service):
    ccc_server.fail_next("unexpected-fields")
    page = service.page(Query("ccc-test"))
    records = ccc_server.instances["ccc-test"]
    assert numbers(page) == [record["Number"] for index, record in enumerate(records[:10]) if index % 4 != 3]
    assert page.total == len(records)  # TotalCount came as a string
    first, raw = page.numbers[0], records[0]
    assert (first.active, first.city, first.province, first.tags, first.skill_groups) == (None, "", "510000", "", ())
    assert (first.usage, first.contact_flow_name, first.created_at) == (raw["Usage"], raw["ContactFlowName"],
                                                                        int(raw["CreateTime"]) // 1000)


def test_items_without_a_number_leave_gaps_so_no_row_shows_twice(ccc_server, make_service):
    ccc_server.fail_next("unexpected-fields", 4)  # every API page of 100: pages of 7 rows straddle them
    shown = [n for page in walk(make_service(NUMBERS_ROWS_PER_PAGE="7"), Query("ccc-test")) for n in numbers(page)]
    assert shown == [number for index, number in enumerate(expected_numbers(ccc_server)) if index % 100 % 4 != 3]
    assert ccc_server.calls == 4


def test_long_values_are_cut_to_what_is_worth_keeping(ccc_server, service):
    ccc_server.fail_next("long-values")  # 10,000 characters in every text field
    first, raw = service.page(Query("ccc-test")).numbers[0], ccc_server.instances["ccc-test"][0]
    texts = [first.number, first.city, first.contact_flow_name, first.tags, first.skill_groups[0].display_name]
    assert {len(text) for text in texts} == {MAX_TEXT_KEPT} and all(text.endswith("…") for text in texts)
    assert first.number.startswith(raw["Number"] * 2) and LONG_TEXT_LENGTH > MAX_TEXT_KEPT


def test_non_ascii_arrives_intact(ccc_server, service):
    ccc_server.fail_next("non-ascii")
    first = service.page(Query("ccc-test")).numbers[0]
    assert first.number == f"{ccc_server.instances['ccc-test'][0]['Number']} {NON_ASCII_TEXT}"
    texts = [first.province, first.city, first.provider, first.contact_flow_name, first.user_id, first.tags,
             *(text for group in first.skill_groups for text in (group.name, group.display_name))]
    assert all(text.endswith(NON_ASCII_TEXT) for text in texts)


@pytest.mark.parametrize(("data", "expected"), [
    ({"TotalCount": 3, "List": None}, (3, 0)),
    ({"TotalCount": "12", "List": [{"Number": "1"}, "not an item", None, {"Number": ["2"]}]}, (12, 1)),
    ({"TotalCount": -5, "List": []}, (0, 0)),
])
def test_what_a_lenient_reader_still_reads(data, expected):
    found = to_api_page({"Data": data})
    assert (found.total, len(found.numbers)) == expected
    assert len(found.rows) == len(data["List"] or [])


@pytest.mark.parametrize("body", [
    None, "OK", {"Data": []}, {"Data": {"List": []}}, {"Data": {"TotalCount": True, "List": []}},
    {"Data": {"TotalCount": "１２", "List": []}}, {"Data": {"TotalCount": 1, "List": "08330001"}},
])
def test_what_no_reader_can_page_through(body):
    with pytest.raises(MalformedResponse):
        to_api_page(body)


@pytest.mark.parametrize(("value", "active"), [(True, True), ("FALSE", False), ("yes", None), (1, None), (None, None)])
def test_active_is_a_boolean_or_unknown(value, active):
    assert to_api_page({"Data": {"TotalCount": 1, "List": [{"Number": "1", "Active": value}]}}).numbers[0].active is active


ODD_FLOW = "Call timed out"


@pytest.fixture(scope="module")
def odd_server() -> Iterator[CccServer]:
    """An instance in ASCII whose flows say "timed out" and whose first two CreateTimes are no dates."""
    ascii_only = {"ContactFlowName": ODD_FLOW, "Province": "", "City": "", "SkillGroups": []}
    records = [{**record, **ascii_only} for record in make_numbers("ccc-odd", 3, seed=5)]
    records[0]["CreateTime"], records[1]["CreateTime"] = "9" * 20, "１６０９４５９２０００００"  # too late; full-width digits
    server = CccServer({"ccc-odd": records}).start()
    yield server
    server.stop()


def test_a_broken_answer_that_says_timed_out_is_malformed_not_a_timeout(odd_server, make_service):
    odd_server.fail_next("malformed")
    assert failure(make_service(endpoint=odd_server.endpoint, CCC_MAX_ATTEMPTS="1"), Query("ccc-odd")).kind == "malformed"


def test_create_times_that_are_no_date_are_left_out(odd_server, make_service):
    page = make_service(endpoint=odd_server.endpoint).page(Query("ccc-odd"))
    created = int(odd_server.instances["ccc-odd"][2]["CreateTime"]) // 1000
    assert [number.created_at for number in page.numbers] == [None, None, created]
    assert {number.contact_flow_name for number in page.numbers} == {ODD_FLOW}


# --- documented errors ----------------------------------------------------------------------------

KINDS = {
    "Parameter.Enumeration": "request", "Parameter.Maximum": "request", "Parameter.Minimum": "request",
    "Parameter.Empty": "config", "Parameter.Null": "config", "NotExists.InstanceId": "config",
    "InvalidAccessKeyId.NotFound": "auth", "InvalidAccessKeyId.Inactive": "auth", "SignatureDoesNotMatch": "auth",
    "Forbidden.RAM": "permission", "NoPermission": "permission", "Forbidden": "permission",
    "Throttling": "throttled", "Throttling.User": "throttled", "Throttling.Api": "throttled",
    "InternalError": "server", "ServiceUnavailable": "server",
}


@pytest.mark.parametrize(("code", "kind"), sorted(KINDS.items()))
def test_each_documented_error_reaches_the_user_with_its_request_id(ccc_server, make_service, code, kind):
    ccc_server.fail_next(code)
    problem = failure(make_service(CCC_MAX_ATTEMPTS="1"))
    assert (problem.kind, problem.code) == (kind, code)
    assert UUID_RE.match(problem.request_id)


def test_wrong_secret(ccc_server, make_service):
    problem = failure(make_service(access_key=(SANDBOX_ACCESS_KEY_ID, "not-the-secret")))
    assert (problem.kind, problem.code) == ("auth", "SignatureDoesNotMatch")
    assert problem.request_id


def test_unknown_access_key(make_service):
    problem = failure(make_service(access_key=("nobody", SANDBOX_ACCESS_KEY_SECRET)))
    assert (problem.kind, problem.code) == ("auth", "InvalidAccessKeyId.NotFound")


def test_unknown_instance_names_the_endpoint_asked(ccc_server, make_service):
    problem = failure(make_service(CCC_REGION_ID="cn-hangzhou"), Query("ccc-nowhere"))
    assert (problem.kind, problem.code) == ("config", "NotExists.InstanceId")
    assert "`ccc-nowhere`" in problem.message and "cn-hangzhou" in problem.message and ccc_server.endpoint in problem.message


def test_a_failure_is_the_answer_for_the_error_cache_seconds_then_ccc_is_asked_again(ccc_server, make_service):
    service = make_service(NUMBERS_ERROR_CACHE_SECONDS="0.5")
    ccc_server.fail_next("Forbidden")
    assert failure(service).code == "Forbidden"
    assert failure(service).code == "Forbidden"  # remembered: CCC is not asked
    assert ccc_server.calls == 1
    time.sleep(0.6)
    assert numbers(service.page(Query("ccc-test"))) == expected_numbers(ccc_server)[:10]
    assert ccc_server.calls == 2


def test_an_error_cache_of_zero_seconds_asks_ccc_again_at_once(ccc_server, make_service):
    service = make_service(NUMBERS_ERROR_CACHE_SECONDS="0")
    ccc_server.fail_next("Forbidden")
    failure(service)
    assert numbers(service.page(Query("ccc-test"))) == expected_numbers(ccc_server)[:10]
    assert ccc_server.calls == 2


def test_a_remembered_failure_is_only_that_lookups(ccc_server, service):
    ccc_server.fail_next("Forbidden")
    failure(service, Query("ccc-test", pattern="0833"))
    assert service.page(Query("ccc-test", pattern="021")).total > 0
    assert ccc_server.calls == 2


@pytest.mark.parametrize("value", ["-1", "301", "soon"])
def test_a_malformed_error_cache_setting_is_named_in_one_line(value):
    with pytest.raises(ConfigError) as refused:
        load_settings({"NUMBERS_ERROR_CACHE_SECONDS": value}, dotenv=False)
    assert str(refused.value).startswith("NUMBERS_ERROR_CACHE_SECONDS: ") and "\n" not in str(refused.value)


def test_the_error_cache_defaults_to_five_seconds():
    assert load_settings({}, dotenv=False).error_cache_seconds == 5


# --- concurrency and credentials ------------------------------------------------------------------



def pages_at_once(service: NumberService, query: Query, people: int) -> list[Page]:
    """`people` threads ask for the same page at the same instant; the pages they got."""
    start = threading.Barrier(people)
    pages: list[Page] = []

    def look() -> None:
        start.wait()
        pages.append(service.page(query))

    threads = [threading.Thread(target=look) for _ in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return pages


def test_concurrent_identical_misses_make_one_call(ccc_server, service):
    ccc_server.latency = 0.3  # keep the first call in flight while the others arrive
    pages = pages_at_once(service, Query("ccc-test", pattern="0833"), people=8)
    assert len(pages) == 8 and all(page == pages[0] for page in pages)
    assert ccc_server.calls == 1


def failures_at_once(service: NumberService, query: Query, people: int) -> list[Problem]:
    """`people` threads ask for the same page at the same instant while CCC fails; the problems they were told."""
    start = threading.Barrier(people)
    problems: list[Problem] = []

    def look() -> None:
        start.wait()
        problems.append(failure(service, query))

    threads = [threading.Thread(target=look) for _ in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return problems


@pytest.mark.parametrize("attempts", [1, 3])
def test_identical_lookups_during_an_outage_share_one_call(ccc_server, make_service, attempts):
    """The issue's numbers: 5 identical lookups while CCC answers 503 after 0.5 s cost 5 calls, one after another."""
    service = make_service(CCC_MAX_ATTEMPTS=str(attempts), CCC_READ_TIMEOUT_SECONDS="3", NUMBERS_ERROR_CACHE_SECONDS="60")
    ccc_server.latency = 0.5
    ccc_server.fail_next("ServiceUnavailable", 20)
    problems = failures_at_once(service, Query("ccc-test", pattern="0833"), people=5)
    assert [(p.kind, p.code) for p in problems] == [("server", "ServiceUnavailable")] * 5
    assert ccc_server.calls == attempts  # one lookup's attempts, shared by all five
    assert failure(service, Query("ccc-test", pattern="0833")).code == "ServiceUnavailable"  # a click a moment later
    assert ccc_server.calls == attempts


def test_a_hanging_ccc_costs_one_timeout_for_everyone_waiting(ccc_server, make_service):
    service = make_service(CCC_MAX_ATTEMPTS="1", CCC_READ_TIMEOUT_SECONDS="0.5")
    ccc_server.fail_next("hang", 10)
    problems = failures_at_once(service, Query("ccc-test", pattern="0833", page=2), people=10)
    assert {p.kind for p in problems} == {"timeout"} and len(problems) == 10
    assert ccc_server.calls == 1


# alibabacloud_credentials reads ALIBABA_CLOUD_* and HOME once, when it is imported, so a variable set later
# (monkeypatch.setenv in this process) never reaches the default chain. These run a fresh interpreter instead.

LOOKUP_SCRIPT = """
import json
import {first_import}
from bot.config import load_settings
settings = load_settings()  # reads .env from the working directory
from bot.filters import Query, decode_value, encode_value
from bot.formatters import STATIC_EXAMPLES, page_message
from bot.handlers import Listeners
from bot.service import LookupFailed, NumberService, build_client
service = NumberService(build_client(settings), settings)
try:
    print(json.dumps({{"numbers": [n.number for n in service.page(Query(settings.instance_id)).numbers]}}))
except LookupFailed as e:
    print(json.dumps({{"kind": e.problem.kind, "code": e.problem.code}}))
"""


def lookup_in_a_new_process(cwd: Path, server: CccServer, first_import: str = "bot.config", **env: str) -> dict[str, Any]:
    """One lookup with build_client(settings) (no access_key) in a fresh Python, in `cwd`, with only `env`.

    By default load_settings() runs before the SDK is imported, as in `python -m bot`; `first_import` changes that.
    """
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "PYTHONPATH": str(ROOT),
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true", "CCC_ENDPOINT": server.endpoint, "CCC_PROTOCOL": "http",
            "CCC_INSTANCE_ID": "ccc-test", "CCC_MAX_ATTEMPTS": "1", "CCC_READ_TIMEOUT_SECONDS": "2"}
    result = subprocess.run([sys.executable, "-c", LOOKUP_SCRIPT.format(first_import=first_import)], cwd=cwd,
                            env={**base, **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_default_credential_chain_reads_the_environment(ccc_server, tmp_path):
    answer = lookup_in_a_new_process(tmp_path, ccc_server, ALIBABA_CLOUD_ACCESS_KEY_ID=SANDBOX_ACCESS_KEY_ID,
                                     ALIBABA_CLOUD_ACCESS_KEY_SECRET=SANDBOX_ACCESS_KEY_SECRET)
    assert answer == {"numbers": expected_numbers(ccc_server)[:10]}


def test_default_credential_chain_really_uses_those_variables(ccc_server, tmp_path):
    answer = lookup_in_a_new_process(tmp_path, ccc_server, ALIBABA_CLOUD_ACCESS_KEY_ID=SANDBOX_ACCESS_KEY_ID,
                                     ALIBABA_CLOUD_ACCESS_KEY_SECRET="some-other-secret")
    assert answer == {"kind": "auth", "code": "SignatureDoesNotMatch"}


def test_default_credential_chain_reads_the_dotenv_file(ccc_server, tmp_path):
    (tmp_path / ".env").write_text(f"ALIBABA_CLOUD_ACCESS_KEY_ID={SANDBOX_ACCESS_KEY_ID}\n"
                                   f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={SANDBOX_ACCESS_KEY_SECRET}\n")
    assert lookup_in_a_new_process(tmp_path, ccc_server) == {"numbers": expected_numbers(ccc_server)[:10]}


def test_dotenv_credentials_work_in_the_gunicorn_import_order(ccc_server, tmp_path):
    """gunicorn (the Procfile) imports bot.wsgi first and calls load_settings() later, in the worker."""
    (tmp_path / ".env").write_text(f"ALIBABA_CLOUD_ACCESS_KEY_ID={SANDBOX_ACCESS_KEY_ID}\n"
                                   f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={SANDBOX_ACCESS_KEY_SECRET}\n")
    assert lookup_in_a_new_process(tmp_path, ccc_server, first_import="bot.wsgi") == {"numbers": expected_numbers(ccc_server)[:10]}


def test_no_credentials_anywhere_is_an_auth_problem(ccc_server, tmp_path):
    assert lookup_in_a_new_process(tmp_path, ccc_server)["kind"] == "auth"


# --- row filters ----------------------------------------------------------------------------------


def where(server: CccServer, keep: Callable[[dict[str, Any]], bool], instance: str = "ccc-test") -> list[str]:
    """The server's own numbers that `keep` accepts, in the server's order."""
    return [n["Number"] for n in server.instances[instance] if keep(n)]


def group_texts(item: dict[str, Any]) -> str:
    return " ".join(f"{g['Name']} {g['DisplayName']}" for g in item["SkillGroups"]).lower()


ROW_FILTER_CASES = [  # (Query keywords, the same test written on the server's data)
    ({"row_filters": (("province", "四川"),)}, lambda n: n["Province"] == "四川"),
    ({"row_filters": (("city", "乐山"),)}, lambda n: n["City"] == "乐山"),
    ({"row_filters": (("provider", "ALICOM"),)}, lambda n: n["Provider"] == "alicom"),
    ({"row_filters": (("group", "vip"),)}, lambda n: "vip" in group_texts(n)),
    ({"row_filters": (("group", "售后"),)}, lambda n: "售后" in group_texts(n)),
    ({"row_filters": (("tag", "m1"),)}, lambda n: n["Tags"] == "M1"),
    ({"row_filters": (("flow", "ivr"),)}, lambda n: "IVR" in n["ContactFlowName"]),
    ({"pattern": "0833", "usage": "Inbound", "row_filters": (("city", "乐山"), ("group", "VIP 热线"))},
     lambda n: "0833" in n["Number"] and n["Usage"] == "Inbound" and n["City"] == "乐山" and "VIP 热线" in
     [g["DisplayName"] for g in n["SkillGroups"]]),
    ({"active": False, "row_filters": (("provider", "cmcc"), ("tag", "营销"))},
     lambda n: not n["Active"] and n["Provider"] == "cmcc" and n["Tags"] == "营销"),
]


@pytest.mark.parametrize(("filters", "keep"), ROW_FILTER_CASES)
def test_row_filters_page_through_every_match_once_with_exact_counts(ccc_server, service, filters, keep):
    expected = where(ccc_server, keep)
    assert expected  # the sample data holds some of each
    pages = walk(service, Query("ccc-test", **filters))
    assert [n for page in pages for n in numbers(page)] == expected
    assert {(page.total, page.page_count, page.searched is not None) for page in pages} == {
        (len(expected), -(-len(expected) // 10), True)}
    assert not pages[0].truncated


def test_an_agent_is_found_by_its_whole_id_or_its_name(ccc_server, service):
    agent = next(n["UserId"] for n in ccc_server.instances["ccc-test"] if n["UserId"])
    expected = where(ccc_server, lambda n: n["UserId"] == agent)
    assert numbers(service.page(Query("ccc-test", row_filters=(("agent", agent.upper()),)))) == expected[:10]
    assert numbers(service.page(Query("ccc-test", row_filters=(("agent", agent.partition("@")[0]),)))) == expected[:10]


def test_a_filtered_walk_fetches_each_api_page_once_then_pages_from_cache(ccc_server, service):
    query = Query("ccc-test", row_filters=(("province", "四川"),))
    service.page(query)
    assert ccc_server.calls == 4  # 400 numbers: four API pages of 100
    walk(service, query)
    service.page(Query("ccc-test", row_filters=(("tag", "M1"),)))  # the same API pages, other row filters
    service.page(Query("ccc-test", page=31))  # and the unfiltered lookup too
    assert ccc_server.calls == 4


def test_a_row_filter_with_no_match_is_an_empty_first_page(service):
    page = service.page(Query("ccc-test", page=3, row_filters=(("city", "拉萨"),)))
    assert (page.total, page.numbers, page.query.page, page.clamped, page.has_next) == (0, (), 1, False, False)


def test_a_filtered_page_past_the_end_shows_the_last_page(ccc_server, service):
    expected = where(ccc_server, lambda n: n["Tags"] == "VIP")
    page = service.page(Query("ccc-test", page=500, row_filters=(("tag", "VIP"),)))
    assert page.clamped and numbers(page) == expected[(page.query.page - 1) * 10:]


def test_a_failed_api_page_fails_the_filtered_lookup_and_is_not_cached(ccc_server, make_service):
    service = make_service(NUMBERS_ERROR_CACHE_SECONDS="0")
    ccc_server.fail_next("Forbidden")
    query = Query("ccc-test", row_filters=(("province", "四川"),))
    assert failure(service, query).code == "Forbidden"
    assert numbers(service.page(query)) == where(ccc_server, lambda n: n["Province"] == "四川")[:10]


def test_concurrent_identical_filtered_misses_fetch_each_api_page_once(ccc_server, service):
    ccc_server.latency = 0.2
    query = Query("ccc-test", row_filters=(("group", "vip"),))
    pages = pages_at_once(service, query, people=6)
    assert len(pages) == 6 and all(page == pages[0] for page in pages)
    assert ccc_server.calls == 4


def test_the_sample_for_help_is_the_cached_first_api_page(ccc_server, service):
    assert service.cached_sample("ccc-test") == ()
    service.page(Query("ccc-test"))
    assert [n.number for n in service.cached_sample("ccc-test")] == [n["Number"] for n in ccc_server.instances["ccc-test"][:100]]
    assert ccc_server.calls == 1


VIP = SkillGroup("vip@ccc-test", "vip", "VIP 热线")


@pytest.mark.parametrize(("number", "row_filters", "expected"), [
    (PhoneNumber("1", province="四川"), [("province", "四川")], True),
    (PhoneNumber("1", province="四川省"), [("province", "四川")], False),  # exact, not a substring
    (PhoneNumber("1", provider="AliCom"), [("provider", "ALICOM")], True),  # any case
    (PhoneNumber("1", provider="alicom"), [("provider", "ａｌｉｃｏｍ")], True),  # full-width letters
    (PhoneNumber("1", skill_groups=(VIP,)), [("group", "vip 热")], True),  # a substring of the display name
    (PhoneNumber("1", skill_groups=(VIP,)), [("group", "VIP@")], False),  # not of the ID
    (PhoneNumber("1", contact_flow_name="售后 IVR"), [("flow", "ivr")], True),
    (PhoneNumber("1", tags="M1,VIP"), [("tag", "vip")], True),  # one of several tags
    (PhoneNumber("1", tags="M1 营销"), [("tag", "营销")], True),
    (PhoneNumber("1", tags="M10"), [("tag", "M1")], False),
    (PhoneNumber("1", user_id="agent07@ccc-test"), [("agent", "agent07")], True),
    (PhoneNumber("1", user_id="agent07@ccc-test"), [("agent", "agent0")], False),
    (PhoneNumber("1"), [("agent", "")], False),
    (PhoneNumber("1", province="四川", city="成都"), [("province", "四川"), ("city", "乐山")], False),  # all must hold
])
def test_matching_rules(number, row_filters, expected):
    assert matches(number, row_filters) is expected


def test_help_never_waits_on_ccc_and_uses_examples_a_lookup_cached(ccc_server, service):
    listeners = Listeners(service, settings_for(ccc_server.endpoint))
    ccc_server.fail_next("hang")
    assert listeners.examples() == STATIC_EXAMPLES
    assert ccc_server.calls == 0
    ccc_server.clear_faults()
    service.page(Query("ccc-test"))
    live = listeners.examples()
    assert live != STATIC_EXAMPLES and live[0] == "0833 inbound" and ccc_server.calls == 1


def test_a_number_on_a_cached_page_is_found_without_a_ccc_call(ccc_server, service):
    shown = service.page(Query("ccc-test", pattern="0833", usage="Inbound", page=2))
    wanted = shown.numbers[-1]
    calls = ccc_server.calls
    assert service.cached_number("ccc-test", wanted.number) == wanted
    assert ccc_server.calls == calls


def test_a_number_no_cached_page_holds_is_not_found_and_not_fetched(ccc_server, service):
    inbound = service.page(Query("ccc-test", usage="Inbound")).numbers[0].number
    outbound = expected_numbers(ccc_server, usage="Outbound")[0]
    demo = expected_numbers(ccc_server, instance="ccc-demo")[0]
    calls = ccc_server.calls
    assert service.cached_number("ccc-test", inbound) is not None and service.cached_number("ccc-demo", inbound) is None
    assert service.cached_number("ccc-test", outbound) is None
    assert service.cached_number("ccc-demo", demo) is None and service.cached_number("ccc-test", demo) is None
    assert ccc_server.calls == calls


def test_a_number_is_not_found_in_pages_past_their_ttl(ccc_server, make_service):
    service = make_service(NUMBERS_CACHE_TTL_SECONDS="0")
    first = service.page(Query("ccc-test")).numbers[0]
    assert service.cached_number("ccc-test", first.number) is None


# --- a CCC whose numbers change while they are read -------------------------------------------------


@pytest.fixture(scope="module")
def _changing_server() -> Iterator[CccServer]:
    server = CccServer({}).start()
    yield server
    server.stop()


@pytest.fixture
def changing(_changing_server) -> Iterator[CccServer]:
    """A sandbox CCC of its own whose numbers the test changes: the sample data afresh for each test."""
    _changing_server.instances = sample_instances()
    _changing_server.clear_faults()
    _changing_server.calls = 0
    yield _changing_server
    _changing_server.clear_faults()


def now_listed(server: CccServer) -> list[str]:
    return [n["Number"] for n in server.instances["ccc-test"]]


def test_an_export_after_numbers_were_added_has_each_number_once(changing, make_service):
    """The issue's case: a list is shown, 5 numbers are added in CCC, then Export reads within the cache's TTL."""
    service = make_service(endpoint=changing.endpoint)
    service.page(Query("ccc-test"))  # API page 1 cached: 400 numbers
    changing.add_numbers("ccc-test", 5, at=0)
    walk = service.walk(Query("ccc-test"))
    searched, exported = walk.searched, walk.numbers
    assert (searched, [n.number for n in exported]) == (405, now_listed(changing))


def test_a_summary_count_after_numbers_were_removed_is_exact_and_settled(changing, make_service):
    service = make_service(endpoint=changing.endpoint)
    service.page(Query("ccc-test"))
    changing.remove_numbers("ccc-test", 3, at=0)
    walk = service.walk(Query("ccc-test", row_filters=(("province", "四川"),)))
    assert [n.number for n in walk.numbers] == where(changing, lambda n: n["Province"] == "四川")
    assert (walk.searched, walk.unsettled) == (397, False)


def test_a_walk_while_ccc_changes_shows_no_number_twice_nor_misses_one_that_stayed(changing, make_service):
    before = set(now_listed(changing))
    changing.keep_changing("ccc-test", added=2, removed=3, calls=4)  # before each call of the first reading
    walk = make_service(endpoint=changing.endpoint).walk(Query("ccc-test"))
    shown = [n.number for n in walk.numbers]
    assert shown == now_listed(changing) and before & set(now_listed(changing)) <= set(shown)
    assert len(shown) == 400 - 4 and not walk.unsettled
    assert changing.calls == 4 + 4  # read again once: the first reading's TotalCounts disagreed


def test_a_walk_while_ccc_keeps_changing_says_so_and_shows_no_number_twice(changing, make_service):
    ever = set(now_listed(changing))
    changing.keep_changing("ccc-test", added=2, removed=1)  # before every call: 2 numbers added and 1 removed
    walk = make_service(endpoint=changing.endpoint).walk(Query("ccc-test"))
    shown = [n.number for n in walk.numbers]
    ever |= set(changing.added_numbers)
    assert len(shown) == len(set(shown)) and set(shown) <= ever
    assert walk.unsettled  # after three readings
    summary = summary_message(summarize(Query("ccc-test"), walk.searched, walk.numbers, unsettled=walk.unsettled))
    assert "CCC changed while counting; these figures may be off by a few" in json.dumps(summary)


def test_a_page_of_seven_rows_across_two_api_pages_read_apart_is_read_again_together(changing, make_service):
    service = make_service(endpoint=changing.endpoint, NUMBERS_ROWS_PER_PAGE="7")
    service.page(Query("ccc-test"))  # API page 1 cached
    changing.add_numbers("ccc-test", 5, at=0)
    page = service.page(Query("ccc-test", page=15))  # rows 99-105: API page 1 (cached, 400) and 2 (now, 405)
    assert numbers(page) == now_listed(changing)[98:105] and page.total == 405 and not page.moved


def next_page(service: NumberService, shown: Page) -> Page:
    """What a click on the page's Next button shows: the query it carries, as the button's value brings it back."""
    return service.page(decode_value(encode_value(shown.query.at_page(shown.query.page + 1).next_to(
        "after", shown.numbers[-1].number)), allowed_instances=("ccc-test",), max_page=1000))


def prev_page(service: NumberService, shown: Page) -> Page:
    return service.page(decode_value(encode_value(shown.query.at_page(shown.query.page - 1).next_to(
        "before", shown.numbers[0].number)), allowed_instances=("ccc-test",), max_page=1000))


def test_next_on_a_process_whose_cache_is_older_continues_right_after_the_page_shown(changing, make_service):
    """Two processes: one cached rows 101-200 before 5 numbers were added; the user's page 10 came from the other."""
    stale, fresh = make_service(endpoint=changing.endpoint), make_service(endpoint=changing.endpoint)
    stale.page(Query("ccc-test", page=11))
    changing.add_numbers("ccc-test", 5, at=0)
    shown = fresh.page(Query("ccc-test", page=10))
    following = next_page(stale, shown)
    assert numbers(shown) + numbers(following) == now_listed(changing)[90:110]
    assert not following.moved


def test_prev_on_a_cache_read_before_a_change_of_equal_count_is_read_again(changing, make_service):
    """One number removed before row 11 and one added after row 21: TotalCount is unchanged, but rows 11-21 moved."""
    stale, fresh = make_service(endpoint=changing.endpoint), make_service(endpoint=changing.endpoint)
    stale.page(Query("ccc-test"))
    changing.remove_numbers("ccc-test", 1, at=3)
    changing.add_numbers("ccc-test", 1, at=25)
    shown = fresh.page(Query("ccc-test", page=3))
    previous = prev_page(stale, shown)
    assert numbers(previous) + numbers(shown) == now_listed(changing)[10:30]
    assert not previous.moved


def test_next_from_the_cache_stays_in_the_reading_the_user_saw(changing, make_service):
    service = make_service(endpoint=changing.endpoint)
    shown = service.page(Query("ccc-test", page=4))
    listed = now_listed(changing)
    changing.add_numbers("ccc-test", 2, at=0)
    following = next_page(service, shown)
    assert numbers(following) == listed[40:50] and not following.moved


def test_next_after_ccc_changed_since_the_page_shown_says_rows_moved(changing, make_service):
    service = make_service(endpoint=changing.endpoint, NUMBERS_CACHE_TTL_SECONDS="0")
    shown = service.page(Query("ccc-test", page=4))
    changing.add_numbers("ccc-test", 2, at=0)
    following = next_page(service, shown)
    assert following.moved and numbers(following) == now_listed(changing)[40:50]
    assert "may repeat or skip a few" in json.dumps(page_message(following))
    assert not next_page(service, following).moved  # from there on, one reading again


def test_next_through_a_settled_result_reads_nothing_twice(changing, make_service):
    service = make_service(endpoint=changing.endpoint)
    pages = [service.page(Query("ccc-test"))]
    while pages[-1].has_next:
        pages.append(next_page(service, pages[-1]))
    assert [n for page in pages for n in numbers(page)] == now_listed(changing)
    assert changing.calls == 4 and not any(page.moved for page in pages)


def test_a_row_filtered_next_after_ccc_changed_says_rows_moved(changing, make_service):
    service = make_service(endpoint=changing.endpoint, NUMBERS_CACHE_TTL_SECONDS="0")
    shown = service.page(Query("ccc-test", row_filters=(("province", "四川"),)))
    first = shown.numbers[0].number
    changing.remove_numbers("ccc-test", 1, at=now_listed(changing).index(first))
    assert next_page(service, shown).moved


def test_old_buttons_without_an_anchor_still_page(changing, make_service):
    value = json.dumps({"v": 2, "i": "ccc-test", "q": "", "u": None, "a": None, "p": 2, "f": {}})
    query = decode_value(value, allowed_instances=("ccc-test",), max_page=1000)
    page = make_service(endpoint=changing.endpoint).page(query)
    assert numbers(page) == now_listed(changing)[10:20] and not page.moved
# --- every answer CCC's gateway can give ----------------------------------------------------------


@pytest.mark.parametrize("fault", ["html-502", "html-503"])
def test_a_gateway_error_page_is_retried_like_any_5xx(ccc_server, service, fault):
    ccc_server.fail_next(fault, 2)
    assert numbers(service.page(Query("ccc-test"))) == expected_numbers(ccc_server)[:10]
    assert ccc_server.calls == 3


def test_gateway_error_pages_on_every_attempt_are_ccc_having_trouble(ccc_server, make_service):
    ccc_server.fail_next("html-502", 3)
    problem = failure(make_service(CCC_MAX_ATTEMPTS="3"))
    assert problem.kind == "server" and "HTTP 502" in problem.message and "Try again in a minute" in problem.message
    assert ccc_server.calls == 3


def test_an_answer_that_is_not_json_is_retried(ccc_server, service):
    ccc_server.fail_next("malformed")  # a 200 whose JSON is cut in half: whatever garbled it may not garble the next
    assert numbers(service.page(Query("ccc-test"))) == expected_numbers(ccc_server)[:10]
    assert ccc_server.calls == 2


def test_a_reused_nonce_is_retried_with_a_fresh_one(ccc_server, service):
    ccc_server.fail_next("SignatureNonceUsed")
    assert numbers(service.page(Query("ccc-test"))) == expected_numbers(ccc_server)[:10]
    assert ccc_server.calls == 2


# code -> what the message must say: the cause and what to do about it
GATEWAY_MESSAGES = {
    "InvalidTimeStamp.Expired": ("clock", "ntp"),
    "IncompleteSignature": ("sign", "sdk"),
    "InvalidSecurityToken.Expired": ("sts", "expired"),
    "InvalidSecurityToken.Malformed": ("sts", "alibaba_cloud_security_token"),
    "InvalidSecurityToken.MismatchWithAccessKey": ("sts", "same"),
    "MissingParameter": ("missing", "sdk"),
    "InvalidParameter": ("not valid", "sdk"),
    "InvalidAction.NotFound": ("listphonenumbers", "ccc_endpoint"),
    "InvalidVersion": ("2020-07-01", "ccc_endpoint"),
}
NAMES_THE_ENDPOINT = ("IncompleteSignature", "MissingParameter", "InvalidParameter", "InvalidAction.NotFound", "InvalidVersion")


@pytest.mark.parametrize("code", sorted(GATEWAY_MESSAGES))
def test_each_gateway_refusal_says_what_to_do_without_a_retry(ccc_server, service, code):
    ccc_server.fail_next(code)
    problem = failure(service)
    assert problem.code == code and problem.kind not in ("unknown", "bug") and UUID_RE.match(problem.request_id)
    assert all(phrase in problem.message.lower() for phrase in GATEWAY_MESSAGES[code]), problem.message
    assert (f"`{ccc_server.endpoint}`" in problem.message) == (code in NAMES_THE_ENDPOINT)
    assert ccc_server.calls == 1


def test_a_wait_ccc_asks_for_is_honoured_up_to_the_cap():
    options = retry_options(3)

    def wait_for(retry_after_ms: int) -> int:
        throttled = ThrottlingException(status_code=400, code="Throttling.User", retry_after=retry_after_ms)
        return DaraCore.get_backoff_time(options, RetryPolicyContext(retries_attempted=1, exception=throttled))

    assert wait_for(4500) == 4500  # not cut to the 2 s of the backoff
    assert wait_for(3_600_000) == RETRY_AFTER_CAP_SECONDS * 1000


def test_throttling_with_a_retry_after_is_retried_after_that_wait(ccc_server, service):
    ccc_server.retry_after_ms = 2500
    ccc_server.fail_next("Throttling.User")
    try:
        assert numbers(service.page(Query("ccc-test"))) == expected_numbers(ccc_server)[:10]
    finally:
        ccc_server.retry_after_ms = None
    first, second = ccc_server.call_times[-2:]
    assert second - first >= 2.5  # a wait the server asked for, measured by the server: not a speed
