"""The apply job's progress: visible while the import's own transaction is still open (PostgreSQL),
written with the import's commit where one writer at a time is all there is (SQLite)."""
from __future__ import annotations

from sqlalchemy import select, text

from lms.accounts.models import Role
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.roster import services
from tests import factories


def test_progress_is_reported_without_committing_the_import(app, people):
    job = Job(kind="roster_import", requested_by_id=people["admin"].id, state=JobState.RUNNING, params={})
    db.session.add(job)
    db.session.commit()
    factories.user(Role.AGENT, people["atlas"], email="pending@atlas.example")  # the import's uncommitted work
    services.report_progress(job.id, 500, 2000)

    with db.engine.connect() as other:  # what the job page reads meanwhile
        seen = other.execute(select(Job.progress_done, Job.progress_total).where(Job.id == job.id)).one()
        pending = other.execute(text("SELECT count(*) FROM \"user\" WHERE email = 'pending@atlas.example'")).scalar()
    assert pending == 0  # the import is still all-or-nothing
    if db.engine.dialect.name == "postgresql":
        assert tuple(seen) == (500, 2000)
    else:
        assert tuple(seen) == (0, 0)
        db.session.commit()
        db.session.expire_all()
        assert (job.progress_done, job.progress_total) == (500, 2000)
