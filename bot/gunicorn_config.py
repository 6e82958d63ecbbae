"""gunicorn settings for production HTTP, shared by the Procfile and `python -m bot`."""

import os
from pathlib import Path

from dotenv import load_dotenv
from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

load_dotenv(Path.cwd() / ".env", override=False)  # the Procfile's gunicorn reads this file before the app loads .env

bind = f"0.0.0.0:{os.environ.get('PORT') or '3000'}"
# One process by default: the work is waiting on CCC, not CPU, and one process means one cache for every click.
workers = int(os.environ.get("WEB_CONCURRENCY") or 1)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
graceful_timeout = 30  # on SIGTERM, what a worker gets to finish its requests and their replies
timeout = 30
accesslog = None
errorlog = "-"


def worker_exit(server: Arbiter, worker: Worker) -> None:
    """A stopping worker has answered its requests; wait for the replies still being looked up (see bot.wsgi)."""
    application = getattr(worker, "wsgi", None)  # missing when the worker failed to boot
    if hasattr(application, "finish_in_flight"):
        application.finish_in_flight()
