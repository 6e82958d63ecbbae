"""A local HTTP proxy that counts what it is asked to carry, and the ECS instance metadata service behind it.

The Alibaba Cloud SDK sends every call through HTTP_PROXY / HTTPS_PROXY when they are set, the credential chain's
ECS RAM role probe included (it asks http://100.100.100.200, which only an ECS instance answers). Pointing HTTP_PROXY
at this proxy is how a test puts the bot on an ECS host: the proxy answers for 100.100.100.200 as the metadata service
does, forwards the hosts it is given to local servers, and refuses everything else as a proxy that cannot connect does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

METADATA_HOST = "100.100.100.200"  # the address alibabacloud_credentials' EcsRamRoleCredentialsProvider asks
# https://www.alibabacloud.com/help/en/ecs/user-guide/view-instance-metadata (IMDSv2: PUT /latest/api/token first)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TOKEN_PATH = "/latest/api/token"
ROLE_PATH = "/latest/meta-data/ram/security-credentials/"


@dataclass(frozen=True)
class EcsRole:
    """The RAM role attached to the stand-in ECS instance, and the STS credentials the metadata service hands out."""

    name: str
    access_key_id: str
    access_key_secret: str
    security_token: str = "sts-token-from-the-metadata-service"

    def credentials(self) -> dict[str, str]:
        # https://www.alibabacloud.com/help/en/ecs/user-guide/attach-an-instance-ram-role-to-an-ecs-instance
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6 * 3600))
        return {"AccessKeyId": self.access_key_id, "AccessKeySecret": self.access_key_secret, "SecurityToken": self.security_token,
                "Expiration": expires, "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "Code": "Success"}


class CountingProxy(ThreadingHTTPServer):
    """A forward proxy on 127.0.0.1. `routes` maps a host the bot asks for to the local `host:port` that answers for it;
    `role` makes it answer for the ECS metadata service; `metadata_delay` makes that service slow.

    `carried` counts every request it was asked to carry by the host[:port] asked for (CONNECT included); loopback
    destinations are carried to where they say."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: dict[str, str] | None = None, role: EcsRole | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.routes = routes or {}
        self.role = role
        self.metadata_delay = 0.0
        self.carried: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, host: str) -> None:
        with self._lock:
            self.carried[host] += 1

    def start(self) -> CountingProxy:
        threading.Thread(target=self.serve_forever, name="proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.shutdown()
        self.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    server: CountingProxy
    protocol_version = "HTTP/1.1"

    def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.count(self.path)  # host:port
        self._answer(502, b"this proxy opens no tunnels", "text/plain")  # as a proxy that cannot reach the host answers

    def do_GET(self) -> None:  # noqa: N802
        self._carry()

    def do_PUT(self) -> None:  # noqa: N802
        self._carry()

    def do_POST(self) -> None:  # noqa: N802
        self._carry()

    def _carry(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        url = urlsplit(self.path)  # a request to a proxy names the whole URL (RFC 9112, 3.2.2 absolute-form)
        host = url.hostname or ""
        self.server.count(url.netloc)
        if host == METADATA_HOST:
            self._metadata(url.path)
        elif host in self.server.routes:
            self._forward(self.server.routes[host], url, body)
        elif host in LOOPBACK:  # this machine: carried as asked, as any proxy on it would
            self._forward(url.netloc, url, body)
        else:
            self._answer(502, f"cannot reach {host}".encode(), "text/plain")

    def _metadata(self, path: str) -> None:
        role = self.server.role
        if self.server.metadata_delay:
            self.server._stopping.wait(self.server.metadata_delay)
        if role is None:  # not an ECS instance, or one without a RAM role
            self._answer(404, b"Not Found", "text/plain")
        elif self.command == "PUT" and path == TOKEN_PATH:
            self._answer(200, uuid.uuid4().hex.encode(), "text/plain")
        elif path == ROLE_PATH:
            self._answer(200, role.name.encode(), "text/plain")
        elif path == ROLE_PATH + role.name:
            self._answer(200, json.dumps(role.credentials()).encode(), "application/json")
        else:
            self._answer(404, b"Not Found", "text/plain")

    def _forward(self, upstream: str, url: Any, body: bytes) -> None:
        target = f"http://{upstream}{url.path}" + (f"?{url.query}" if url.query else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        with requests.Session() as session:
            session.trust_env = False  # straight to the local server, whatever the test process's proxy variables say
            answer = session.request(self.command, target, headers=headers, data=body, timeout=30)
        self._answer(answer.status_code, answer.content, answer.headers.get("content-type", "application/octet-stream"))

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass
