"""bot.errors.describe: the SDK's real exception objects -> a Problem a person understands."""

from __future__ import annotations

import http.client
import json
import socket

import pytest
import requests
import urllib3
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryPolicyContext
from darabonba.utils.stream import Stream

from bot.errors import MESSAGES, MalformedResponse, describe

REQUEST_ID = "6F1D1B47-6F5C-5A1D-9C2B-5C3C6D1E2F30"

# What each documented code means to the user; written out here rather than read back from MESSAGES.
EXPECTED_KINDS = {
    "Parameter.Enumeration": "request", "Parameter.Maximum": "request", "Parameter.Minimum": "request",
    "Parameter.Empty": "config", "Parameter.Null": "config", "NotExists.InstanceId": "config",
    "InvalidAccessKeyId.NotFound": "auth", "InvalidAccessKeyId.Inactive": "auth", "SignatureDoesNotMatch": "auth",
    "InvalidSecurityToken.Expired": "auth", "InvalidSecurityToken.Malformed": "auth",
    "InvalidSecurityToken.MismatchWithAccessKey": "auth", "InvalidTimeStamp.Expired": "config",
    "SignatureNonceUsed": "request", "IncompleteSignature": "mismatch", "MissingParameter": "mismatch",
    "InvalidParameter": "mismatch", "InvalidAction.NotFound": "mismatch", "InvalidVersion": "mismatch",
    "Forbidden.RAM": "permission", "NoPermission": "permission", "Forbidden": "permission",
    "Throttling": "throttled", "Throttling.User": "throttled", "Throttling.Api": "throttled",
    "InternalError": "server", "ServiceUnavailable": "server",
}
STATUS = {"NotExists.InstanceId": 404, "InvalidAccessKeyId.NotFound": 404, "InvalidAction.NotFound": 404,
          "Forbidden.RAM": 403, "NoPermission": 403,
          "Forbidden": 403, "InternalError": 500, "ServiceUnavailable": 503}


def sdk_error(code: str, status: int | None = None, request_id: str | None = REQUEST_ID):
    """The exception the SDK raises for an error answer (alibabacloud_tea_openapi.client, do_request)."""
    status = status or STATUS.get(code, 400)
    body = {"Code": code, "Message": "m", "HttpStatusCode": status}
    if request_id is not None:
        body["RequestId"] = request_id
    kind = ServerException if status >= 500 else ClientException
    return kind(status_code=status, code=f"{code}", message=f"code: {status}, m request id: {request_id}",
                detail="None", description="None", data=body, request_id=f"{request_id}")


def raised(make):
    """The exception `make` raises, with __context__ set as Python sets it."""
    try:
        make()
    except BaseException as error:  # noqa: BLE001 - we want whatever it raised
        return error
    raise AssertionError("nothing was raised")


def retry_error_from(cause: BaseException) -> RetryError:
    """How darabonba.core reports a network failure: `except IOError as e: raise RetryError(str(e))`."""
    def make():
        try:
            raise cause
        except OSError as e:
            raise RetryError(str(e))  # noqa: B904 - exactly what the SDK does
    return raised(make)


def unretryable(inner: BaseException) -> UnretryableException:
    """What the SDK raises when it gives up (or will not retry) on a non-response error."""
    return UnretryableException(RetryPolicyContext(retries_attempted=1, exception=inner))


# --- codes ----------------------------------------------------------------------------------------


def test_the_table_covers_exactly_the_documented_codes():
    assert set(MESSAGES) == set(EXPECTED_KINDS)


@pytest.mark.parametrize("code", sorted(EXPECTED_KINDS))
def test_each_code_maps_to_its_kind_and_keeps_code_and_request_id(code):
    problem = describe(sdk_error(code), instance="ccc-test", region="cn-shanghai")
    assert (problem.kind, problem.code, problem.request_id) == (EXPECTED_KINDS[code], code, REQUEST_ID)


def test_every_code_has_its_own_message():
    messages = [describe(sdk_error(code), instance="ccc-test", region="cn-shanghai").message for code in MESSAGES]
    assert len(set(messages)) == len(MESSAGES)


