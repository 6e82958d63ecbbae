"""gunicorn settings for production HTTP (`python -m bot http`, which the Procfile runs, and `python -m bot`).

Also a config module for gunicorn's own command line: `gunicorn --config python:bot.gunicorn_config bot.wsgi:application`.
"""

import logging
import signal
from types import FrameType

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from bot import logs
from bot.config import EVENTS_PATH, ConfigError, Settings, load_settings, require_http, require_instance, stop_start_up
from bot.stopping import exit_at_once

logger = logging.getLogger("bot.server")


def _http_settings() -> Settings:
    """The settings, checked in gunicorn's master before it binds or forks: a bad one stops it with one line and no worker
    boots (gunicorn prints an exception raised here with its traceback, a SystemExit not)."""
    try:
        settings = load_settings()  # reads .env too, before any worker loads the app
        require_http(settings)
        require_instance(settings)
    except ConfigError as e:
        stop_start_up(e)
    return settings


_settings = _http_settings()

bind = f"0.0.0.0:{_settings.port}"
# One process by default: the work is waiting on CCC, not CPU, and one process means one cache for every click.
workers = _settings.web_concurrency
worker_class = "gthread"
threads = _settings.gunicorn_threads
graceful_timeout = 30  # on SIGTERM, what a worker gets to finish its requests and their replies (see bot.stopping)
timeout = 30
accesslog = None
errorlog = "-"
# gunicorn's own start-up lines (Starting, Listening at, Using worker, Booting worker) say less than when_ready's one line
loglevel = {"DEBUG": "debug", "ERROR": "error"}.get(_settings.log_level, "warning")
control_socket_disable = True  # gunicornc is not used; two bots of one user would share ~/.gunicorn/gunicorn.ctl


def when_ready(server: Arbiter) -> None:
    """Once the port is bound: the one line that says where Slack must send requests, and how they are served."""
    logs.configure_logging(_settings)
    urls = ", ".join(f"{listener}{EVENTS_PATH}" for listener in server.LISTENERS)
    logger.info("HTTP mode: listening at %s (WEB_CONCURRENCY=%d worker processes, GUNICORN_THREADS=%d threads each)",
                urls, workers, threads)
    _drain_then_quit(server)


def _drain_then_quit(server: Arbiter) -> None:
    """gunicorn's master stops at once on Ctrl-C, and on a second SIGTERM still waits graceful_timeout. Here the first
    of either is a graceful stop (the workers drain) and the second a quick one (SIGQUIT: the workers exit at once)."""
    signals_seen: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        server.signal(signal.SIGQUIT if signals_seen else signal.SIGTERM, frame)  # gunicorn's handler: queued for its loop
        signals_seen.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)


def post_worker_init(worker: Worker) -> None:
    """A worker's first Ctrl-C (a terminal sends it to the master and every worker) is a graceful stop, as SIGTERM is;
    its second exits at once. gunicorn's own SIGINT handler exits at once on the first."""
    interrupts: list[int] = []

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if interrupts:
            exit_at_once("SIGINT", 0)
        interrupts.append(signum)
        worker.handle_exit(signum, frame)

    signal.signal(signal.SIGINT, on_interrupt)


def worker_int(worker: Worker) -> None:
    """gunicorn calls this in a worker told to quit at once (SIGQUIT, the master's quick stop): no drain, no waiting
    for threads, as the operator asked twice."""
    exit_at_once("SIGQUIT (the quick stop)", 0)


def worker_exit(server: Arbiter, worker: Worker) -> None:
    """A stopping worker has answered its requests; wait for the replies still being looked up (see bot.wsgi)."""
    application = getattr(worker, "wsgi", None)  # missing when the worker failed to boot
    if hasattr(application, "finish_in_flight"):
        application.finish_in_flight()
