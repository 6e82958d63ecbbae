"""The audit trail: one JSON line for every command, page, share and export; who, where, what, how many, how long, outcome.

`pid` names the process that served it, to match the line with the rest of that process's log.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.errors import Problem
from bot.filters import Query
from bot.logs import AUDIT_LOGGER
from bot.page import Page

MAX_TEXT = 200
logger = logging.getLogger(AUDIT_LOGGER)


@dataclass(frozen=True)
class Who:
    """Who asked, and in which conversation (Slack IDs, plus the user name Slack sent, for people reading the trail)."""

    user: str
    channel: str
    name: str = ""


def audit_line(event: str, who: Who, outcome: str, *, query: Query | None = None, page: Page | None = None,
               problem: Problem | None = None, text: str | None = None, results: int | None = None,
               latency_ms: float | None = None, now: datetime | None = None) -> str:
    """One JSON object on one line; fields that do not apply are left out."""
    entry: dict[str, Any] = {
        "ts": (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "pid": os.getpid(), "event": event, "user": who.user, "user_name": who.name or None, "channel": who.channel,
        "outcome": outcome, "text": text[:MAX_TEXT] if text is not None else None,
    }
    if query is not None:
        entry |= {"instance": query.instance_id, "page": query.page,
                  "filters": {"pattern": query.pattern or None, "usage": query.usage, "active": query.active,
                              **dict(query.row_filters)}}
    if page is not None:
        entry |= {"page": page.query.page, "results": page.total, "shown": len(page.numbers)}
    if results is not None:
        entry["results"] = results
    if problem is not None:
        entry |= {"error": problem.kind, "code": problem.code or None, "request_id": problem.request_id or None}
    if latency_ms is not None:
        entry["latency_ms"] = round(latency_ms, 1)
    return json.dumps({k: v for k, v in entry.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))


def record(event: str, who: Who, outcome: str, **details: Any) -> None:
    logger.info(audit_line(event, who, outcome, **details))
