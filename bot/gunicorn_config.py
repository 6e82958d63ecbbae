"""gunicorn settings for production HTTP, shared by the Procfile and `python -m bot`."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT') or '3000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
graceful_timeout = 30  # lets in-flight replies finish on SIGTERM
timeout = 30
accesslog = None
errorlog = "-"
