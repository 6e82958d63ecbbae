"""gunicorn settings for production HTTP, shared by the Procfile and `python -m bot`."""

import os
from pathlib import Path

from dotenv import load_dotenv

load_dotenv(Path.cwd() / ".env", override=False)  # the Procfile's gunicorn reads this file before the app loads .env

bind = f"0.0.0.0:{os.environ.get('PORT') or '3000'}"
# One process by default: the work is waiting on CCC, not CPU, and one process means one cache for every click.
workers = int(os.environ.get("WEB_CONCURRENCY") or 1)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
graceful_timeout = 30  # lets in-flight replies finish on SIGTERM
timeout = 30
accesslog = None
errorlog = "-"
