"""bolt's request signature check, with a refused request logged as one WARNING line: why it was refused, and which team
and user it claims to come from. Never the signature and never the body: the body holds the response_url, which lets
whoever reads the log post as the bot for 30 minutes.

https://api.slack.com/authentication/verifying-requests-from-slack
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence

from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

logger = logging.getLogger(__name__)

# more than five minutes from the local clock could be a replay: https://api.slack.com/authentication/verifying-requests-from-slack
TIMESTAMP_WINDOW_SECONDS = 60 * 5  # as slack_sdk's SignatureVerifier, which decides
SLACK_ID_RE = re.compile(r"^[A-Z0-9]{2,32}$")  # team and user IDs; anything else in a forged body is not echoed to the log


def refusal_reason(headers: Mapping[str, Sequence[str]], body: str, verifier: SignatureVerifier) -> str | None:
    """Why Slack did not sign this request, or None when it did. `headers` as bolt keeps them: lower-case names, lists."""
    timestamp = (headers.get("x-slack-request-timestamp") or [""])[0]
    signature = (headers.get("x-slack-signature") or [""])[0]
    if not timestamp or not signature:
        return "missing headers"
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return "malformed timestamp"
    if verifier.is_valid(body, timestamp, signature):
        return None
    offset = verifier.clock.now() - int(timestamp)
    if abs(offset) > TIMESTAMP_WINDOW_SECONDS:
        return f"stale timestamp, {offset:+.0f} s from this server's clock"
    return "bad signature"


def log_refusal(reason: str, team_id: str | None = None, user_id: str | None = None) -> None:
    logger.warning("refused a request (%s); it claims team %s, user %s", reason, _shown(team_id), _shown(user_id))


def _shown(slack_id: str | None) -> str:
    return slack_id if slack_id and SLACK_ID_RE.match(slack_id) else "unknown"


class LoggedRequestVerification(RequestVerification):
    """bolt's RequestVerification (same verifier, same 401), logging the refusal as `log_refusal` does instead of bolt's
    INFO line with the signature and the body."""

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        if self._can_skip(req.mode, req.body):
            return next()
        reason = refusal_reason(req.headers, req.raw_body, self.verifier)
        if reason is None:
            return next()
        log_refusal(reason, req.context.team_id, req.context.user_id)
        return self._build_error_response()
