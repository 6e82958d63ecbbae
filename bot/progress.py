"""When to tell a user how far a long count has got: rarely, since a response_url takes only 5 posts in 30 minutes."""

from __future__ import annotations

import time
from collections.abc import Callable

QUIET_SECONDS = 1.0  # a count done sooner gets no progress note at all, just its result
HALFWAY_GAP_SECONDS = 2.0  # the halfway note only this long after the first, or it would flash past


class ProgressNotes:
    """Called with (rows read, rows to read) as a count goes on; calls `post` with the same at most `limit` times:

    the first once QUIET_SECONDS have passed, the second once the count is past half and HALFWAY_GAP_SECONDS after
    the first. Nothing once everything is read: the result is about to replace the note."""

    def __init__(self, post: Callable[[int, int], None], *, limit: int = 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.post, self.limit, self.clock = post, limit, clock
        self.started = clock()
        self.posted: list[float] = []  # when each note went out

    def __call__(self, done: int, total: int) -> None:
        if len(self.posted) >= self.limit or done >= total:
            return
        now = self.clock()
        due = (now - self.started >= QUIET_SECONDS if not self.posted
               else 2 * done >= total and now - self.posted[-1] >= HALFWAY_GAP_SECONDS)
        if due:
            self.posted.append(now)
            self.post(done, total)
