"""Jobs: request, claim, run, finish, fail, retry; who may see which.

Retrying resets the same job row (attempts counts the runs) instead of creating a
new one: the page a person is watching and the audit trail keep one id per export,
and a job only ever has files once it has succeeded, so there is nothing to clean up.

A run is identified by (job id, attempt). Every write a run makes is conditional on
that pair, so a run that was declared interrupted and then retried cannot overwrite
the newer run's state or add files to it, even if its process comes back to life.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, select, update
from sqlalchemy.orm import selectinload

from lms.accounts.models import Organisation, Role, User
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db
from lms.jobs import kinds, runner
from lms.jobs.context import JobContext, JobFailed, OutputFile
from lms.jobs.models import Job, JobFile, JobState
from lms.policy import audit_scope

log = logging.getLogger(__name__)

INTERRUPTED = ("The export was interrupted (the server restarted or its worker stopped) before it finished. "
               "Retry to run it again.")


class JobError(ValueError):
    """A request that cannot be accepted (unknown kind, organisation out of scope, not retryable)."""


class Superseded(Exception):
    """This run is no longer the job's current run (it was declared interrupted and retried)."""


def stale_after() -> timedelta:
    return timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])


def exportable_organisations(actor: User) -> list[Organisation]:
    """The organisations the actor may export: a scoped auditor's partner, or all for company-wide roles."""
    query = select(Organisation).order_by(Organisation.name)
    scope = audit_scope(actor)
    return list(db.session.scalars(query if scope is None else query.where(Organisation.id == scope)))


def restrict_jobs(actor: User, query: Select) -> Select:
    """Limit a SELECT over Job: admins see every job, everyone else their own, and a scoped
    auditor only those within their current scope (a job from before a scope change is gone)."""
    if actor.role is Role.ADMIN:
        return query
    query = query.where(Job.requested_by_id == actor.id)
    scope = audit_scope(actor)
    return query if scope is None else query.where(Job.organisation_id == scope)


def visible_jobs(actor: User) -> Select:
    """The actor's jobs, newest first (every job for admins), without the kinds nobody asked for."""
    return (restrict_jobs(actor, select(Job).where(Job.kind.not_in(kinds.unlisted_names())))
            .order_by(Job.id.desc())
            .options(selectinload(Job.requested_by), selectinload(Job.organisation)))


def job_for(actor: User, job_id: int) -> Job | None:
    """One job if the actor may see it; None (a 404) otherwise."""
    return db.session.scalar(restrict_jobs(actor, select(Job).where(Job.id == job_id)))


def request_export(actor: User, kind: str, organisation_id: int, params: Mapping[str, Any] | None = None) -> Job:
    """Queue an export and audit the request; the caller commits, then calls runner.submit(job.id)."""
    if kinds.get(kind) is None:
        raise JobError(_("Unknown export \"%(kind)s\".", kind=kind))
    if organisation_id not in {o.id for o in exportable_organisations(actor)}:
        raise JobError(_("You may not export this organisation."))
    job = Job(kind=kind, params=dict(params or {}), requested_by_id=actor.id, organisation_id=organisation_id,
              state=JobState.QUEUED, heartbeat_at=now())
    db.session.add(job)
    db.session.flush()
    record("export.requested", actor=actor, target=job, job_id=job.id, kind=kind, organisation_id=organisation_id,
           params=job.params)
    return job


def queue_after_commit(kind: str, params: Mapping[str, Any], *, requested_by_id: int,
                       organisation_id: int | None) -> Job:
    """Queue follow-up work nobody asked for on a page (a signal subscriber's): no scope check and
    no audit event of its own (the work audits what it does). It reaches the runner once the
    current transaction commits, and vanishes with it on rollback."""
    job = Job(kind=kind, params=dict(params), requested_by_id=requested_by_id, organisation_id=organisation_id,
              state=JobState.QUEUED, heartbeat_at=now())
    db.session.add(job)
    db.session.flush()
    runner.submit_after_commit(db.session(), job.id)
    return job


def is_retryable(job: Job) -> bool:
    return job.state is JobState.FAILED or job.interrupted(stale_after())


def retry(actor: User, job: Job) -> Job:
    """Queue a failed (or interrupted) job again, as the same job; the caller commits and submits."""
    if not is_retryable(job):
        raise JobError(_("Only a failed or interrupted export can be retried."))
    job.state = JobState.QUEUED
    job.progress_done = job.progress_total = 0
    job.error = None
    job.started_at = job.finished_at = None
    job.heartbeat_at = now()
    db.session.flush()
    record("export.retried", actor=actor, target=job, job_id=job.id, kind=job.kind,
           organisation_id=job.organisation_id, previous_attempts=job.attempts)
    return job


def record_download(actor: User, job: Job, file: JobFile) -> None:
    record("export.downloaded", actor=actor, target=job, job_id=job.id, kind=job.kind,
           organisation_id=job.organisation_id, file=file.name, sha256=file.sha256)


# ---- running (called by a runner, in its own app context and database session) ----------

def claim(job_id: int) -> int | None:
    """Mark a queued job running and commit; the run's attempt number, or None if another took it."""
    at = now()
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, attempts=Job.attempts + 1, started_at=at, heartbeat_at=at,
                progress_done=0, progress_total=0, error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    return db.session.scalar(select(Job.attempts).where(Job.id == job_id))


