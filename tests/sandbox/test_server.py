"""bot.sandbox: the CCC-compatible server's own API behaviour, and its sample data."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import re
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from alibabacloud_ccc20200701 import models as ccc_models
from alibabacloud_ccc20200701.client import Client as CccClient
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.utils import Utils
from darabonba.request import DaraRequest
from darabonba.runtime import RuntimeOptions

from bot.config import load_settings
from bot.sandbox import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, CccServer, sample_instances
from bot.sandbox.data import FIRST_ADDED_MS, LAST_ADDED_MS, make_numbers
from bot.sandbox.server import FAULTS, GROUP_TEXT_FIELDS, LONG_TEXT_LENGTH, NON_ASCII_TEXT, TEXT_FIELDS
from bot.service import build_client

USAGES = {"Inbound", "Outbound", "Bidirection"}


def client_for(server: CccServer) -> CccClient:
    settings = load_settings({"CCC_ENDPOINT": server.endpoint, "CCC_PROTOCOL": "http", "CCC_MAX_ATTEMPTS": "1",
                              "CCC_READ_TIMEOUT_SECONDS": "2"}, dotenv=False)
    return build_client(settings, (SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET))


@pytest.fixture
def client(ccc_server: CccServer) -> CccClient:
    return client_for(ccc_server)


def list_numbers(client: CccClient, **fields: Any) -> Any:
    request = ccc_models.ListPhoneNumbersRequest(**{"instance_id": "ccc-test", **fields})
    return client.list_phone_numbers_with_options(request, RuntimeOptions()).body


def api_error(client: CccClient, **fields: Any) -> ClientException:
    with pytest.raises(ClientException) as caught:
        list_numbers(client, **fields)
    return caught.value


# --- parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "code"), [
    ({"page_size": 101}, "Parameter.Maximum"), ({"page_number": 101}, "Parameter.Maximum"),
    ({"page_size": 0}, "Parameter.Minimum"), ({"page_number": 0}, "Parameter.Minimum"),
    ({"usage": "Sideways"}, "Parameter.Enumeration"), ({"usage": "inbound"}, "Parameter.Enumeration"),
    ({"instance_id": ""}, "Parameter.Empty"), ({"instance_id": None}, "Parameter.Null"),
    ({"instance_id": "ccc-nowhere"}, "NotExists.InstanceId"),
])
def test_documented_parameter_errors(client, fields, code):
    error = api_error(client, **fields)
    assert error.code == code
    assert error.status_code == (404 if code == "NotExists.InstanceId" else 400)
    assert error.data["RequestId"] == error.request_id


def test_page_bounds_are_inclusive(client):
    body = list_numbers(client, page_number=100, page_size=100)
    assert (body.data.page_number, body.data.page_size, body.data.list) == (100, 100, [])


def test_pages_partition_the_instance(client, ccc_server):
    first, second = (list_numbers(client, page_number=n, page_size=100).data for n in (1, 2))
    assert [n.number for n in first.list + second.list] == [n["Number"] for n in ccc_server.instances["ccc-test"][:200]]
    assert first.total_count == len(ccc_server.instances["ccc-test"])


def test_default_page_size_is_20(client):
    assert len(list_numbers(client).data.list) == 20


@pytest.mark.parametrize(("fields", "keep"), [
    ({"search_pattern": "0833"}, lambda n: "0833" in n["Number"]),
    ({"usage": "Outbound"}, lambda n: n["Usage"] == "Outbound"),
    ({"active": False}, lambda n: n["Active"] is False),
    ({"search_pattern": "1", "usage": "Inbound", "active": True},
     lambda n: "1" in n["Number"] and n["Usage"] == "Inbound" and n["Active"]),
])
def test_filters(client, ccc_server, fields, keep):
    expected = [n["Number"] for n in ccc_server.instances["ccc-test"] if keep(n)]
    data = list_numbers(client, page_size=100, **fields).data
    assert data.total_count == len(expected)
    assert [n.number for n in data.list] == expected[:100]


# --- signatures and faults ------------------------------------------------------------------------


def test_an_unsigned_request_is_rejected(ccc_server):
    response = requests.post(f"http://{ccc_server.endpoint}/?Action=ListPhoneNumbers", data={"InstanceId": "ccc-test"}, timeout=5)
    assert response.status_code == 404
    assert response.json()["Code"] == "InvalidAccessKeyId.NotFound"
    assert response.json()["RequestId"]


def test_a_forged_signature_is_rejected(ccc_server):
    headers = acs3_headers(ccc_server)
    signed = ";".join(sorted(headers))
    headers["Authorization"] = f"ACS3-HMAC-SHA256 Credential={SANDBOX_ACCESS_KEY_ID},SignedHeaders={signed},Signature=00"
    response = requests.post(f"http://{ccc_server.endpoint}/", headers=headers, data=FORM, timeout=5)
    assert (response.status_code, response.json()["Code"]) == (400, "SignatureDoesNotMatch")


# --- the gateway's rules for a signed request -----------------------------------------------------

FORM = "InstanceId=ccc-test&PageSize=1"


def acs3_headers(server: CccServer, **overrides: str | None) -> dict[str, str]:
    """The headers the SDK sends with a ListPhoneNumbers call (alibabacloud_tea_openapi do_request), with `overrides`
    (None removes a header)."""
    headers = {
        "host": server.endpoint, "x-acs-version": "2020-07-01", "x-acs-action": "ListPhoneNumbers",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "x-acs-signature-nonce": uuid.uuid4().hex,
        "content-type": "application/x-www-form-urlencoded", "x-acs-content-sha256": hashlib.sha256(FORM.encode()).hexdigest(),
    }
    headers.update(overrides)
    return {name: value for name, value in headers.items() if value is not None}


def signed_post(server: CccServer, headers: dict[str, str], leave_unsigned: tuple[str, ...] = ()) -> requests.Response:
    """POST FORM with `headers`, signed by the SDK's own ACS3 signer over every header but `leave_unsigned`."""
    request = DaraRequest()
    request.method, request.pathname = "POST", "/"
    request.headers = {name: value for name, value in headers.items() if name not in leave_unsigned}
    authorization = Utils.get_authorization(request, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"],
                                            SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET)
    return requests.post(f"http://{server.endpoint}/", headers={**headers, "Authorization": authorization}, data=FORM,
                         timeout=5)