# The one thing each message must tell its reader to do (or check), pinned code by code: two messages swapped, or one
# pointing at the wrong setting, sends an admin to fix what is not broken.
WHAT_TO_DO = {
    "Parameter.Enumeration": "Check the usage word",
    "Parameter.Maximum": "Ask for an earlier page or narrow the filter",
    "Parameter.Minimum": "Run the command again",
    "Parameter.Empty": "check CCC_INSTANCE_ID",
    "Parameter.Null": "check CCC_INSTANCE_ID",
    "NotExists.InstanceId": "Check the instance ID, or CCC_REGION_ID",
    "InvalidAccessKeyId.NotFound": "check ALIBABA_CLOUD_ACCESS_KEY_ID",
    "InvalidAccessKeyId.Inactive": "enable it or give the bot a new one",
    "SignatureDoesNotMatch": "check ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "InvalidSecurityToken.Expired": "check how the bot gets its credentials",
    "Forbidden.RAM": "grant it ccc:ListPhoneNumbers",
    "NoPermission": "grant its RAM identity ccc:ListPhoneNumbers",
    "Forbidden": "check its RAM policies for ccc:ListPhoneNumbers",
    "Throttling": "Try again in a few seconds",
    "Throttling.User": "Try again in a few seconds",
    "Throttling.Api": "Try again in a few seconds",
    "InternalError": "Try again in a minute",
    "ServiceUnavailable": "Try again in a minute",
    "InvalidSecurityToken.Malformed": "check ALIBABA_CLOUD_SECURITY_TOKEN",
    "InvalidSecurityToken.MismatchWithAccessKey": "set the key ID, secret and token from the same STS answer",
    "InvalidTimeStamp.Expired": "set it right (NTP)",
    "SignatureNonceUsed": "look for a proxy that resends the bot's requests",
    "IncompleteSignature": "update the bot's Alibaba Cloud SDK and check CCC_ENDPOINT",
    "MissingParameter": "check CCC_ENDPOINT and update the SDK",
    "InvalidParameter": "check CCC_ENDPOINT and update the SDK",
    "InvalidAction.NotFound": "check CCC_ENDPOINT (and CCC_REGION_ID)",
    "InvalidVersion": "check that CCC_ENDPOINT is a CCC endpoint",
}
# Words that belong to another code's advice and must not appear in this one's
NOT_TO_DO = {
    "InvalidAccessKeyId.Inactive": "SECRET", "SignatureDoesNotMatch": "enable it",
    "InvalidAccessKeyId.NotFound": "SECRET", "NotExists.InstanceId": "ccc:ListPhoneNumbers",
}


def test_every_code_says_what_to_do():
    assert set(WHAT_TO_DO) == set(MESSAGES)


@pytest.mark.parametrize("code", sorted(WHAT_TO_DO))
def test_each_message_tells_its_reader_the_one_thing_to_do(code):
    message = describe(sdk_error(code), instance="ccc-test", region="cn-shanghai").message
    assert WHAT_TO_DO[code] in message, message
    assert code not in NOT_TO_DO or NOT_TO_DO[code] not in message, message


@pytest.mark.parametrize("code", sorted(EXPECTED_KINDS))
def test_messages_are_plain_sentences_without_traceback_or_placeholders(code):
    message = describe(sdk_error(code), instance="ccc-test", region="cn-shanghai").message
    assert "Traceback" not in message and 'File "' not in message and "Error:" not in message
    assert "{" not in message and "}" not in message
    assert REQUEST_ID not in message  # the request id goes beside the message, not in it
    assert message.endswith(".")


def test_throttling_exception_with_retry_after():
    error = ThrottlingException(status_code=400, code="Throttling.User", message="m", retry_after=2000,
                                data={"RequestId": REQUEST_ID, "Code": "Throttling.User"}, request_id=REQUEST_ID)
    problem = describe(error)
    assert (problem.kind, problem.code, problem.request_id) == ("throttled", "Throttling.User", REQUEST_ID)


def test_instance_endpoint_and_region_are_named_for_a_missing_instance():
    message = describe(sdk_error("NotExists.InstanceId"), instance="ccc-prod", region="cn-beijing", endpoint="ccc.aliyuncs.com").message
    assert "`ccc-prod`" in message and "cn-beijing" in message and "ccc.aliyuncs.com" in message


def test_permission_messages_name_the_instance():
    for code in ("Forbidden.RAM", "NoPermission", "Forbidden"):
        assert "`ccc-prod`" in describe(sdk_error(code), instance="ccc-prod").message


def test_unknown_4xx_code_is_named():
    problem = describe(sdk_error("Something.New", status=400))
    assert problem.kind == "unknown"
    assert "Something.New" in problem.message


def test_an_unknown_code_cannot_format_or_ping_in_the_message():
    problem = describe(sdk_error("*Bold*<!channel>_x_", status=400))
    assert problem.message.startswith("CCC refused the request (?Bold???channel??x?)")
    assert problem.code == "*Bold*<!channel>_x_"  # whole in the log and the audit line


@pytest.mark.parametrize("status", [500, 502, 504])
def test_unknown_5xx_is_a_server_error_naming_the_status(status):
    problem = describe(sdk_error("Gateway.Oops", status=status))
    assert problem.kind == "server"
    assert f"HTTP {status}" in problem.message


def test_no_credentials_in_the_default_chain():  # CredentialException carries no code
    error = CredentialException("unable to load credentials from any of the providers in the chain: "
                                "['EnvironmentVariableCredentialsProvider: Environment variable accessKeyId cannot be empty']")
    assert describe(unretryable(error)).kind == "auth"


def test_missing_credentials():
    error = ClientException(code="InvalidCredentials", message="Please set up the credentials correctly.")
    assert describe(error).kind == "auth"
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in describe(error).message


# --- request ids ----------------------------------------------------------------------------------


def test_request_id_from_the_attribute():
    assert describe(sdk_error("Forbidden")).request_id == REQUEST_ID
    error = sdk_error("Forbidden")
    error.data = {"Code": "Forbidden"}  # no RequestId in the body: only the attribute has it
    assert describe(error).request_id == REQUEST_ID


def test_an_exception_chain_that_loops_is_read_once():
    first, second = OSError("connection reset"), ValueError("while reading")
    first.__context__, second.__context__ = second, first
    assert describe(first).kind == "unreachable"  # an OSError with no known cause: the network


def test_request_id_from_data_when_the_attribute_says_none():
    error = ClientException(status_code=403, code="Forbidden", data={"RequestId": "FROM-DATA"}, request_id="None")
    assert describe(error).request_id == "FROM-DATA"


def test_request_id_from_lower_case_data_key():
    error = ClientException(status_code=403, code="Forbidden", data={"requestId": "lower-case"})
    assert describe(error).request_id == "lower-case"


@pytest.mark.parametrize("data", [None, {}, {"RequestId": "None"}, {"RequestId": None}])
def test_none_request_ids_are_ignored(data):
    error = ClientException(status_code=403, code="Forbidden", data=data, request_id="None")
    assert describe(error).request_id == ""


def test_sdk_error_without_any_request_id():
    assert describe(sdk_error("Forbidden", request_id=None)).request_id == ""


def test_a_none_code_string_is_ignored_like_a_none_request_id():  # the SDK writes f"{code}" even when Code is absent
    problem = describe(sdk_error("None", status=404))
    assert problem.code == ""
    assert "None" not in problem.message


# --- network and parsing --------------------------------------------------------------------------


def test_read_timeout_under_retry_error():
    error = retry_error_from(requests.exceptions.ReadTimeout("HTTPConnectionPool: Read timed out. (read timeout=0.5)"))
    assert describe(unretryable(error)).kind == "timeout"
    assert describe(error).kind == "timeout"


def test_connect_timeout_is_a_timeout():
    error = retry_error_from(requests.exceptions.ConnectTimeout("Connection to 10.0.0.1 timed out."))
    assert describe(error).kind == "timeout"


def wrapped_by_requests(root: OSError, outer: type[BaseException] = urllib3.exceptions.NewConnectionError) -> OSError:
    """requests' ConnectionError(MaxRetryError(reason=<outer> raised while handling `root`)), as requests raises it."""
    def make():
        try:
            raise root
        except OSError:
            raise outer(None, f"Failed to establish a new connection: {root}")  # noqa: B904 - urllib3 chains it like this
    pool_error = urllib3.exceptions.MaxRetryError(None, "/", reason=raised(make))
    return requests.exceptions.ConnectionError(pool_error)


