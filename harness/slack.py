"""A local stand-in for Slack: its Web API (auth.test, the file upload flow, views.open and views.update), response_url receivers,
and signed requests to the bot.

Requests are built and signed the way Slack builds and signs them, so the bot's real signature check runs.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests
from slack_sdk.signature import SignatureVerifier

from harness.blockkit import message_problems, view_problems


@dataclass
class Reply:
    """One message the bot posted to a response_url."""

    response_url: str
    body: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)
    refusal: str = ""  # what Slack answered when it refused the post (`used_url`, `invalid_blocks`, ...); shown to no one

    @property
    def accepted(self) -> bool:
        return not self.refusal

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.body.get("blocks") or []

    @property
    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)

    def button(self, action_id: str) -> dict[str, Any] | None:
        for block in self.blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == action_id:
                    return {**element, "block_id": block.get("block_id")}
        return None

    def numbers(self) -> list[str]:
        """The phone numbers shown, in order: each number is a rich_text block that starts with it in code style."""
        found = []
        for block in self.blocks:
            if block.get("type") != "rich_text":
                continue
            first = block["elements"][0]["elements"][0]
            if first.get("type") == "text" and (first.get("style") or {}).get("code"):
                found.append(first["text"])
        return found


@dataclass
class Upload:
    """One file the bot uploaded: its bytes from the upload URL, and where files.completeUploadExternal shared it."""

    file_id: str
    filename: str
    content: bytes = b""
    title: str = ""
    channel: str = ""
    initial_comment: str = ""
    completed: bool = False


@dataclass
class Trigger:
    """A trigger_id the stand-in put in a request to the bot: when it was issued (time.monotonic()), and whether a view
    has been opened with it."""

    issued_at: float
    used: bool = False


def _view_hash() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**8:08d}"  # the shape of Slack's, e.g. 156772938.1827394


@dataclass
class OpenedView:
    """One modal opened with views.open: the trigger it used, the view it asked for, and each views.update since."""

    trigger_id: str
    view: dict[str, Any]
    id: str = field(default_factory=lambda: f"V{uuid.uuid4().hex[:10].upper()}")
    hash: str = field(default_factory=_view_hash)
    updates: list[dict[str, Any]] = field(default_factory=list)
    external_id: str = ""

    def __post_init__(self) -> None:
        self.external_id = str(self.view.get("external_id") or "")

    @property
    def shown(self) -> dict[str, Any]:
        """The view the user sees now: the last update's, or the one opened."""
        return self.updates[-1] if self.updates else self.view

    def update(self, view: dict[str, Any]) -> None:
        self.updates.append(view)
        self.hash = _view_hash()  # every update gives the view a new hash
        self.external_id = str(view.get("external_id") or self.external_id)

    def as_answered(self) -> dict[str, Any]:
        """The view object views.open and views.update answer with (https://api.slack.com/methods/views.open#examples)."""
        return {"private_metadata": "", "callback_id": "", "clear_on_close": False, "notify_on_close": False, **self.shown,
                "id": self.id, "hash": self.hash, "team_id": "T0TEST", "app_id": "A0NUMBERS", "bot_id": "B0BOT",
                "external_id": self.external_id, "root_view_id": self.id, "previous_view_id": None, "state": {"values": {}}}