def refusal(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["Code"]


def test_a_request_signed_as_the_sdk_signs_it_is_answered(ccc_server):
    response = signed_post(ccc_server, acs3_headers(ccc_server))
    assert response.status_code == 200, response.text
    assert response.json()["Data"]["TotalCount"] == len(ccc_server.instances["ccc-test"])


@pytest.mark.parametrize("unsigned", ["x-acs-date", "x-acs-signature-nonce", "x-acs-version", "x-acs-action", "host",
                                      "content-type"])
def test_every_x_acs_header_host_and_content_type_must_be_signed(ccc_server, unsigned):
    response = signed_post(ccc_server, acs3_headers(ccc_server), leave_unsigned=(unsigned,))
    assert refusal(response) == (400, "IncompleteSignature")
    assert unsigned in response.json()["Message"]


def test_signing_only_the_payload_hash_is_refused(ccc_server):
    headers = acs3_headers(ccc_server)
    response = signed_post(ccc_server, headers, leave_unsigned=tuple(h for h in headers if h != "x-acs-content-sha256"))
    assert refusal(response) == (400, "IncompleteSignature")


@pytest.mark.parametrize("header", ["x-acs-date", "x-acs-signature-nonce", "x-acs-version", "x-acs-action"])
def test_a_missing_header_is_a_missing_parameter(ccc_server, header):
    response = signed_post(ccc_server, acs3_headers(ccc_server, **{header: None}))
    assert refusal(response) == (400, "MissingParameter")
    assert header in response.json()["Message"]


@pytest.mark.parametrize("date", ["2001-01-01T00:00:00Z", "2999-01-01T00:00:00Z"])
def test_a_date_far_from_now_is_expired(ccc_server, date):
    assert refusal(signed_post(ccc_server, acs3_headers(ccc_server, **{"x-acs-date": date}))) == (400, "InvalidTimeStamp.Expired")


def test_a_date_within_15_minutes_is_on_time(ccc_server):
    fourteen_minutes_slow = (datetime.now(UTC) - timedelta(minutes=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert signed_post(ccc_server, acs3_headers(ccc_server, **{"x-acs-date": fourteen_minutes_slow})).status_code == 200


def test_a_date_that_is_no_date_is_refused(ccc_server):
    response = signed_post(ccc_server, acs3_headers(ccc_server, **{"x-acs-date": "yesterday"}))
    assert refusal(response) == (400, "InvalidTimeStamp.Format")


def test_a_nonce_is_good_once(ccc_server):
    headers = acs3_headers(ccc_server)
    assert signed_post(ccc_server, headers).status_code == 200
    assert refusal(signed_post(ccc_server, headers)) == (400, "SignatureNonceUsed")


def test_a_refused_signature_does_not_use_up_its_nonce(ccc_server):
    headers = acs3_headers(ccc_server)
    forged = {**headers, "Authorization": f"ACS3-HMAC-SHA256 Credential={SANDBOX_ACCESS_KEY_ID},"
                                          f"SignedHeaders={';'.join(sorted(headers))},Signature=00"}
    assert refusal(requests.post(f"http://{ccc_server.endpoint}/", headers=forged, data=FORM, timeout=5))[1] == "SignatureDoesNotMatch"
    assert signed_post(ccc_server, headers).status_code == 200


@pytest.mark.parametrize("version", ["2017-07-05", "2020-07-02"])
def test_another_api_version_is_refused(ccc_server, version):
    assert refusal(signed_post(ccc_server, acs3_headers(ccc_server, **{"x-acs-version": version}))) == (400, "InvalidVersion")


@pytest.mark.parametrize("action", ["ListInstances", "DeletePhoneNumber", "listphonenumbers"])
def test_an_action_it_does_not_serve_is_not_found(ccc_server, action):
    response = signed_post(ccc_server, acs3_headers(ccc_server, **{"x-acs-action": action}))
    assert refusal(response) == (404, "InvalidAction.NotFound")
    assert action in response.json()["Message"]


def test_the_sdk_meets_every_rule(client, ccc_server):
    for _ in range(3):  # a fresh nonce each call
        assert list_numbers(client).data.total_count == len(ccc_server.instances["ccc-test"])


def test_calls_are_counted_and_faults_are_served_in_order(client, ccc_server):
    ccc_server.fail_next("Forbidden")
    ccc_server.fail_next("Throttling.Api")
    assert api_error(client).code == "Forbidden"
    assert api_error(client).code == "Throttling.Api"
    assert list_numbers(client).data.total_count == len(ccc_server.instances["ccc-test"])
    assert ccc_server.calls == 3


def test_an_unknown_fault_is_refused(ccc_server):
    with pytest.raises(ValueError, match="unknown fault"):
        ccc_server.fail_next("Teapot")


@pytest.mark.parametrize(("fault", "status"), [("html-502", 502), ("html-503", 503)])
def test_a_gateway_error_page_is_html(ccc_server, fault, status):
    ccc_server.fail_next(fault)
    response = signed_post(ccc_server, acs3_headers(ccc_server))
    assert response.status_code == status and response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<html>") and str(status) in response.text


def test_throttling_says_how_long_to_wait_when_told_to(ccc_server):
    ccc_server.fail_next("Throttling.User", 2)
    assert "x-acs-retry-after" not in signed_post(ccc_server, acs3_headers(ccc_server)).headers
    ccc_server.retry_after_ms = 1500
    try:
        response = signed_post(ccc_server, acs3_headers(ccc_server))
    finally:
        ccc_server.retry_after_ms = None
    assert refusal(response) == (400, "Throttling.User") and response.headers["x-acs-retry-after"] == "1500"


def test_an_error_in_the_server_itself_is_a_500_with_its_traceback_logged(caplog):
    server = CccServer({"ccc-test": [{"Usage": "Inbound", "Active": True}]}).start()  # no Number: a KeyError in the server
    try:
        with pytest.raises(ServerException) as caught:
            list_numbers(client_for(server))
    finally:
        server.stop()
    assert (caught.value.status_code, caught.value.code) == (500, "InternalError")
    assert [type(e) for e in server.handler_errors] == [KeyError]
    assert "Traceback" in caplog.text and "KeyError: 'Number'" in caplog.text


# --- faults without an answer ---------------------------------------------------------------------


def raw_post(server: CccServer) -> socket.socket:
    """A connection that has sent one POST (unsigned: these faults strike before the signature check)."""
    host, port = server.endpoint.split(":")
    connection = socket.create_connection((host, int(port)), timeout=5)
    connection.sendall(b"POST /?Action=ListPhoneNumbers HTTP/1.1\r\nHost: ccc\r\nContent-Length: 0\r\n\r\n")
    return connection


def test_close_ends_the_connection_without_a_byte(ccc_server):
    ccc_server.fail_next("close")
    with raw_post(ccc_server) as connection:
        assert connection.recv(1024) == b""


def test_reset_resets_the_connection_without_a_byte(ccc_server):
    ccc_server.fail_next("reset")
    with raw_post(ccc_server) as connection, pytest.raises(ConnectionResetError):
        connection.recv(1024)


def test_hang_sends_nothing(ccc_server):
    ccc_server.fail_next("hang")
    with raw_post(ccc_server) as connection:
        connection.settimeout(0.3)
        with pytest.raises(TimeoutError):
            connection.recv(1024)


def test_the_call_after_a_dropped_one_is_answered(client, ccc_server):
    ccc_server.fail_next("reset")
    ccc_server.fail_next("close")
    for _ in range(2):
        with raw_post(ccc_server) as connection, contextlib.suppress(ConnectionResetError):
            connection.recv(1024)
    assert list_numbers(client).data.total_count == len(ccc_server.instances["ccc-test"])


# --- faults in a 200 answer -----------------------------------------------------------------------


def answer(client: CccClient, fault: str, server: CccServer) -> dict[str, Any]:
    """The JSON body of a 200 answer with `fault`: all of ccc-test's first 100 numbers, as the SDK received them.

    (When its models cannot hold a body, the SDK keeps it as sent in to_map().)"""
    server.fail_next(fault)
    request = ccc_models.ListPhoneNumbersRequest(instance_id="ccc-test", page_size=100)
    return client.list_phone_numbers_with_options(request, RuntimeOptions()).to_map()["body"]


def texts(item: dict[str, Any]) -> list[Any]:
    """Every text field of an item and of its skill groups."""
    groups = item["SkillGroups"]
    return [item[f] for f in TEXT_FIELDS] + [g[f] for g in groups for f in GROUP_TEXT_FIELDS]


def test_unexpected_fields_and_types(client, ccc_server):
    records = ccc_server.instances["ccc-test"][:100]
    data = answer(client, "unexpected-fields", ccc_server)["Data"]
    assert data["TotalCount"] == str(len(ccc_server.instances["ccc-test"])) and "NextToken" in data
    assert [item.get("Number") for item in data["List"]] == [
        None if index % 4 == 3 else record["Number"] for index, record in enumerate(records)]
    for item, record in zip(data["List"], records, strict=True):
        assert item["Active"] == "yes" and item["Tags"] == [record["Tags"]] and "City" not in item and "Score" in item
        assert isinstance(item["SkillGroups"], dict) and len(item["SkillGroups"]) == len(record["SkillGroups"])


def test_wrong_shape(client, ccc_server):
    data = answer(client, "wrong-shape", ccc_server)["Data"]
    assert data["TotalCount"] == "many"
    assert isinstance(data["List"], dict) and data["List"]["0"]["Number"] == ccc_server.instances["ccc-test"][0]["Number"]


def test_long_values_fill_every_text_field(client, ccc_server):
    items = answer(client, "long-values", ccc_server)["Data"]["List"]
    assert len(items) == 100 and any(item["SkillGroups"] for item in items)
    assert {len(text) for item in items for text in texts(item)} == {LONG_TEXT_LENGTH}
    records = ccc_server.instances["ccc-test"][:100]
    assert all(item["Number"].startswith(record["Number"]) for item, record in zip(items, records, strict=True))


def test_non_ascii_in_every_text_field(client, ccc_server):
    items = answer(client, "non-ascii", ccc_server)["Data"]["List"]
    assert all(text.endswith(NON_ASCII_TEXT) for item in items for text in texts(item))
    assert [item["Number"].split(" ")[0] for item in items] == [r["Number"] for r in ccc_server.instances["ccc-test"][:100]]


@pytest.mark.parametrize("fault", ["unexpected-fields", "wrong-shape", "long-values", "non-ascii", "no-data"])
def test_a_body_fault_leaves_the_data_alone(client, ccc_server, fault):
    before = copy.deepcopy(ccc_server.instances)
    answer(client, fault, ccc_server)
    assert ccc_server.instances == before
    assert list_numbers(client, page_size=100).data.list[0].number == before["ccc-test"][0]["Number"]


def first_hundred(client: CccClient) -> dict[str, Any] | str:
    """ccc-test's first 100 numbers as the SDK gets them, without the request ID; or the name of what it raised."""
    request = ccc_models.ListPhoneNumbersRequest(instance_id="ccc-test", page_size=100)
    try:
        body = client.list_phone_numbers_with_options(request, RuntimeOptions()).to_map()["body"]
    except Exception as error:  # noqa: BLE001 - any failure is an outcome here
        return type(error).__name__
    return {key: value for key, value in body.items() if key != "RequestId"}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_mode_changes_what_the_sdk_gets_once(client, ccc_server, fault):
    normal = first_hundred(client)
    ccc_server.fail_next(fault)
    assert first_hundred(client) != normal
    assert first_hundred(client) == normal  # one call only


def test_an_unknown_fault_is_refused_and_nothing_is_queued(client, ccc_server):
    with pytest.raises(ValueError, match="unknown fault 'no-such-fault'"):
        ccc_server.fail_next("no-such-fault", times=3)
    assert list_numbers(client).data.total_count == len(ccc_server.instances["ccc-test"])  # answered, not failed


def test_each_server_has_its_own_port_and_data():
    server = CccServer({"ccc-x": make_numbers("ccc-x", 3, seed=1)}).start()
    try:
        assert re.fullmatch(r"127\.0\.0\.1:\d+", server.endpoint)
        assert server.instances["ccc-x"][0]["InstanceId"] == "ccc-x"
    finally:
        server.stop()


# --- sample data ----------------------------------------------------------------------------------


def test_sample_data_is_deterministic():
    assert sample_instances() == sample_instances()
    assert make_numbers("ccc-x", 50, seed=9) == make_numbers("ccc-x", 50, seed=9)
    assert make_numbers("ccc-x", 50, seed=9) != make_numbers("ccc-x", 50, seed=10)


def test_sample_instances(sample_data):
    assert set(sample_data) == {"ccc-test", "ccc-demo"}
    assert 200 <= len(sample_data["ccc-test"]) <= 1000
    assert 0 < len(sample_data["ccc-demo"]) < len(sample_data["ccc-test"])


@pytest.mark.parametrize("instance", ["ccc-test", "ccc-demo"])
def test_numbers_are_distinct(sample_data, instance):
    numbers = [n["Number"] for n in sample_data[instance]]
    assert len(set(numbers)) == len(numbers)


def test_enough_numbers_for_the_examples(sample_data):
    numbers = sample_data["ccc-test"]
    assert sum("0833" in n["Number"] for n in numbers) > 100  # more than one API page for `/numbers 0833`
    assert {n["Usage"] for n in numbers} == USAGES
    assert {n["Active"] for n in numbers} == {True, False}


@pytest.mark.parametrize("instance", ["ccc-test", "ccc-demo"])
def test_records_look_like_list_phone_numbers_items(sample_data, instance):
    for item in sample_data[instance]:
        assert re.fullmatch(r"\d{10,12}", item["Number"])
        assert item["Usage"] in USAGES and isinstance(item["Active"], bool)
        assert item["InstanceId"] == instance
        assert isinstance(item["Province"], str) and isinstance(item["City"], str) and item["Provider"]
        assert FIRST_ADDED_MS <= int(item["CreateTime"]) <= LAST_ADDED_MS
        assert bool(item["ContactFlowName"]) == bool(item["ContactFlowId"])
        assert not (item["Usage"] == "Outbound" and item["ContactFlowName"])
        assert item["UserId"] == "" or item["UserId"].endswith(f"@{instance}")
        for group in item["SkillGroups"]:
            assert set(group) == {"SkillGroupId", "Name", "DisplayName", "InstanceId"}
            assert group["SkillGroupId"] == f"{group['Name']}@{instance}" and group["InstanceId"] == instance


def test_records_are_in_the_order_they_were_added(sample_data):
    times = [int(n["CreateTime"]) for n in sample_data["ccc-test"]]
    assert times == sorted(times)
