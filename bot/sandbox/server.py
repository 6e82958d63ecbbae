"""A CCC-compatible HTTP server for ListPhoneNumbers: signature check, filters, paging, documented errors.

Tests steer it through `latency`, `fail_next()` (documented error codes and the FAULTS below) and `fail_from_page()`
(an error for every page from one on), and change its numbers between calls with `add_numbers()`, `remove_numbers()`
and `keep_changing()`; it counts the calls it served in `calls`. Like Alibaba Cloud's gateway it refuses
a request whose signature leaves out a header, whose date is off by more than 15 minutes, whose nonce was used before,
or whose API version or action it does not serve. An error in its own code is a 500 whose traceback is logged (and kept
in `handler_errors`), never a dropped connection.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import logging
import random
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

SANDBOX_ACCESS_KEY_ID = "sandbox-key"
SANDBOX_ACCESS_KEY_SECRET = "sandbox-secret"
USAGES = ("Inbound", "Outbound", "Bidirection")
API_VERSION = "2020-07-01"  # https://api.aliyun.com/document/CCC/2020-07-01/ListPhoneNumbers
ACTIONS = ("ListPhoneNumbers",)
# The gateway's rules for an ACS3 request: https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature
REQUIRED_HEADERS = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # x-acs-date: ISO 8601 in UTC
MAX_CLOCK_SKEW_SECONDS = 15 * 60  # x-acs-date may differ from the gateway's clock by this much either way
HTML_STATUSES = {"html-502": 502, "html-503": 503}  # faults: a gateway in front of CCC answers with an HTML page
RETRY_AFTER_HEADER = "x-acs-retry-after"  # milliseconds, as alibabacloud_tea_openapi reads it (get_throttling_time_left)

logger = logging.getLogger(__name__)

# code -> (HTTP status, message template), as the API and the gateway document them
# (https://api.aliyun.com/document/CCC/2020-07-01/ListPhoneNumbers, https://api.aliyun.com/troubleshoot)
ERRORS = {
    "Parameter.Enumeration": (400, "The parameter %s must be one of the value of enumeration %s."),
    "Parameter.Maximum": (400, "The parameter %s must be less than or equal to %s."),
    "Parameter.Minimum": (400, "The parameter %s must be greater than or equal to %s."),
    "Parameter.Empty": (400, "The parameter %s may not be null or empty."),
    "Parameter.Null": (400, "The parameter %s may not be null."),
    "NotExists.InstanceId": (404, "The specified instance %s does not exist."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "SignatureDoesNotMatch": (400, "Specified signature does not match our calculation."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards. Signed headers must "
                                 "include host and every x-acs-* header; %s is not signed."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidSecurityToken.Expired": (400, "Specified SecurityToken is expired."),
    "InvalidSecurityToken.Malformed": (400, "Specified SecurityToken is malformed."),
    "InvalidSecurityToken.MismatchWithAccessKey": (400, "Specified SecurityToken mismatch with the AccessKey."),
    "MissingParameter": (400, "The input parameter %s that is mandatory for processing this request is not supplied."),
    "InvalidParameter": (400, "The specified parameter %s is not valid."),
    "InvalidAction.NotFound": (404, "Specified api %s is not found, please check your url and method."),
    "InvalidVersion": (400, "Specified parameter Version %s is not valid."),
    "Forbidden.RAM": (403, "User not authorized to operate on the specified resource, or this API does not support RAM."),
    "NoPermission": (403, "You are not authorized to do this action."),
    "Forbidden": (403, "User not authorized to operate on the specified resource."),
    "Throttling": (400, "Request was denied due to request throttling."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "InternalError": (500, "The request processing has failed due to some unknown error."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
}
LONG_TEXT_LENGTH = 10_000
# CJK, emoji (with a skin tone and a zero-width joiner), right-to-left Arabic and Hebrew, a combining accent
NON_ASCII_TEXT = "客服热线 📞👩🏽‍💻 مرحبا שלום Ame\u0301lie"
# Everything Slack could turn into a ping, a link or formatting, if a bot passed it on as mrkdwn
INJECTION_TEXT = "<!channel> <!here> <@U0BOSS> <#C0ALL> <http://evil.example|click> *bold* _it_ ~st~ `tick` & co"
TEXT_FIELDS = ("Number", "Province", "City", "Provider", "ContactFlowName", "ContactFlowId", "UserId", "Tags")
GROUP_TEXT_FIELDS = ("SkillGroupId", "Name", "DisplayName")


def _no_data(result: dict[str, Any]) -> None:
    del result["Data"]


def _unexpected_fields(result: dict[str, Any]) -> None:
    """Wrong types, missing and unknown fields that a lenient reader can still show."""
    data = result["Data"]
    data["TotalCount"] = str(data["TotalCount"])
    data["NextToken"] = {"unknown": True}
    result["Deprecated"] = ["unknown", 1]
    for index, item in enumerate(data["List"]):
        item["Active"] = "yes"
        item["SkillGroups"] = {group["Name"]: group for group in item["SkillGroups"]}
        item["Tags"] = [item["Tags"]]
        item["Province"] = 510_000
        item["Score"] = index / 3
        del item["City"]
        if index % 4 == 3:
            del item["Number"]


def _wrong_shape(result: dict[str, Any]) -> None:
    """Shapes no reader can page through: List is an object, TotalCount is not a count."""
    data = result["Data"]
    data["List"] = {str(index): item for index, item in enumerate(data["List"])}
    data["TotalCount"] = "many"


def _long_values(result: dict[str, Any]) -> None:
    _rewrite_texts(result, lambda text: ((text or "long") * LONG_TEXT_LENGTH)[:LONG_TEXT_LENGTH])


def _non_ascii(result: dict[str, Any]) -> None:
    _rewrite_texts(result, lambda text: f"{text} {NON_ASCII_TEXT}" if text else NON_ASCII_TEXT)


def _injection(result: dict[str, Any]) -> None:
    _rewrite_texts(result, lambda text: f"{text} {INJECTION_TEXT}" if text else INJECTION_TEXT)


def _rewrite_texts(result: dict[str, Any], rewrite: Callable[[str], str]) -> None:
    for item in result["Data"]["List"]:
        item.update({field: rewrite(item[field]) for field in TEXT_FIELDS})
        for group in item["SkillGroups"]:
            group.update({field: rewrite(group[field]) for field in GROUP_TEXT_FIELDS})


# Faults that answer 200 with a body the API does not document; each rewrites a copy of the right answer.
BODY_FAULTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "no-data": _no_data,
    "unexpected-fields": _unexpected_fields,
    "wrong-shape": _wrong_shape,
    "long-values": _long_values,
    "non-ascii": _non_ascii,
    "injection": _injection,
}
# Faults that are not API error codes: "hang" (never answer), "close" and "reset" (end the connection without an
# answer, with a FIN or an RST), "malformed" (JSON cut in half), the HTML_STATUSES, and the BODY_FAULTS.
FAULTS = ("hang", "close", "reset", "malformed", *HTML_STATUSES, *BODY_FAULTS)
GATEWAY_PAGE = "<html><head><title>{status}</title></head><body><h1>{status}</h1><hr>Tengine</body></html>"


class ApiError(Exception):
    def __init__(self, code: str, *args: object) -> None:
        status, template = ERRORS[code]
        slots = template.count("%s")
        super().__init__(template % tuple((*args, *["?"] * slots)[:slots]))
        self.code, self.status = code, status


class CccServer(ThreadingHTTPServer):
    """Serve `instances` (instance ID -> list of numbers in the API's shape) on host:port (0 picks a free one)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # socketserver's 5 would drop connections in a burst (the client's SYN retry costs 1-3 s)

    def __init__(self, instances: dict[str, list[dict[str, Any]]], host: str = "127.0.0.1", port: int = 0,
                 access_keys: dict[str, str] | None = None, latency: float = 0.0) -> None:
        super().__init__((host, port), _Handler)
        self.instances = instances
        self.access_keys = access_keys if access_keys is not None else {SANDBOX_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_SECRET}
        self.latency = latency
        self.calls = 0
        self._faults: deque[str] = deque()
        self._failing_from: tuple[str, int] | None = None  # (error code, first PageNumber that gets it)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._changing: dict[str, list[int]] = {}  # instance ID -> [numbers added, removed, calls left] before each call
        self._change_rng = random.Random(2020)
        self._new_numbers = itertools.count(1)
        self.added_numbers: list[str] = []  # every Number add_numbers made up, in order
        self.retry_after_ms: int | None = None  # when set, a throttling answer says how long to wait (x-acs-retry-after)
        self.call_times: list[float] = []  # time.monotonic() at each call's arrival
        self.handler_errors: list[BaseException] = []  # errors in this server's own code, each answered with a 500
        self._nonces: dict[str, float] = {}  # x-acs-signature-nonce -> when it was used (time.time())

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def fail_next(self, fault: str, times: int = 1) -> None:
        """Answer the next `times` calls with an error code from ERRORS or one of FAULTS."""
        if fault not in ERRORS and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.extend([fault] * times)

    def fail_from_page(self, code: str, page_number: int) -> None:
        """Answer every call for PageNumber `page_number` or later with the error `code` from ERRORS, until
        clear_faults: a failure part-way through a walk of every page, whatever the timing."""
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}")
        with self._lock:
            self._failing_from = (code, page_number)

    def page_fault(self, params: dict[str, str]) -> str | None:
        with self._lock:
            failing = self._failing_from
        return failing[0] if failing and _bounded(params, "PageNumber", 1) >= failing[1] else None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._failing_from = None
            self._changing.clear()
            self.retry_after_ms = None

    # --- numbers that change between calls, as when someone buys or releases numbers in the CCC console meanwhile ---
    # The API has no snapshot reads: each call pages through the list as it is at that moment
    # (https://api.aliyun.com/document/CCC/2020-07-01/ListPhoneNumbers), so rows after a change move up or down.

    def add_numbers(self, instance_id: str, count: int, at: int | None = None) -> list[str]:
        """Add `count` new numbers to `instance_id`, at row index `at` (or each at a random place); their Numbers."""
        with self._lock:
            records = list(self.instances[instance_id])
            added = []
            for _ in range(count):
                record = copy.deepcopy(self._change_rng.choice(records))
                record["Number"] = f"0833{9_000_000 + next(self._new_numbers):07d}"
                records.insert(self._change_rng.randint(0, len(records)) if at is None else at, record)
                added.append(record["Number"])
            self.instances[instance_id] = records  # a new list: a call under way keeps reading the old one
            self.added_numbers += added
        return added

    def remove_numbers(self, instance_id: str, count: int, at: int | None = None) -> list[str]:
        """Remove `count` numbers of `instance_id`, from row index `at` on (or each from a random place); their Numbers."""
        with self._lock:
            records = list(self.instances[instance_id])
            removed = [records.pop(self._change_rng.randrange(len(records)) if at is None else at)["Number"]
                       for _ in range(min(count, len(records)))]
            self.instances[instance_id] = records
        return removed

    def keep_changing(self, instance_id: str, added: int = 0, removed: int = 0, calls: int = 1_000_000) -> None:
        """Before each of the next `calls` ListPhoneNumbers calls on `instance_id` (until clear_faults), add and remove
        that many numbers at random places."""
        with self._lock:
            self._changing[instance_id] = [added, removed, calls]

    def _change_before_a_call(self, instance_id: str) -> None:
        with self._lock:
            change = self._changing.get(instance_id)
            if change is None or change[2] <= 0:
                return
            added, removed, _ = change
            change[2] -= 1
        if added:
            self.add_numbers(instance_id, added)
        if removed:
            self.remove_numbers(instance_id, removed)

    def start(self) -> CccServer:
        threading.Thread(target=self.serve_forever, name="ccc-sandbox", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An error outside an answer: a client that hung up (a timeout we provoked) is not news; anything else is."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        if error is not None:
            self.handler_errors.append(error)
        logger.exception("CCC sandbox: error while serving %s", client_address)

    def next_fault(self) -> str | None:
        with self._lock:
            self.calls += 1
            self.call_times.append(time.monotonic())
            return self._faults.popleft() if self._faults else None

    def list_phone_numbers(self, params: dict[str, str]) -> dict[str, Any]:
        instance_id = params.get("InstanceId")
        if instance_id is None:
            raise ApiError("Parameter.Null", "InstanceId")
        if instance_id == "":
            raise ApiError("Parameter.Empty", "InstanceId")
        usage, active = params.get("Usage", ""), params.get("Active", "").lower()  # the SDK sends True/False
        if usage and usage not in USAGES:
            raise ApiError("Parameter.Enumeration", "Usage", list(USAGES))
        if active and active not in ("true", "false"):
            raise ApiError("Parameter.Enumeration", "Active", ["true", "false"])
        page_number, page_size = _bounded(params, "PageNumber", 1), _bounded(params, "PageSize", 20)
        if instance_id not in self.instances:
            raise ApiError("NotExists.InstanceId", instance_id)
        self._change_before_a_call(instance_id)
        pattern = params.get("SearchPattern", "")
        matches = [
            n for n in self.instances[instance_id]
            if pattern in n["Number"] and usage in ("", n["Usage"]) and active in ("", str(n["Active"]).lower())
        ]
        start = (page_number - 1) * page_size
        data = {"PageNumber": page_number, "PageSize": page_size, "TotalCount": len(matches),
                "List": matches[start:start + page_size]}
        return {"HttpStatusCode": 200, "Code": "OK", "Message": "", "Data": data}

    def check_request(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> None:
        """Refuse what Alibaba Cloud's gateway refuses, in its order: the signature and what it covers, the date, the
        nonce, then the API version and action."""
        # https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature
        missing = next((name for name in REQUIRED_HEADERS if not headers.get(name)), None)
        if missing and headers.get("authorization"):
            raise ApiError("MissingParameter", missing)
        self.check_signature(method, path, query, headers, body)
        self._check_date(headers["x-acs-date"])
        self._use_nonce(headers["x-acs-signature-nonce"])
        if headers["x-acs-version"] != API_VERSION:
            raise ApiError("InvalidVersion", headers["x-acs-version"])
        if headers["x-acs-action"] not in ACTIONS:
            raise ApiError("InvalidAction.NotFound", headers["x-acs-action"])

    def check_signature(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> None:
        """Verify an ACS3-HMAC-SHA256 signature as Alibaba Cloud does: it covers host, content-type and every x-acs-*
        header sent (https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature)."""
        auth = headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        fields = dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
        key_id = fields.get("Credential", "")
        if algorithm != "ACS3-HMAC-SHA256" or not key_id:
            raise ApiError("InvalidAccessKeyId.NotFound")
        secret = self.access_keys.get(key_id)
        if secret is None:
            raise ApiError("InvalidAccessKeyId.NotFound")
        signed = fields.get("SignedHeaders", "").split(";")
        unsigned = sorted(h for h in headers if _must_be_signed(h) and h not in signed)
        if unsigned:
            raise ApiError("IncompleteSignature", unsigned[0])
        payload_hash = hashlib.sha256(body).hexdigest()
        canonical = "\n".join([
            method, path or "/",
            "&".join(f"{k}={quote(query[k], safe='~')}" for k in sorted(query)),
            "".join(f"{h}:{headers.get(h, '').strip()}\n" for h in signed),
            ";".join(signed), payload_hash,
        ])
        to_sign = f"ACS3-HMAC-SHA256\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash or not hmac.compare_digest(expected, fields.get("Signature", "")):
            raise ApiError("SignatureDoesNotMatch")

    def _check_date(self, date: str) -> None:
        try:
            sent = datetime.strptime(date, DATE_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise ApiError("InvalidTimeStamp.Format") from None
        if abs(time.time() - sent) > MAX_CLOCK_SKEW_SECONDS:
            raise ApiError("InvalidTimeStamp.Expired")

    def _use_nonce(self, nonce: str) -> None:
        """A nonce is good once; it is remembered as long as a request carrying it could still be on time."""
        now = time.time()
        with self._lock:
            if nonce in self._nonces:
                raise ApiError("SignatureNonceUsed")
            self._nonces[nonce] = now
            if len(self._nonces) % 1000 == 0:  # forget, now and then, the nonces whose requests would be refused as late
                self._nonces = {n: t for n, t in self._nonces.items() if now - t <= 2 * MAX_CLOCK_SKEW_SECONDS}


def _must_be_signed(header: str) -> bool:
    return header in ("host", "content-type") or header.startswith("x-acs-")


def _error_body(request_id: str, code: str, message: str, status: int) -> dict[str, Any]:
    return {"RequestId": request_id, "Code": code, "Message": message, "HttpStatusCode": status}


def _bounded(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("Parameter.Enumeration", name, "1-100") from None
    if value < 1:
        raise ApiError("Parameter.Minimum", name, 1)
    if value > 100:
        raise ApiError("Parameter.Maximum", name, 100)
    return value


class _Handler(BaseHTTPRequestHandler):
    server: CccServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, as real servers send them (no 40 ms delayed-ACK stall)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        fault = self.server.next_fault()
        if self.server.latency:
            time.sleep(self.server.latency)
        if fault in ("hang", "close", "reset"):
            self._drop(fault)
            return
        if fault in HTML_STATUSES:
            status = HTML_STATUSES[fault]
            self._send(status, GATEWAY_PAGE.format(status=status).encode(), content_type="text/html")
            return
        request_id = str(uuid.uuid4()).upper()
        extra_headers: dict[str, str] = {}
        try:
            status, payload = 200, self._answer(fault, body, request_id)
        except ApiError as e:
            status, payload = e.status, _error_body(request_id, e.code, str(e), e.status)
            if e.code.startswith("Throttling") and self.server.retry_after_ms:
                extra_headers[RETRY_AFTER_HEADER] = str(self.server.retry_after_ms)
        except Exception as error:  # this server's own bug: a 500 with its traceback in the log, never a dropped connection
            self.server.handler_errors.append(error)
            logger.exception("CCC sandbox: error answering %s %s", self.command, self.path)
            status, payload = 500, _error_body(request_id, "InternalError", f"CCC sandbox error: {type(error).__name__}", 500)
        self._send(status, payload, extra_headers=extra_headers)

    def _answer(self, fault: str | None, body: bytes, request_id: str) -> bytes:
        """The 200 answer's body, or ApiError."""
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if fault in ERRORS:
            raise ApiError(fault)
        self.server.check_request("POST", url.path, query, headers, body)
        params = {**dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), **query}
        page_fault = self.server.page_fault(params)
        if page_fault:
            raise ApiError(page_fault)
        result = self.server.list_phone_numbers(params)
        if fault in BODY_FAULTS:
            result = copy.deepcopy(result)  # the answer holds the server's own records
            BODY_FAULTS[fault](result)
        payload = json.dumps({"RequestId": request_id, **result}, ensure_ascii=False).encode()
        return payload[: len(payload) // 2] if fault == "malformed" else payload

    def _drop(self, fault: str) -> None:
        """End the exchange without an answer: hang (until the server stops, 120 s at most), close, or reset."""
        if fault == "hang":
            self.server._stopping.wait(120)
        elif fault == "reset":  # a zero linger time makes close() send an RST instead of a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True

    def _send(self, status: int, payload: Any, content_type: str = "application/json;charset=utf-8",
              extra_headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass
