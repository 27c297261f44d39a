"""The delivery run inside each web process, for JOBS_RUNNER=thread (`make run`).

With "celery", beat runs the delivery (lms/jobs/schedule.py); "eager" (tests) and "external" send
only when asked (`flask lms xapi send`). Several processes may each run one: claiming is a
conditional update, so they never send a statement together.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)
_KEY = "lms_xapi_sender"
_lock = threading.Lock()


def _send_every(app: Flask, seconds: float, stop: threading.Event) -> None:
    from lms.xapi.delivery import send_pending

    while not stop.wait(seconds):
        with app.app_context():
            try:
                report = send_pending()
                if report.delivered or report.failed:
                    log.info("xAPI: %s", report.summary())
            except Exception:  # a database hiccup: say so and try again next time
                log.exception("sending xAPI statements failed")


def start_sender(app: Flask) -> threading.Event | None:
    """Start this process's periodic delivery once (the "thread" runner with an LRS set); its stop event."""
    started = app.extensions.get(_KEY)
    config = app.config
    if started is not None or config["JOBS_RUNNER"] != "thread" or not config["XAPI_LRS_URL"] \
            or config["XAPI_SEND_SECONDS"] <= 0:
        return started
    with _lock:
        if _KEY not in app.extensions:
            stop = threading.Event()
            threading.Thread(target=_send_every, args=(app, config["XAPI_SEND_SECONDS"], stop),
                             name="lms-xapi-sender", daemon=True).start()
            app.extensions[_KEY] = stop
        return app.extensions[_KEY]
