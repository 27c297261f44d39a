"""The webhook run inside each web process, for JOBS_RUNNER=thread (`make run`).

With "celery", beat runs the same work (lms/jobs/schedule.py); "eager" (tests) and "external" run
it only when asked (`flask lms webhooks send|check`). Several processes may each run one: claiming
a delivery is a conditional update, and the status check records each change once.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask

log = logging.getLogger(__name__)
_KEY = "lms_webhooks_sender"
_lock = threading.Lock()


def _run_every(app: Flask, seconds: float, check_seconds: float, stop: threading.Event) -> None:
    from lms.webhooks.delivery import send_pending
    from lms.webhooks.events import check_statuses

    last_check = 0.0
    while not stop.wait(seconds):
        with app.app_context():
            try:
                if check_seconds > 0 and time.monotonic() - last_check >= check_seconds:
                    check_statuses()
                    last_check = time.monotonic()
                report = send_pending()
                if report.delivered or report.failed:
                    log.info("webhooks: %s", report.summary())
            except Exception:  # a database hiccup: say so and try again next time
                log.exception("the webhook run failed")


def start_sender(app: Flask) -> threading.Event | None:
    """Start this process's periodic webhook run once (the "thread" runner); its stop event."""
    started = app.extensions.get(_KEY)
    config = app.config
    if started is not None or config["JOBS_RUNNER"] != "thread" or config["WEBHOOKS_SEND_SECONDS"] <= 0:
        return started
    with _lock:
        if _KEY not in app.extensions:
            stop = threading.Event()
            threading.Thread(target=_run_every, args=(app, config["WEBHOOKS_SEND_SECONDS"],
                                                      config["WEBHOOKS_CHECK_SECONDS"], stop),
                             name="lms-webhooks-sender", daemon=True).start()
            app.extensions[_KEY] = stop
        return app.extensions[_KEY]
