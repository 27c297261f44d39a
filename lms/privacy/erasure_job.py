"""Erasure as a background job: the work and its report commit together, and a failed run can be retried."""
from __future__ import annotations

import json
from collections.abc import Sequence

from flask import render_template

from lms.accounts.models import User
from lms.audit.services import record
from lms.extensions import db
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
    text = render_template("privacy/erasure_report.txt", report=report, data=data)
    return [OutputFile("erasure-report.txt", "text/plain; charset=utf-8", text.encode("utf-8")),
            OutputFile("erasure-report.json", "application/json", json.dumps(data, indent=2).encode("utf-8"))]