def _this_run(job_id: int, attempt: int):
    return (Job.id == job_id, Job.attempts == attempt, Job.state == JobState.RUNNING)


def run_job(job_id: int, retries_left: int = 0) -> JobState | None:
    """Claim a queued job, run its kind, then store its files and success, or its failure.

    An unexpected error (not JobFailed, which is the job's own verdict) with `retries_left` puts
    the job back in the queue with a note saying it will be tried again, and returns QUEUED: the
    runner then submits it again after a backoff (only the Celery runner retries by itself).
    Returns the final state, or None when the job was not claimable (already taken or finished).
    """
    attempt = claim(job_id)
    if attempt is None:
        return None
    job = db.session.get(Job, job_id)
    kind = kinds.get(job.kind)
    ctx = JobContext(job_id=job.id, params=dict(job.params), organisation_id=job.organisation_id,
                     requested_by_id=job.requested_by_id,
                     _progress=lambda done, total: _report_progress(job_id, attempt, done, total))
    try:
        if kind is None:
            raise JobFailed(f"This server does not know how to run a {job.kind!r} job.")
        files = kind.run(ctx)
    except Superseded:
        db.session.rollback()
        log.warning("job %s attempt %s was superseded by a retry; its work is dropped", job_id, attempt)
        return None
    except Exception as exc:  # noqa: BLE001 - any failure of job code is reported on the job
        db.session.rollback()
        log.exception("job %s (%s) attempt %s failed", job_id, job.kind, attempt)
        if retries_left > 0 and not isinstance(exc, JobFailed):
            return _queue_again(job_id, attempt, f"Run {attempt} stopped because of an error; "
                                                 "it is tried again automatically in a moment.")
        return _finish_failed(job_id, attempt, friendly_error(exc))
    return _finish_succeeded(job_id, attempt, files)


def friendly_error(exc: Exception) -> str:
    """What a person is told: our own messages as they are, anything else without internals."""
    if isinstance(exc, JobFailed):
        return str(exc)
    # Errors whose messages name server paths and settings (a package registers them): those
    # messages are for the log and the administrator only.
    message = kinds.server_failure_message(exc)
    if message is not None:
        return message
    return (f"The export stopped because of an unexpected error ({type(exc).__name__}). "
            "The details are in the server log; retrying may help.")


def _report_progress(job_id: int, attempt: int, done: int, total: int) -> None:
    # Also commits the work done so far (see JobContext.report_progress).
    updated = db.session.execute(
        update(Job).where(*_this_run(job_id, attempt))
        .values(progress_done=max(0, min(done, total)), progress_total=max(0, total), heartbeat_at=now())
        .execution_options(synchronize_session=False))
    if updated.rowcount != 1:
        db.session.rollback()
        raise Superseded(job_id)
    db.session.commit()


def _finish_succeeded(job_id: int, attempt: int, files: Sequence[OutputFile]) -> JobState | None:
    """Files and the success in one transaction: either both are there, or neither."""
    finished = db.session.execute(
        update(Job).where(*_this_run(job_id, attempt))
        .values(state=JobState.SUCCEEDED, finished_at=now(), heartbeat_at=now())
        .execution_options(synchronize_session=False))
    if finished.rowcount != 1:
        db.session.rollback()
        return None
    for file in files:
        db.session.add(JobFile(job_id=job_id, name=file.name, media_type=file.media_type, data=file.data,
                               sha256=hashlib.sha256(file.data).hexdigest(), size=len(file.data)))
    db.session.commit()
    return JobState.SUCCEEDED


def _finish_failed(job_id: int, attempt: int, message: str) -> JobState | None:
    failed = db.session.execute(
        update(Job).where(*_this_run(job_id, attempt))
        .values(state=JobState.FAILED, error=message, finished_at=now())
        .execution_options(synchronize_session=False))
    db.session.commit()
    return JobState.FAILED if failed.rowcount == 1 else None


def _queue_again(job_id: int, attempt: int, note: str) -> JobState | None:
    """Back to the queue for an automatic retry, keeping the note on show until the next claim."""
    queued = db.session.execute(
        update(Job).where(*_this_run(job_id, attempt))
        .values(state=JobState.QUEUED, error=note, started_at=None, heartbeat_at=now())
        .execution_options(synchronize_session=False))
    db.session.commit()
    return JobState.QUEUED if queued.rowcount == 1 else None


def fail_interrupted() -> int:
    """Mark running jobs whose heartbeat is stale as failed (their worker is gone); commits."""
    failed = db.session.execute(
        update(Job).where(Job.state == JobState.RUNNING, Job.heartbeat_at < now() - stale_after())
        .values(state=JobState.FAILED, error=INTERRUPTED, finished_at=now())
        .execution_options(synchronize_session=False))
    db.session.commit()
    return failed.rowcount


def queued_job_ids() -> list[int]:
    return list(db.session.scalars(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.id)))


def stranded_job_ids(waiting_longer_than: timedelta) -> list[int]:
    """Queued jobs nobody has picked up for a while (their message was lost, or never sent because
    the broker was down when they were requested): the scheduler hands them to the runner again."""
    return list(db.session.scalars(select(Job.id).where(Job.state == JobState.QUEUED,
                                                        Job.heartbeat_at < now() - waiting_longer_than)
                                   .order_by(Job.id)))