class SlackServer(ThreadingHTTPServer):
    """Serves /api/<method> like Slack's Web API and /response/<id> like response_urls, recording every post.

    The next response_url it hands out can be made to fail, or to take the post and never answer (`fail_next_response_url`).
    Like Slack's, a response_url takes JSON only, at most 5 posts, for 30 minutes, and refuses a message Block Kit would
    not render (see `refusal`).
    With a Socket Mode stand-in attached (`socket_mode`), apps.connections.open hands out its websocket URLs.
    It serves what slack_sdk's files_upload_v2 calls (conversations.open, files.getUploadURLExternal, the upload URL,
    files.completeUploadExternal) and keeps each file in `uploads`. It issues the trigger_ids of the requests sent to the
    bot (`new_trigger_id`); a modal opened with one goes to `views`, where views.update calls change it.
    `fail_api` makes a Web API method answer an error, `drop_api` close its connection without an answer.
    """

    HANG = 0  # the "status" of a response_url that takes a post and never answers
    # "You can use response_url to post up to 5 times within 30 minutes of receiving the payload"
    # (https://api.slack.com/interactivity/handling#message_responses)
    USES = 5
    LIFETIME_SECONDS = 30 * 60
    DROPPED = "-dropped-"  # the "error" of a Web API method whose connection closes without an answer
    BROKEN = "-http-"  # the "error" of a Web API method that answers an HTTP error page, followed by its status
    # https://api.slack.com/docs/triggers: "Triggers expire in three seconds", "Triggers may only be used once"
    TRIGGER_SECONDS = 3.0

    daemon_threads = True
    request_queue_size = 1024  # like Slack, take a burst of replies without dropping connections
    hang_limit = 300.0  # seconds a hung post is held at most (or until `stop`)

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: list[Reply] = []
        self.api_calls: list[tuple[str, str]] = []  # (method, Authorization header)
        self.socket_mode: Any = None  # a harness.socket_mode.SocketModeServer, when a test attaches one
        self.uploads: list[Upload] = []
        self.views: list[OpenedView] = []
        self._triggers: dict[str, Trigger] = {}
        self._api_faults: dict[str, str] = {}  # Web API method -> the error it answers, until clear_faults()
        self._statuses: dict[str, int] = {}  # response_url -> the HTTP status it answers, or HANG
        self._issued: dict[str, float] = {}  # response_url -> time.monotonic() when it was handed out
        self._refused: dict[str, str] = {}  # response_url -> the error its next post is refused with
        self._next_refusal = ""
        self._rate_limits: dict[str, tuple[int, int]] = {}  # Web API method -> (calls to refuse, Retry-After seconds)
        self._next_status: int | None = None
        self._released = threading.Event()
        self._changed = threading.Condition()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def new_response_url(self) -> str:
        url = f"{self.base_url}/response/{uuid.uuid4().hex}"
        with self._changed:
            self._issued[url] = time.monotonic()
            if self._next_refusal:
                self._refused[url], self._next_refusal = self._next_refusal, ""
            if self._next_status is not None:
                self._statuses[url], self._next_status = self._next_status, None
        return url

    def new_trigger_id(self, age: float = 0.0) -> str:
        """A trigger_id for a request to the bot, shaped like Slack's (e.g. 12345.98765.abcd2358fdea), issued `age`
        seconds ago."""
        trigger_id = f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
        with self._changed:
            self._triggers[trigger_id] = Trigger(issued_at=time.monotonic() - age)
        return trigger_id

    def fail_next_response_url(self, status: int) -> None:
        """The next response_url handed out answers every post with HTTP `status` (e.g. 404, as an expired one does),
        or with HANG takes the post and never answers, like a stalled Slack."""
        self._next_status = status

    def refuse_next_reply(self, error: str = "invalid_blocks") -> None:
        """The next response_url handed out refuses its first post as Slack refuses a message (see REFUSAL_STATUS)."""
        self._next_refusal = error

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls to Web API `method` answer HTTP 429 with `Retry-After: retry_after`, as Slack does past
        a method's rate limit (https://api.slack.com/apis/rate-limits)."""
        self._rate_limits[method] = (times, retry_after)

    def rate_limited(self, method: str) -> int | None:
        """The Retry-After to answer this call to `method` with, or None to serve it."""
        with self._changed:
            times, retry_after = self._rate_limits.get(method, (0, 0))
            if times <= 0:
                return None
            self._rate_limits[method] = (times - 1, retry_after)
            return retry_after

    def age_response_url(self, response_url: str, seconds: float) -> None:
        """Make `response_url` as old as if it had been handed out `seconds` ago (past LIFETIME_SECONDS it has expired)."""
        with self._changed:
            self._issued[response_url] = time.monotonic() - seconds

    def fail_api(self, method: str, error: str) -> None:
        """Every call to Web API `method` answers {"ok": false, "error": `error`} until `clear_faults`."""
        self._api_faults[method] = error

    def break_api(self, method: str, status: int = 503) -> None:
        """Every call to Web API `method` answers HTTP `status` with an HTML page, as Slack's edge does when Slack is
        down (https://status.slack.com), until `clear_faults`."""
        self._api_faults[method] = f"{self.BROKEN}{status}"

    def drop_api(self, method: str) -> None:
        """Every call to Web API `method` gets its connection closed without an answer, until `clear_faults`."""
        self._api_faults[method] = self.DROPPED

    def api_fault(self, method: str) -> str | None:
        return self._api_faults.get(method)

    def clear_faults(self) -> None:
        self._api_faults.clear()
        self._rate_limits.clear()

    def completed_uploads(self) -> list[Upload]:
        """The files shared to a conversation, in order."""
        with self._changed:
            return [upload for upload in self.uploads if upload.completed]

    def start(self) -> SlackServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        self.shutdown()
        self.server_close()

    def record_post(self, response_url: str, body: dict[str, Any], refusal: str = "", received_at: float | None = None) -> str:
        """Keep a post to `response_url` (that arrived at `received_at`, time.monotonic()); what Slack answers when it
        refuses it, else "". Every post counts as a use, refused or not."""
        arrived = time.monotonic() if received_at is None else received_at
        unreadable = refusal or content_refusal(body)  # outside the lock: a burst of posts is checked side by side
        with self._changed:
            refusal = self._url_refusal(response_url, arrived) or self._refused.pop(response_url, "") or unreadable
            self.replies.append(Reply(response_url, body if refusal else _with_block_ids(body), arrived, refusal))
            self._changed.notify_all()
        return refusal

    def _url_refusal(self, response_url: str, arrived: float) -> str:
        if response_url not in self._issued:
            return "no_service"
        if arrived - self._issued[response_url] > self.LIFETIME_SECONDS:
            return "expired_url"
        if sum(1 for r in self.replies if r.response_url == response_url) >= self.USES:
            return "used_url"
        return ""

    def replies_to(self, response_url: str) -> list[Reply]:
        with self._changed:
            return [r for r in self.replies if r.response_url == response_url]

    def calls_to(self, method: str) -> int:
        """How many times the Web API method `method` was called."""
        return sum(1 for called, _ in self.api_calls if called == method)

    def wait_for_reply(self, response_url: str, timeout: float = 30) -> Reply:
        """The first reply to `response_url`; TimeoutError if none comes in `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r for r in self.replies if r.response_url == response_url]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no reply at {response_url} within {timeout} s")
                self._changed.wait(left)

    def status_for(self, response_url: str) -> int:
        """The HTTP status for a post to `response_url`; a HANG is returned only after holding the post until `stop`."""
        status = self._statuses.get(response_url, 200)
        if status == self.HANG:
            self._released.wait(self.hang_limit)
        return status

    def answer_api(self, method: str, token: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
        """What Slack answers to Web API `method` called with the Authorization header `token` and the form (or JSON
        body) `form`."""
        form = form or {}
        if "bad" in token:
            return {"ok": False, "error": "invalid_auth"}
        if method in self._api_faults:
            return {"ok": False, "error": self._api_faults[method]}
        if method == "conversations.open" and form.get("users"):
            return {"ok": True, "channel": {"id": "D" + form["users"].split(",")[0]}}
        if method == "files.getUploadURLExternal" and form.get("filename") and form.get("length"):
            upload = self._new_upload(form["filename"])
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{upload.file_id}", "file_id": upload.file_id}
        if method == "files.completeUploadExternal" and form.get("files"):
            return self._complete_uploads(json.loads(form["files"]), form)
        if method in ("views.open", "views.update") and isinstance(form.get("view"), dict):
            problems = view_problems(form["view"])
            if problems:  # https://api.slack.com/methods/views.open#errors: invalid_arguments, with what was wrong
                return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
            return self._open_view(form.get("trigger_id") or "", form["view"]) if method == "views.open" else self._update_view(form)
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Test", "user": "numbers",
                    "team_id": "T0TEST", "user_id": "U0BOT", "bot_id": "B0BOT"}
        if method == "apps.connections.open" and self.socket_mode is not None:
            return {"ok": True, "url": self.socket_mode.new_url()}
        return {"ok": False, "error": "invalid_auth"}

    def _open_view(self, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            trigger = self._triggers.get(trigger_id)
            # https://api.slack.com/methods/views.open#errors: invalid_trigger_id, exchanged_trigger_id, expired_trigger_id
            if trigger is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if trigger.used:
                return {"ok": False, "error": "exchanged_trigger_id"}
            if time.monotonic() - trigger.issued_at > self.TRIGGER_SECONDS:
                return {"ok": False, "error": "expired_trigger_id"}
            trigger.used = True
            opened = OpenedView(trigger_id, view)
            self.views.append(opened)
            self._changed.notify_all()
            return {"ok": True, "view": opened.as_answered()}

    def _update_view(self, form: dict[str, Any]) -> dict[str, Any]:
        view_id, external_id, stated_hash = form.get("view_id"), form.get("external_id"), form.get("hash")
        # https://api.slack.com/methods/views.update: "Exactly one of these arguments is required" (view_id, external_id)
        if bool(view_id) == bool(external_id):
            return {"ok": False, "error": "invalid_arguments"}
        with self._changed:
            found = [v for v in self.views if (v.id == view_id if view_id else v.external_id == external_id)]
            # https://api.slack.com/methods/views.update#errors: not_found for a view_id or external_id that does not
            # exist; hash_conflict when the hash given is not the view's current one
            if not found:
                return {"ok": False, "error": "not_found"}
            if stated_hash and stated_hash != found[0].hash:
                return {"ok": False, "error": "hash_conflict"}
            found[0].update(form["view"])
            self._changed.notify_all()
            return {"ok": True, "view": found[0].as_answered()}

    def take_upload(self, file_id: str, content: bytes) -> bool:
        """Keep the bytes posted to an upload URL; False for a URL this server never handed out."""
        with self._changed:
            found = [upload for upload in self.uploads if upload.file_id == file_id]
            if found:
                found[0].content = content
            return bool(found)

    def _new_upload(self, filename: str) -> Upload:
        upload = Upload(file_id=f"F{uuid.uuid4().hex[:10].upper()}", filename=filename)
        with self._changed:
            self.uploads.append(upload)
        return upload

    def _complete_uploads(self, files: list[dict[str, str]], form: dict[str, str]) -> dict[str, Any]:
        with self._changed:
            known = {upload.file_id: upload for upload in self.uploads}
            if any(f.get("id") not in known for f in files):
                return {"ok": False, "error": "file_not_found"}
            done = [known[f["id"]] for f in files]
            for upload, f in zip(done, files, strict=True):
                upload.title, upload.completed = f.get("title") or upload.filename, True
                upload.channel, upload.initial_comment = form.get("channel_id", ""), form.get("initial_comment", "")
            self._changed.notify_all()
        return {"ok": True, "files": [{"id": u.file_id, "name": u.filename, "title": u.title} for u in done]}


# The HTTP status Slack answers with each refusal of a post to a response_url (an incoming webhook's URL):
# https://api.slack.com/messaging/webhooks#handling_errors
REFUSAL_STATUS = {"invalid_payload": 400, "no_text": 400, "invalid_blocks": 400, "no_service": 404,
                  "used_url": 404, "expired_url": 404}


def _with_block_ids(body: dict[str, Any]) -> dict[str, Any]:
    """The message as Slack keeps it: a block sent without a block_id gets one ("If not specified, one will be
    generated": https://api.slack.com/reference/block-kit/blocks)."""
    blocks = [b if not isinstance(b, dict) or b.get("block_id") else {**b, "block_id": uuid.uuid4().hex[:5]}
              for b in body.get("blocks") or []]
    return {**body, "blocks": blocks} if blocks else body


def content_refusal(body: dict[str, Any]) -> str:
    """Slack's answer to a message it will not show, else "" (https://api.slack.com/messaging/webhooks#handling_errors)."""
    if not body.get("text") and not body.get("blocks"):
        return "no_text"
    return "invalid_blocks" if message_problems(body) else ""


def _json_body(content_type: str, raw: bytes) -> tuple[dict[str, Any], str]:
    """A response_url post's JSON object, or {} and `invalid_payload`: "send a JSON payload with the message" (ibid.)."""
    if not content_type.startswith("application/json"):
        return {}, "invalid_payload"
    try:
        body = json.loads(raw)
    except ValueError:
        return {}, "invalid_payload"
    return (body, "") if isinstance(body, dict) else ({}, "invalid_payload")


class _Handler(BaseHTTPRequestHandler):
    server: SlackServer
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        arrived = time.monotonic()  # a reply's time is when it arrived, not when this stand-in had checked it
        if self.path.startswith("/response/"):
            self._take_reply(self.server.base_url + self.path, raw, arrived)
            return
        if self.path.startswith("/upload/"):
            taken = self.server.take_upload(self.path.rsplit("/", 1)[-1], raw)
            self._send(200 if taken else 404, b"OK" if taken else b"not found", "text/plain")
            return
        method = self.path.rsplit("/", 1)[-1]
        token = self.headers.get("Authorization", "")
        self.server.api_calls.append((method, token))
        fault = self.server.api_fault(method) or ""
        if fault == self.server.DROPPED:
            self.close_connection = True  # hang up without an answer
            return
        if fault.startswith(self.server.BROKEN):
            status = int(fault.removeprefix(self.server.BROKEN))
            self._send(status, f"<html><body><h1>{status} Service Unavailable</h1></body></html>".encode(), "text/html")
            return
        retry_after = self.server.rate_limited(method)
        if retry_after is not None:
            self._send(429, b'{"ok":false,"error":"ratelimited"}', "application/json", {"Retry-After": str(retry_after)})
            return
        if self.headers.get("Content-Type", "").startswith("application/json"):
            form = json.loads(raw or b"{}")
        else:
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        self._send(200, json.dumps(self.server.answer_api(method, token, form)).encode(), "application/json")

    def _take_reply(self, response_url: str, raw: bytes, arrived: float) -> None:
        body, refusal = _json_body(self.headers.get("Content-Type", ""), raw)
        refusal = self.server.record_post(response_url, body, refusal, arrived)
        if refusal:
            self._send(REFUSAL_STATUS[refusal], refusal.encode(), "text/plain")
            return
        status = self.server.status_for(response_url)
        if status == self.server.HANG:
            self.close_connection = True  # hang up without an answer
            return
        self._send(status, b"ok" if status < 300 else b"error", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


EVENTS_PATH = "/slack/events"


@dataclass(frozen=True)
class Signed:
    """A request ready to send to the bot at EVENTS_PATH, and the response_url its reply will go to."""

    body: bytes
    headers: dict[str, str]
    response_url: str


@dataclass
class Sent:
    """What the bot answered to one signed request, and where its reply will arrive."""

    status: int
    body: str
    ack_seconds: float
    response_url: str
    sent_at: float


def slack_escaped(text: str) -> str:
    """Text as Slack sends it in a slash command: `&`, `<` and `>` HTML-escaped, whatever the command's `should_escape`
    (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def button_action(reply: Reply, action_id: str, value: str | None = None) -> dict[str, Any]:
    """The `actions` entry Slack sends when the button `action_id` of `reply` is clicked (or a doctored `value`)."""
    button = reply.button(action_id)
    assert button is not None, f"no {action_id} button in the reply"
    return {"action_id": action_id, "block_id": button["block_id"], "text": button["text"],
            "value": button["value"] if value is None else value, "type": "button"}


@dataclass
class SlackClient:
    """Sends the bot what Slack would send: slash commands and button clicks, signed with the signing secret."""

    bot_url: str
    signing_secret: str
    slack: SlackServer
    team_id: str = "T0TEST"
    timeout: float = 10  # seconds to wait for an ack; Slack itself gives up after 3
    defaults: dict[str, str] = field(default_factory=lambda: {"user_id": "U0ALICE", "user_name": "alice",
                                                              "channel_id": "C0OPS", "channel_name": "ops"})

    def command(self, text: str, **kwargs: Any) -> Sent:
        """Send the slash command `/numbers text` as Slack would; see `signed_command` for the options."""
        return self.send(self.signed_command(text, **kwargs))

    def signed_command(self, text: str, *, user_id: str | None = None, timestamp: int | None = None,
                       signature: str | None = None) -> Signed:
        response_url = self.slack.new_response_url()
        form = {
            "token": "legacy-verification-token", "team_id": self.team_id, "team_domain": "test",
            "channel_id": self.defaults["channel_id"], "channel_name": self.defaults["channel_name"],
            "user_id": user_id or self.defaults["user_id"], "user_name": self.defaults["user_name"],
            "command": "/numbers", "text": slack_escaped(text), "api_app_id": "A0NUMBERS", "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": self.slack.new_trigger_id(),
        }
        return self._sign(urlencode(form), response_url, timestamp=timestamp, signature=signature)

    def click(self, reply: Reply, action_id: str, *, user_id: str | None = None, value: str | None = None) -> Sent:
        """Click the button `action_id` that the bot rendered in `reply` (or send a doctored `value`)."""
        return self._act(button_action(reply, action_id, value), user_id)

    def select(self, reply: Reply, action_id: str, option_value: str, *, user_id: str | None = None,
               trigger_id: str | None = None) -> Sent:
        """Choose the option whose value is `option_value` in the static_select `action_id` of `reply`; a value the
        menu does not hold is sent as is (a doctored one), with the menu's first option's text. The payload carries a
        new trigger_id, or `trigger_id` (one used already, or issued long ago)."""
        menu = reply.button(action_id)
        assert menu is not None and menu.get("type") == "static_select", f"no {action_id} menu in the reply"
        options = menu["options"]
        text = next((o["text"] for o in options if o["value"] == option_value), options[0]["text"])
        action = {"action_id": action_id, "block_id": menu["block_id"], "type": "static_select",
                  "selected_option": {"text": text, "value": option_value}, "placeholder": menu.get("placeholder")}
        return self._act(action, user_id, trigger_id)

    def _act(self, action: dict[str, Any], user_id: str | None, trigger_id: str | None = None) -> Sent:
        """Send the block_actions payload Slack sends for one `action` on an ephemeral message."""
        payload = self.block_actions(action, user_id, trigger_id)
        return self.send(self._sign(urlencode({"payload": json.dumps(payload)}), payload["response_url"]))

    def block_actions(self, action: dict[str, Any], user_id: str | None = None, trigger_id: str | None = None) -> dict[str, Any]:
        """The block_actions payload Slack sends for one `action` on an ephemeral message, with a new response_url and
        a new trigger_id (or `trigger_id`); over HTTP it arrives form-encoded, in Socket Mode as an `interactive`
        envelope's payload."""
        response_url = self.slack.new_response_url()
        user = user_id or self.defaults["user_id"]
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": self.defaults["user_name"], "name": self.defaults["user_name"], "team_id": self.team_id},
            "api_app_id": "A0NUMBERS", "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": self.defaults["channel_id"],
                          "is_ephemeral": True},
            "trigger_id": trigger_id or self.slack.new_trigger_id(), "team": {"id": self.team_id, "domain": "test"},
            "enterprise": None, "is_enterprise_install": False,
            "channel": {"id": self.defaults["channel_id"], "name": self.defaults["channel_name"]},
            "state": {"values": {}}, "response_url": response_url,
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        return payload

    def send(self, request: Signed) -> Sent:
        started = time.monotonic()
        response = requests.post(f"{self.bot_url}{EVENTS_PATH}", data=request.body, headers=request.headers, timeout=self.timeout)
        return Sent(response.status_code, response.text, time.monotonic() - started, request.response_url, started)

    def _sign(self, body: str, response_url: str, *, timestamp: int | None = None, signature: str | None = None) -> Signed:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or SignatureVerifier(self.signing_secret).generate_signature(timestamp=ts, body=body),
        }
        return Signed(body.encode(), headers, response_url)

    def run(self, text: str, reply_timeout: float = 30, **kwargs: Any) -> Reply:
        """A command that must be acked, then its one reply."""
        sent = self.command(text, **kwargs)
        assert sent.status == 200, (sent.status, sent.body)
        return self.slack.wait_for_reply(sent.response_url, reply_timeout)

    def press(self, reply: Reply, action_id: str, reply_timeout: float = 30, **kwargs: Any) -> Reply:
        """A click that must be acked, then its one reply."""
        sent = self.click(reply, action_id, **kwargs)
        assert sent.status == 200, (sent.status, sent.body)
        return self.slack.wait_for_reply(sent.response_url, reply_timeout)