def test_connection_refused_under_retry_error():
    error = retry_error_from(wrapped_by_requests(ConnectionRefusedError(111, "Connection refused")))
    assert describe(unretryable(error)).kind == "unreachable"


def test_refused_is_not_a_timeout_although_urllib3_files_it_under_connect_timeouts():
    assert issubclass(urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    error = retry_error_from(wrapped_by_requests(ConnectionRefusedError(111, "Connection refused")))
    assert describe(error).kind == "unreachable"


def test_unknown_host_is_unreachable():
    root = socket.gaierror(-2, "Name or service not known")
    assert describe(retry_error_from(wrapped_by_requests(root, urllib3.exceptions.NameResolutionError))).kind == "unreachable"


def test_a_tcp_connect_timeout_is_a_timeout():
    assert describe(retry_error_from(wrapped_by_requests(TimeoutError(110, "Connection timed out")))).kind == "timeout"


@pytest.mark.parametrize("root", [
    http.client.RemoteDisconnected("Remote end closed connection without response"),
    ConnectionResetError(104, "Connection reset by peer"),
])
def test_a_connection_closed_or_reset_without_an_answer_is_dropped(root):
    error = retry_error_from(requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", root)))
    problem = describe(unretryable(error))
    assert problem.kind == "dropped"
    assert "broke before it answered" in problem.message and "Try again" in problem.message


def test_a_body_cut_short_is_dropped():
    cut = urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead", http.client.IncompleteRead(b"{", 99))
    assert describe(retry_error_from(requests.exceptions.ChunkedEncodingError(cut))).kind == "dropped"


def test_retry_error_raised_from_its_cause():
    def make():
        raise RetryError("Read timed out.") from requests.exceptions.ReadTimeout("Read timed out.")
    assert describe(raised(make)).kind == "timeout"


@pytest.mark.parametrize("text", ["HTTPConnectionPool: Read timed out.", "Connection reset by peer"])
def test_a_retry_error_without_a_cause_is_a_network_failure_whatever_its_text(text):
    assert describe(RetryError(text)).kind == "unreachable"


def sdk_json_error(body: bytes) -> BaseException:
    """What the SDK raises for a body that is not JSON (darabonba's Stream.read_as_json)."""
    return raised(lambda: Stream.read_as_json(body))


@pytest.mark.parametrize(("error", "kind"), [
    (sdk_json_error(b'{"Message": "Upstream timed out'), "malformed"),
    (MalformedResponse("Data.List timed out"), "malformed"),
    (KeyError("timed out"), "bug"),
    (RetryError("Read timed out."), "unreachable"),
    (retry_error_from(ConnectionResetError(104, "timed out")), "dropped"),
])
def test_the_words_timed_out_do_not_make_a_timeout(error, kind):
    assert describe(error).kind == kind
    assert describe(unretryable(error)).kind == kind


def test_timeout_while_reading_the_body_is_a_timeout():  # requests raises ConnectionError(ReadTimeoutError) then
    stall = urllib3.exceptions.ReadTimeoutError(None, "/", "Read timed out.")
    error = retry_error_from(requests.exceptions.ConnectionError(stall))
    assert describe(error).kind == "timeout"


def test_body_that_is_not_json():
    error = sdk_json_error(b'{"RequestId": "6F1')
    assert describe(error).kind == "malformed"
    assert describe(unretryable(error)).kind == "malformed"


def test_body_cut_in_the_middle_of_a_utf8_character():
    error = raised(lambda: "乐山".encode()[:4].decode("utf-8"))
    assert describe(unretryable(error)).kind == "malformed"


def test_json_decode_error_is_malformed():
    assert describe(raised(lambda: json.loads("{"))).kind == "malformed"


def test_malformed_response():
    assert describe(MalformedResponse("no Data")).kind == "malformed"


@pytest.mark.parametrize("error", [KeyError("secret-detail"), TypeError("secret-detail"), RuntimeError("secret-detail")])
def test_anything_else_is_a_bug_with_a_generic_message(error):
    problem = describe(error)
    assert problem.kind == "bug"
    assert "secret-detail" not in problem.message and "Traceback" not in problem.message
    assert "log" in problem.message
