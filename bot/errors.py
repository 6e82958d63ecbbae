"""Every way a CCC call can fail -> one message a person understands. One table, no I/O."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import requests
import urllib3
from alibabacloud_credentials.exceptions import CredentialException
from darabonba.exceptions import RetryError
from darabonba.policy.retry import RetryPolicyContext

# code -> (kind, message). The message may use {instance}, {region} and {endpoint}.
# The gateway's codes: https://api.aliyun.com/troubleshoot ; the API's: https://api.aliyun.com/document/CCC/2020-07-01/ListPhoneNumbers
MESSAGES: dict[str, tuple[str, str]] = {
    "Parameter.Enumeration": ("request", "CCC rejected a filter as not one of its allowed values. "
                                         "Check the usage word (inbound, outbound, bidirection)."),
    "Parameter.Maximum": ("request", "CCC rejected a value as too large: it lists at most 100 pages of 100 numbers. "
                                     "Ask for an earlier page or narrow the filter."),
    "Parameter.Minimum": ("request", "CCC rejected a value as too small (a page number below 1?). Run the command again."),
    "Parameter.Empty": ("config", "CCC says a required value is empty, most likely the instance ID. "
                                  "An admin should check CCC_INSTANCE_ID."),
    "Parameter.Null": ("config", "CCC says a required value is missing, most likely the instance ID. "
                                 "An admin should check CCC_INSTANCE_ID."),
    "NotExists.InstanceId": ("config", "CCC at {endpoint} (region {region}) has no instance `{instance}`. Check the "
                                       "instance ID, or CCC_REGION_ID and CCC_ENDPOINT if it lives in another region."),
    "InvalidAccessKeyId.NotFound": ("auth", "CCC does not know the bot's AccessKey ID. An admin should check "
                                            "ALIBABA_CLOUD_ACCESS_KEY_ID (or the credential the bot runs with)."),
    "InvalidAccessKeyId.Inactive": ("auth", "The bot's AccessKey is disabled in Alibaba Cloud. An admin should "
                                            "enable it or give the bot a new one."),
    "SignatureDoesNotMatch": ("auth", "CCC refused the bot's signature: the AccessKey secret is wrong. An admin should "
                                      "check ALIBABA_CLOUD_ACCESS_KEY_SECRET."),
    "InvalidSecurityToken.Expired": ("auth", "The bot's temporary (STS) credential has expired. An admin should "
                                             "check how the bot gets its credentials."),
    "InvalidSecurityToken.Malformed": ("auth", "CCC could not read the bot's temporary (STS) security token. An admin "
                                               "should check ALIBABA_CLOUD_SECURITY_TOKEN (or the role the bot assumes)."),
    "InvalidSecurityToken.MismatchWithAccessKey": ("auth", "The bot's temporary (STS) security token belongs to another "
                                                           "AccessKey. An admin should set the key ID, secret and token "
                                                           "from the same STS answer."),
    "InvalidTimeStamp.Expired": ("config", "CCC refused the request as sent at the wrong time: the clock of the bot's "
                                           "server is off by more than 15 minutes. An admin should set it right (NTP)."),
    "SignatureNonceUsed": ("request", "CCC refused the request as a replay of an earlier one. Try again; if it keeps "
                                      "happening, an admin should look for a proxy that resends the bot's requests."),
    "IncompleteSignature": ("mismatch", "CCC's gateway at `{endpoint}` refused how the bot signs its requests. An admin "
                                        "should update the bot's Alibaba Cloud SDK and check CCC_ENDPOINT."),
    "MissingParameter": ("mismatch", "CCC at `{endpoint}` says a parameter it needs is missing: the bot's SDK and that "
                                     "endpoint do not match. An admin should check CCC_ENDPOINT and update the SDK."),
    "InvalidParameter": ("mismatch", "CCC at `{endpoint}` says a parameter is not valid: the bot's SDK and that "
                                     "endpoint do not match. An admin should check CCC_ENDPOINT and update the SDK."),
    "InvalidAction.NotFound": ("mismatch", "The endpoint `{endpoint}` does not serve CCC's ListPhoneNumbers. An admin "
                                           "should check CCC_ENDPOINT (and CCC_REGION_ID)."),
    "InvalidVersion": ("mismatch", "The endpoint `{endpoint}` does not serve the CCC API 2020-07-01 the bot uses. An "
                                   "admin should check that CCC_ENDPOINT is a CCC endpoint."),
    "Forbidden.RAM": ("permission", "The bot's RAM identity may not list phone numbers of `{instance}`. An admin should "
                                    "grant it ccc:ListPhoneNumbers (e.g. the AliyunCCCReadOnlyAccess policy)."),
    "NoPermission": ("permission", "The bot has no permission to list phone numbers of `{instance}`. An admin should "
                                   "grant its RAM identity ccc:ListPhoneNumbers."),
    "Forbidden": ("permission", "CCC refused the request as forbidden for the bot's identity. An admin should check "
                                "its RAM policies for ccc:ListPhoneNumbers on `{instance}`."),
    "Throttling": ("throttled", "CCC is rate-limiting requests right now. Try again in a few seconds."),
    "Throttling.User": ("throttled", "CCC is rate-limiting this account right now. Try again in a few seconds."),
    "Throttling.Api": ("throttled", "CCC is rate-limiting this API right now. Try again in a few seconds."),
    "InternalError": ("server", "CCC had an internal error. Try again in a minute; if it keeps happening, "
                                "check the Alibaba Cloud status page."),
    "ServiceUnavailable": ("server", "CCC is unavailable right now. Try again in a minute; if it keeps happening, "
                                     "check the Alibaba Cloud status page."),
}
SERVER_ERROR = ("server", "CCC answered with a server error (HTTP {status}). Try again in a minute.")
TIMEOUT = ("timeout", "CCC did not answer in time. Try again; if it keeps happening, CCC or the network to it is slow.")
UNREACHABLE = ("unreachable", "The bot could not reach CCC. Try again in a minute; if it keeps happening, "
                              "an admin should check the bot's network and CCC_ENDPOINT.")
DROPPED = ("dropped", "The connection to CCC broke before it answered. Try again in a few seconds; if it keeps "
                      "happening, an admin should check the network between the bot and CCC.")
MALFORMED = ("malformed", "CCC sent an answer the bot could not read. Try again; if it keeps happening, "
                          "tell the bot's admins.")
NO_CREDENTIALS = ("auth", "The bot has no Alibaba Cloud credentials. An admin should set "
                          "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET.")
UNKNOWN = ("unknown", "CCC refused the request ({code}). Tell the bot's admins; the log has the details.")
TOO_SLOW = ("timeout", "CCC answered too slowly to read every matching number in time. Try again in a few minutes, or "
                       "add a number pattern or a usage to read fewer.")
BUG = ("bug", "Something went wrong inside the bot. The details are in its log; please tell its admins.")


@dataclass(frozen=True)
class Problem:
    """A failure, ready to show: `message` is for people, `code` and `request_id` for support."""

    kind: str
    message: str
    code: str = ""
    request_id: str = ""


class MalformedResponse(ValueError):
    """CCC answered 200 but not with the shape ListPhoneNumbers documents."""


def describe(error: BaseException, *, instance: str = "", region: str = "", endpoint: str = "") -> Problem:
    """Map an exception from the SDK (or the network under it) to a Problem."""
    unread_status = answer_status(error)
    inner = getattr(error, "inner_exception", None)  # the SDK wraps errors it will not retry
    if inner is not None and inner is not error:
        error = inner
    code = str(getattr(error, "code", "") or "")
    code = "" if code == "None" else code  # the SDK formats a missing Code as the string 'None'
    status = getattr(error, "status_code", None) or getattr(error, "statusCode", None)
    request_id = _request_id(error)
    if code in MESSAGES:
        kind, text = MESSAGES[code]
    elif code == "InvalidCredentials" or isinstance(error, CredentialException):
        kind, text = NO_CREDENTIALS
    elif isinstance(status, int) and status >= 500:
        kind, text = SERVER_ERROR
    elif isinstance(status, int) and status >= 400:
        kind, text = UNKNOWN
    else:
        kind, text = _by_type(error)
        if kind == MALFORMED[0] and unread_status is not None and unread_status >= 500:  # a gateway's HTML 502 page
            (kind, text), status = SERVER_ERROR, unread_status
    # CCC's code goes into a message that Slack shows as mrkdwn: keep the characters codes are made of
    shown_code = re.sub(r"[^A-Za-z0-9.-]", "?", code)[:80] or status
    message = text.format(instance=instance or "?", region=region or "?", endpoint=endpoint or "?", status=status,
                          code=shown_code)
    return Problem(kind=kind, message=message, code=code, request_id=request_id)


# What went wrong below the API, told by the exception types in the chain (never by their text), first match wins.
# Refused comes before timeouts: urllib3 reports a refused connection as NewConnectionError, a ConnectTimeoutError.
FAILURE_TYPES: list[tuple[tuple[type[BaseException], ...], tuple[str, str]]] = [
    ((ConnectionRefusedError,), UNREACHABLE),
    ((TimeoutError, requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError), TIMEOUT),
    ((ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.IncompleteRead,
      urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError), DROPPED),
    ((MalformedResponse, json.JSONDecodeError, UnicodeDecodeError), MALFORMED),
    ((OSError, RetryError), UNREACHABLE),  # the SDK raises RetryError for any network failure, chained to it
]


def _by_type(error: BaseException) -> tuple[str, str]:
    chain = list(_chain(error))
    for types, found in FAILURE_TYPES:
        if any(isinstance(link, types) for link in chain):
            return found
    return BUG


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and every exception it wraps: causes, contexts, and the ones requests and urllib3 keep in args or reason."""
    pending, seen = [error], set()
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        wrapped = [link.__cause__, link.__context__, getattr(link, "reason", None), *link.args]
        pending.extend(w for w in wrapped if isinstance(w, BaseException))


def answer_status(error: BaseException) -> int | None:
    """The HTTP status of the last answer the SDK received before it gave up with `error`; None when it got none.

    For an answer that is not JSON (a gateway's HTML 502) the SDK raises a RuntimeError that names no status; the
    status is only in the RetryPolicyContext that its do_request loop passed to the UnretryableException it raised,
    so it is read from that frame of the traceback."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    context = frame.tb_frame.f_locals.get("_context") if frame is not None else None
    response = getattr(context, "http_response", None) if isinstance(context, RetryPolicyContext) else None
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _request_id(error: BaseException) -> str:
    request_id = getattr(error, "request_id", None)
    data = getattr(error, "data", None)
    if (not request_id or request_id == "None") and isinstance(data, dict):
        request_id = data.get("RequestId") or data.get("requestId")
    return "" if not request_id or request_id == "None" else str(request_id)
