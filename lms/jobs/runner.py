"""Who runs jobs: the one interface is `submit(job_id)`, called after the job's row is committed.

- "thread" (default): a small pool of worker threads inside the web process. Each run
  gets its own app context and therefore its own database session.
- "eager": runs at once in the calling thread (still in a fresh context and session),
  for tests and one-off scripts.
- "celery": sends the job's id to Celery workers on any machine (lms/jobs/celery_runner.py);
  Celery beat runs the schedules (lms/jobs/schedule.py).
- "external": does nothing at submit; `flask --app wsgi lms jobs run-pending` runs what is queued.

Whoever runs it, the job's row is the truth: claiming it is a conditional update, so an id
delivered twice runs once. Job code (e.g. lms/evidence/exports.py) is the same whichever runner runs it.

Jobs run inside a request context built from BASE_URL, so links they write (a
certificate's verification address) point at the public site, as e-mails do.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.config import ConfigError
from lms.jobs.models import JobState

log = logging.getLogger(__name__)
_EXTENSION_KEY = "lms_jobs_runner"
_create_lock = threading.Lock()  # two first requests at once must not start two pools


class Runner(Protocol):
    def submit(self, job_id: int) -> None: ...


@contextmanager
def job_context(app: Flask) -> Iterator[None]:
    """The context any background work runs in: a fresh app context and session, URLs from BASE_URL."""
    # A new app context always (a request context would reuse the caller's, and its session);
    # REMOTE_ADDR empty: audit events written by a job record no client address.
    with app.app_context(), app.test_request_context("/", base_url=app.config["BASE_URL"],
                                                     environ_base={"REMOTE_ADDR": ""}):
        yield


def run_in_context(app: Flask, job_id: int, retries_left: int = 0) -> JobState | None:
    """Run one job the way any worker must (see `job_context` and `services.run_job`).

    Returns the job's final state (QUEUED: to be retried), or None if it was not claimable.
    """
    from lms.jobs.services import run_job

    with job_context(app):
        return run_job(job_id, retries_left)


class EagerRunner:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def submit(self, job_id: int) -> None:
        run_in_context(self.app, job_id)


class ExternalRunner:
    """Leaves the job queued for `flask lms jobs run-pending` in another process."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def submit(self, job_id: int) -> None:
        log.info("job %s queued for an external worker", job_id)


class ThreadRunner:
    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lms-job")
        self._futures: set[Future] = set()

    def submit(self, job_id: int) -> None:
        future = self._pool.submit(run_in_context, self.app, job_id)
        self._futures.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        self._futures.discard(future)
        if future.exception() is not None:  # run_job records job failures itself; this is the runner failing
            log.error("job runner thread failed", exc_info=future.exception())

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job has finished (tests, shutdown); True if they all did."""
        _, pending = wait(list(self._futures), timeout=timeout)
        return not pending

    def shutdown(self) -> None:
        """Finish the running jobs and stop the threads (queued ones stay queued for a later run)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def runner_for(app: Flask) -> Runner:
    """The app's runner, created on first use (create_app starts no threads)."""
    with _create_lock:
        return app.extensions.get(_EXTENSION_KEY) or _create(app)


def _create(app: Flask) -> Runner:
    name = app.config["JOBS_RUNNER"]
    runner: Runner
    if name == "thread":
        runner = ThreadRunner(app, app.config["JOBS_THREADS"])
    elif name == "eager":
        runner = EagerRunner(app)
    elif name == "external":
        runner = ExternalRunner(app)
    elif name == "celery":
        from lms.jobs.celery_runner import CeleryRunner  # Celery is loaded only where it is used

        runner = CeleryRunner(app)
    else:
        raise ConfigError(f"JOBS_RUNNER={name!r} is not one of thread, eager, celery, external")
    app.extensions[_EXTENSION_KEY] = runner
    return runner


def submit(job_id: int) -> None:
    """Hand a committed job to the configured runner."""
    runner_for(current_app._get_current_object()).submit(job_id)


_AFTER_COMMIT_KEY = "lms_jobs_after_commit"


def submit_after_commit(session: Session, job_id: int) -> None:
    """Hand a job queued in `session`'s transaction to the runner once that transaction commits.

    For jobs queued by a signal subscriber, which runs inside the sender's transaction and must
    not commit it: a runner started earlier would not see the row. Dropped on rollback.
    """
    pending = session.info.setdefault(_AFTER_COMMIT_KEY, [])
    if not pending:
        app = current_app._get_current_object()
        event.listen(session, "after_commit", lambda s: _submit_pending(app, s), once=True)
        event.listen(session, "after_rollback", _drop_pending, once=True)
    pending.append(job_id)


def _submit_pending(app: Flask, session: Session) -> None:
    for job_id in session.info.pop(_AFTER_COMMIT_KEY, []):
        runner_for(app).submit(job_id)


def _drop_pending(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)


# --- the audit sealer -------------------------------------------------------------------------

_SEALER_KEY = "lms_audit_sealer"


def _seal_every(app: Flask, seconds: float, stop: threading.Event) -> None:
    from lms.audit.publishing import seal_and_publish

    while not stop.wait(seconds):
        with app.app_context():
            try:
                result = seal_and_publish()
                if result.sealed:
                    log.info("audit log sealed: %s event(s), tree size %s", result.sealed, result.tree_size)
            except Exception:  # a missing key or a broken log: say so and try again next time
                log.exception("sealing the audit log failed")


def start_audit_sealer(app: Flask) -> threading.Event | None:
    """Start this process's periodic audit sealer once (the "thread" runner only); its stop event.

    Seals every AUDIT_SEAL_SECONDS (0: never) in a daemon thread. With several processes each runs one;
    the sealer's own lock lets one seal at a time. With "celery", beat schedules the sealer
    (lms/jobs/schedule.py); "eager" (tests) and "external" seal only when asked.
    """
    started = app.extensions.get(_SEALER_KEY)
    if started is not None or app.config["JOBS_RUNNER"] != "thread" or app.config["AUDIT_SEAL_SECONDS"] <= 0:
        return started
    with _create_lock:
        if _SEALER_KEY not in app.extensions:
            stop = threading.Event()
            threading.Thread(target=_seal_every, args=(app, app.config["AUDIT_SEAL_SECONDS"], stop),
                             name="lms-audit-sealer", daemon=True).start()
            app.extensions[_SEALER_KEY] = stop
        return app.extensions[_SEALER_KEY]
