"""The apply job: carries out a previewed upload and keeps the report of each row's result."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.extensions import db
from lms.jobs import kinds
from lms.jobs.context import JobContext, JobFailed, OutputFile
from lms.roster import services
from lms.roster.models import RosterUpload
from lms.roster.parsing import FileProblem

KIND = "roster_import"


def run_import(ctx: JobContext) -> list[OutputFile]:
    """All the file's writes happen in the job's one final transaction (with its report), so a file
    is applied whole or not at all; progress is reported before that, from a separate connection."""
    upload = db.session.get(RosterUpload, ctx.params["upload_id"])
    actor = db.session.get(User, ctx.requested_by_id)
    if upload is None or actor is None or not actor.active:
        raise JobFailed("The upload, or the person who started the import, no longer exists.")
    try:
        result = services.apply(actor, upload, valid_rows_only=bool(ctx.params.get("valid_rows_only")),
                                confirmed_leavers=int(ctx.params.get("confirmed_leavers", 0)),
                                progress=lambda done, total: services.report_progress(ctx.job_id, done, total))
    except FileProblem as exc:
        raise JobFailed(str(exc)) from None
    return [OutputFile(f"roster-import-{upload.id}-report.csv", "text/csv", services.report_csv(result, True))]


kinds.register(kinds.JobKind(KIND, _l("Roster import (CSV)"), run_import))
