"""JOBS_RUNNER=celery: jobs and the schedules run as Celery tasks, on workers on any machine.

A job's task carries only its id. The job's row stays the truth: claiming it is a conditional
update, so a message delivered twice (a worker lost after taking it, a stranded job handed over
again) runs the job once, and every write a run makes is conditional on its run number.

- Messages are acknowledged when the task ends (`acks_late`) and each worker process takes one
  at a time, so a long export never holds back jobs queued behind it on that worker, and jobs
  still waiting in a worker that dies go back to the queue. A worker process killed mid-job
  does not run that job again by itself: the job stops sending progress, its page shows it as
  interrupted after JOBS_STALE_SECONDS, and a person retries it (nothing half-written is kept).
- An unexpected error in a job is retried JOBS_AUTO_RETRIES times with a doubling backoff
  (`services.run_job` queues the job again; the task asks Celery to deliver it later), then the
  job fails with a readable error and a Retry button.
- Beat runs what lms/jobs/schedule.py has registered; its tasks retry database and network errors
  with backoff.

Workers and beat load `lms.jobs.worker` (see there for the commands).
"""
from __future__ import annotations

import logging

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import SQLAlchemyError

from lms.config import ConfigError
from lms.extensions import db
from lms.jobs import schedule
from lms.jobs.models import JobState
from lms.jobs.runner import job_context, run_in_context

log = logging.getLogger(__name__)

RUN_JOB = "lms.jobs.run"


class CeleryRunner:
    """Sends job ids to Celery workers; owns the Celery application of this Flask app."""

    def __init__(self, app: Flask) -> None:
        self.celery = make_celery(app)

    def submit(self, job_id: int) -> None:
        try:
            self.celery.tasks[RUN_JOB].apply_async(args=[job_id])
        except BrokerError:
            # The job is committed and stays queued: beat's hand-over picks it up once the broker
            # is back (schedule.hand_over_stranded_jobs). The person sees it waiting, not an error.
            log.exception("job %s could not be sent to the broker; it stays queued", job_id)


def make_celery(app: Flask) -> Celery:
    """A Celery application for this Flask app, with the job task and the scheduled tasks."""
    broker = app.config["CELERY_BROKER_URL"]
    if not broker:
        raise ConfigError("JOBS_RUNNER=celery needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0, "
                          "or amqp://guest:guest@127.0.0.1:5672// for RabbitMQ)")
    celery = Celery(app.import_name, broker=broker, set_as_current=False)
    celery.conf.update(
        task_default_queue=app.config["CELERY_QUEUE"],
        task_ignore_result=True,  # results live on the job row; no result backend needed
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A request that queues an export must not hang on a broker that is down (see submit).
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        timezone="UTC",
        enable_utc=True,
        beat_schedule=schedule.beat_schedule(app.config),
        worker_hijack_root_logger=False,
    )
    _register_tasks(celery, app)

    def fresh_connections(**_: object) -> None:
        # A forked worker process must not share its parent's pooled database connections.
        with app.app_context():
            db.engine.dispose(close=False)

    worker_process_init.connect(fresh_connections, weak=False)
    return celery


def _register_tasks(celery: Celery, app: Flask) -> None:
    # shared=False: each task closes over its own Flask app, so it must not be added to every
    # Celery application in the process (Celery's default), where another app's calls would reach it.
    backoff = app.config["JOBS_RETRY_BACKOFF_SECONDS"]

    @celery.task(name=RUN_JOB, bind=True, shared=False, max_retries=app.config["JOBS_AUTO_RETRIES"])
    def run_job(task: Task, job_id: int) -> None:
        state = run_in_context(app, job_id, retries_left=task.max_retries - task.request.retries)
        log.info("job %s: %s", job_id, state.value if state else "taken by another worker")
        if state is JobState.QUEUED:
            raise task.retry(countdown=backoff * 2 ** task.request.retries)

    for entry in schedule.all_periodic():
        _register_periodic(celery, app, entry)


def _register_periodic(celery: Celery, app: Flask, entry: schedule.Periodic) -> None:
    @celery.task(name=entry.task_name, shared=False, autoretry_for=(SQLAlchemyError, OSError), retry_backoff=True,
                 retry_backoff_max=600, max_retries=5)
    def periodic() -> None:
        with job_context(app):
            log.info("%s: %s", entry.task_name, entry.work())
