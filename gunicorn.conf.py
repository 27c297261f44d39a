"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every setting can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""
from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("LMS_BIND", "127.0.0.1:8000")
# Sync workers: measured faster than threads on this app (bench/README.md).
workers = int(os.environ.get("LMS_WORKERS", multiprocessing.cpu_count() * 2))
# A PDF render has its own time limit (20 s) inside the worker; leave room above it.
timeout = 60
accesslog = "-"
# The access log never keeps a one-time link's token (lms/access_log.py).
logger_class = "lms.access_log.AccessLogger"


def post_worker_init(worker) -> None:
    """Start the worker's PDF renderer process at boot, so the first certificate download
    does not also pay for starting it (bench/evidence.py measures the difference)."""
    from lms.evidence.renderer import start_renderer

    start_renderer()
