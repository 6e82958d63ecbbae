import json
from datetime import UTC, datetime

from bot.audit import Who, audit_line
from bot.errors import Problem
from bot.filters import Query
from bot.page import Page, PhoneNumber

NOW = datetime(2026, 11, 27, 13, 45, 0, 123000, tzinfo=UTC)
ALICE = Who("U0ALICE", "C0OPS", "alice")


def test_a_lookup_line_says_who_where_what_how_many_how_long_and_how_it_ended() -> None:
    query = Query(instance_id="ccc-test", pattern="0833", usage="Inbound", page=2)
    page = Page(query, (PhoneNumber("083300000001"),), 94, 10, 2)
    line = audit_line("command", ALICE, "ok", query=query, page=page, text="0833 inbound page 2", latency_ms=41.26, now=NOW)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.pop("pid") > 0
    assert entry == {
        "ts": "2026-11-27T13:45:00.123Z", "event": "command", "user": "U0ALICE", "user_name": "alice", "channel": "C0OPS",
        "outcome": "ok", "text": "0833 inbound page 2", "instance": "ccc-test", "page": 2,
        "filters": {"pattern": "0833", "usage": "Inbound", "active": None}, "results": 94, "shown": 1, "latency_ms": 41.3,
    }


def test_a_failed_lookup_names_the_error_code_and_request_id() -> None:
    problem = Problem("throttled", "CCC is rate-limiting requests right now.", "Throttling.User", "REQ-1")
    entry = json.loads(audit_line("page", ALICE, "error", query=Query(instance_id="ccc-test"), problem=problem, now=NOW))
    assert (entry["error"], entry["code"], entry["request_id"]) == ("throttled", "Throttling.User", "REQ-1")
    assert "results" not in entry and "text" not in entry


def test_typed_text_is_clipped_and_stays_on_one_line() -> None:
    text = "<!channel>\n" + "9" * 500
    entry = json.loads(audit_line("command", Who("U0BOB", "C0OPS"), "invalid", text=text, now=NOW))
    assert entry["text"] == text[:200]
    assert "user_name" not in entry
