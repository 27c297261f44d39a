"""Erasure as a background job: the work and its report commit together, and a failed run can be retried."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel import dates
from flask import render_template
from flask_babel import force_locale, lazy_gettext as _l

from lms.accounts.models import User
from lms.audit.services import record
from lms.evidence.certificates import agent_time_zone
from lms.extensions import db
from lms.i18n import user_language
from lms.jobs import kinds
from lms.jobs.context import JobContext, JobFailed, OutputFile
from lms.jobs.models import Job, JobState
from lms.privacy.erasure import ErasureError, check_may_erase, erase

KIND = "erasure"


def request_erasure(person: User, requested_by: User, reference: str) -> Job:
    """Queue the erasure of `person` and audit the request; the caller commits, then submits the job."""
    check_may_erase(person, requested_by)
    job = Job(kind=KIND, params={"user_id": person.id, "reference": reference}, requested_by_id=requested_by.id,
              organisation_id=person.organisation_id, state=JobState.QUEUED)
    db.session.add(job)
    db.session.flush()
    record("privacy.erasure_requested", actor=requested_by, target=person, job_id=job.id, reference=reference)
    return job


def run_erasure(ctx: JobContext) -> Sequence[OutputFile]:
    """The job: erase, then report in JSON and plain text (the pseudonym and counts, nothing erased)."""
    person = db.session.get(User, ctx.params["user_id"])
    requested_by = db.session.get(User, ctx.requested_by_id)
    if person is None or requested_by is None:
        raise JobFailed("The person or the administrator who asked no longer exists.")
    try:
        report = erase(person, requested_by=requested_by, reference=ctx.params.get("reference", ""))
    except ErasureError as exc:
        raise JobFailed(str(exc)) from None
    data = {"job_id": ctx.job_id, "reference": ctx.params.get("reference", ""), "erased_at": person.erased_at.isoformat(),
            **report.as_report()}
    # The text report is for the administrator who asked: their language, and the time in their zone.
    language = user_language(requested_by)
    with force_locale(language):
        text = render_template("privacy/erasure_report.txt", report=report, data=data,
                               erased_at=_moment(person.erased_at, language, agent_time_zone(requested_by)))
    return [OutputFile("erasure-report.txt", "text/plain; charset=utf-8", text.encode("utf-8")),
            OutputFile("erasure-report.json", "application/json", json.dumps(data, indent=2).encode("utf-8"))]


def _moment(value: datetime, language: str, zone: str) -> str:
    """A stored UTC time in `language` and `zone`, the zone named."""
    moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = dates.format_datetime(moment, "medium", tzinfo=ZoneInfo(zone), locale="en_IE" if language == "en" else language)
    return f"{text} {zone}"


kinds.register(kinds.JobKind(KIND, _l("Erasure of personal data (Art. 17)"), run_erasure))
