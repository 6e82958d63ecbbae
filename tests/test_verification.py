"""bot.verification: why a request is refused, decided by slack_sdk's SignatureVerifier on a fixed clock."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from bot.verification import log_refusal, refusal_reason

SECRET = "unit-signing-secret"
NOW = 1_700_000_000
BODY = "token=x&team_id=T0TEST&user_id=U0ALICE&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0%2F1%2Fsecret"


class FixedClock(Clock):
    def now(self) -> float:
        return NOW


VERIFIER = SignatureVerifier(SECRET, clock=FixedClock())


def headers(timestamp: int | str | None = NOW, signature: str | None = None) -> dict[str, list[str]]:
    """Headers as bolt keeps them; signed by Slack's rules unless `signature` is given."""
    found = {}
    if timestamp is not None:
        found["x-slack-request-timestamp"] = [str(timestamp)]
    if signature != "":
        found["x-slack-signature"] = [signature or VERIFIER.generate_signature(timestamp=str(timestamp), body=BODY)]
    return found


def test_a_request_slack_signed_is_not_refused():
    assert refusal_reason(headers(), BODY, VERIFIER) is None
    assert refusal_reason(headers(NOW - 299), BODY, VERIFIER) is None


@pytest.mark.parametrize(("given", "reason"), [
    (headers(timestamp=None), "missing headers"),
    (headers(signature=""), "missing headers"),
    ({}, "missing headers"),
    (headers(signature="v0=" + "0" * 64), "bad signature"),
    (headers(timestamp="12abc"), "malformed timestamp"),
    (headers(timestamp="-5"), "malformed timestamp"),
    (headers(timestamp="１２３"), "malformed timestamp"),  # digits Python's int() takes, Slack never sends
])
def test_a_refusal_names_its_reason(given, reason):
    assert refusal_reason(given, BODY, VERIFIER) == reason


def test_a_body_changed_after_signing_has_a_bad_signature():
    assert refusal_reason(headers(), BODY.replace("U0ALICE", "U0MALLORY"), VERIFIER) == "bad signature"


@pytest.mark.parametrize(("timestamp", "offset"), [(NOW - 301, "+301 s"), (NOW + 3600, "-3600 s")])
def test_a_timestamp_outside_five_minutes_is_stale_and_says_by_how_much(timestamp, offset):
    reason = refusal_reason(headers(timestamp), BODY, VERIFIER)
    assert reason == f"stale timestamp, {offset} from this server's clock"


def test_the_refusal_line_names_team_and_user_and_echoes_nothing_else(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.verification"):
        log_refusal("bad signature", "T0TEST", "U0ALICE")
        log_refusal("bad signature", "T0TEST\nINFO forged line", "<!channel>")
        log_refusal("missing headers")
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "refused a request (bad signature); it claims team T0TEST, user U0ALICE"
    assert lines[1] == "refused a request (bad signature); it claims team unknown, user unknown"
    assert lines[2] == "refused a request (missing headers); it claims team unknown, user unknown"
    assert all(record.levelno == logging.WARNING for record in caplog.records)
