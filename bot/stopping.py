"""A clean stop. The first SIGTERM or Ctrl-C: no new work, and the work under way gets DRAIN_SECONDS to finish. A summary
or export still running then is told that the bot is restarting (one private reply, one audit line) and the process
exits without it. A second SIGTERM or Ctrl-C exits at once."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, NoReturn

from slack_bolt import Respond

from bot import audit
from bot.audit import Who
from bot.filters import Query
from bot.formatters import notice_message
from bot.replies import reply

# gunicorn's graceful_timeout (30 s, bot.gunicorn_config) must cover a stopping worker's whole exit: its kept-alive
# connections (2 s at most), the drain, and the replies to the work cut off. The drain outlasts one lookup from a CCC
# that hangs, at the default timeouts (3 attempts of a 5 s read, 2 s at most between them): a walk is what it cuts off.
DRAIN_SECONDS = 20
CUT_OFF_REPLY_SECONDS = 5
logger = logging.getLogger(__name__)


@dataclass(eq=False)
class LongTask:
    """A summary or export under way: who asked, and where the one answer goes."""

    event: str
    who: Who
    respond: Respond
    query: Query
    started: float  # time.monotonic()
    _answered: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self) -> bool:
        """True for the first caller only, the work or the stop: that one answers the user."""
        with self._lock:
            first, self._answered = not self._answered, True
            return first

    @property
    def answered(self) -> bool:
        return self._answered


class LongTasks:
    """The summaries and exports running in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[LongTask] = set()

    def start(self, event: str, who: Who, respond: Respond, query: Query, started: float) -> LongTask:
        """A task now running; `finish` it before its answer. One never finished (a bug) is answered by a stop."""
        task = LongTask(event, who, respond, query, started)
        with self._lock:
            self._running.add(task)
        return task

    def finish(self, task: LongTask) -> bool:
        """The task's work is done: True when it is its to answer, False when a stop has answered already."""
        with self._lock:
            self._running.discard(task)
        return task.claim()

    def claim_all(self) -> list[LongTask]:
        """The tasks still running that nobody has answered yet, now the stop's to answer."""
        with self._lock:
            running = list(self._running)
        return [task for task in running if task.claim()]


long_tasks = LongTasks()


class ListenerPool(ThreadPoolExecutor):
    """bolt's listener executor, which can wait a bounded time for the work under way (shutdown(wait=True) waits
    for as long as that work takes: a summary's walk can take minutes)."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._under_way_lock = threading.Lock()
        self._under_way: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._under_way_lock:
            self._under_way.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._under_way_lock:
            self._under_way.discard(future)

    def drain(self, timeout: float) -> int:
        """Take no more work and wait `timeout` s at most for the work under way; how much of it is still running."""
        self.shutdown(wait=False)
        with self._under_way_lock:
            under_way = set(self._under_way)
        return len(wait(under_way, timeout).not_done)


def finish_or_cut_off(pool: ListenerPool) -> None:
    """Wait DRAIN_SECONDS at most for the replies still being looked up. Past that, each summary or export still
    running is told the bot is restarting, and the process exits without waiting for the rest."""
    still_running = pool.drain(DRAIN_SECONDS)
    if not still_running:
        return
    cut_off = long_tasks.claim_all()
    logger.warning("stopping: %d replies still in progress after %d s; telling the %d summaries and exports among them "
                   "to run again", still_running, DRAIN_SECONDS, len(cut_off))
    answer_cut_off(cut_off)
    exit_now(0)


def answer_cut_off(tasks: list[LongTask]) -> None:
    """One private reply and one audit line for each task; CUT_OFF_REPLY_SECONDS at most for them all."""
    posts = [threading.Thread(target=_answer_cut_off, args=(task,), daemon=True) for task in tasks]
    for post in posts:
        post.start()
    deadline = time.monotonic() + CUT_OFF_REPLY_SECONDS
    for post in posts:
        post.join(max(0.0, deadline - time.monotonic()))


def _answer_cut_off(task: LongTask) -> None:
    what = "export" if task.event == "export" else "summary"
    message = notice_message(f"The bot is restarting and stopped your {what} before it was done; please run it again "
                             "in a minute.")
    reply(task.respond, task.event, task.who, message, response_type="ephemeral", replace_original=False)
    audit.record(task.event, task.who, "cut-off", query=task.query, latency_ms=(time.monotonic() - task.started) * 1000)


def exit_at_once(signal_name: str, code: int) -> NoReturn:
    """A second stop signal: the operator wants the process gone, not drained."""
    logger.warning("%s: a second stop signal; exiting at once, without finishing the replies still in progress",
                   signal_name)
    exit_now(code)


def exit_now(code: int) -> NoReturn:
    """Exit without joining the threads still at work (Python's own exit waits for every one), logs flushed first."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
