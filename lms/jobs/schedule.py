"""What runs on a schedule, and how often: the table Celery beat works from (JOBS_RUNNER=celery).

The work belongs to its domain (the sealer to audit, reminders to reminders, ...); the table only
says when. It is a registry, as the job kinds are (lms/jobs/kinds.py): privacy registers its
retention run and xAPI its sending when their modules load (their views import them, so
create_app has every entry registered before a Celery app is made from it). The entries at the
end are jobs' own and those of the packages beneath it in the layering (audit, assessment,
reminders, webhooks), which jobs may name.

Every entry is safe to run twice at once or to miss once: the sealer takes its own lock,
reminders and retention remember what they did, closing attempts and handing over jobs are
conditional updates, and so is claiming xAPI statements to send. So two beats by mistake, or a
worker restarted mid-task, cost nothing but time.

Each piece of work runs in the app's context, as a job does, and returns one line for the log.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.schedules import crontab
from flask import current_app

from lms.assessment import services as assessment
from lms.audit.publishing import seal_and_publish
from lms.config import ConfigError
from lms.extensions import db
from lms.jobs import services
from lms.jobs.runner import submit
from lms.reminders import services as reminders
from lms.webhooks.delivery import send_pending as send_webhook_deliveries
from lms.webhooks.events import check_statuses as check_webhook_statuses


@dataclass(frozen=True)
class Periodic:
    """One scheduled piece of work: its task name, what it does, and when (None: not scheduled)."""

    task_name: str
    work: Callable[[], str]
    when: Callable[[Mapping[str, Any]], float | crontab | None]


def seal_audit_log() -> str:
    result = seal_and_publish()
    if result.busy:
        return "another sealer is running"
    return f"sealed {result.sealed} event(s); tree size {result.tree_size}"


def close_overdue_attempts() -> str:
    closed = assessment.close_overdue_attempts()
    db.session.commit()
    return f"closed {closed} overdue attempt(s)"


def send_reminders() -> str:
    return reminders.send_reminders().summary()


def send_webhooks() -> str:
    return send_webhook_deliveries().summary()


def check_webhooks() -> str:
    return check_webhook_statuses().summary()


def stranded_after(config: Mapping[str, Any]) -> timedelta:
    """How long a queued job waits before it is handed over again: past the longest retry backoff."""
    longest_backoff = config["JOBS_RETRY_BACKOFF_SECONDS"] * 2 ** max(config["JOBS_AUTO_RETRIES"] - 1, 0)
    return timedelta(seconds=60 + longest_backoff)


def hand_over_stranded_jobs() -> str:
    """Submit again the queued jobs nobody picked up (a lost message, a broker down at request time)."""
    job_ids = services.stranded_job_ids(stranded_after(current_app.config))
    for job_id in job_ids:
        submit(job_id)
    return f"handed over {len(job_ids)} stranded job(s)"


def daily_at(config: Mapping[str, Any]) -> crontab:
    """DAILY_WORK_AT ("HH:MM", UTC) as a crontab."""
    try:
        hour, minute = (int(part) for part in config["DAILY_WORK_AT"].split(":"))
        return crontab(hour=hour, minute=minute)
    except ValueError:
        raise ConfigError(f"DAILY_WORK_AT={config['DAILY_WORK_AT']!r} must be a UTC time such as 03:30") from None


_REGISTRY: dict[str, Periodic] = {}


def register(entry: Periodic) -> Periodic:
    """Schedule a piece of work (a later task name replaces an earlier one, as kinds.register does)."""
    _REGISTRY[entry.task_name] = entry
    return entry


def all_periodic() -> list[Periodic]:
    """Every registered entry, in the order registered."""
    return list(_REGISTRY.values())


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Celery's beat_schedule for these settings."""
    schedule = {}
    for entry in all_periodic():
        when = entry.when(config)
        if when is not None:
            schedule[entry.task_name] = {"task": entry.task_name, "schedule": when}
    return schedule


register(Periodic("lms.audit.seal", seal_audit_log, lambda c: c["AUDIT_SEAL_SECONDS"] or None))
register(Periodic("lms.attempts.close_overdue", close_overdue_attempts, lambda c: c["ATTEMPTS_CLOSE_SECONDS"] or None))
register(Periodic("lms.jobs.hand_over_stranded", hand_over_stranded_jobs, lambda c: 60.0))
register(Periodic("lms.reminders.send", send_reminders, daily_at))
register(Periodic("lms.webhooks.send", send_webhooks, lambda c: c["WEBHOOKS_SEND_SECONDS"] or None))
register(Periodic("lms.webhooks.check", check_webhooks, lambda c: c["WEBHOOKS_CHECK_SECONDS"] or None))
