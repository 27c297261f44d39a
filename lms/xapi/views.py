"""The xAPI outbox page (admins): counts by state, failures with their error, Retry, and the export."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select

from lms.audit.services import record
from lms.clock import now
from lms.extensions import db
from lms.jobs import runner
from lms.jobs.models import Job, JobState
from lms.pagination import paginate
from lms.xapi import delivery, export
from lms.xapi import outbox  # noqa: F401  (connects the subscribers that fill the outbox)
from lms.xapi.forms import ExportForm, RetryForm
from lms.xapi.models import OutboxState, XapiStatement
from lms.xapi.sender import start_sender
from lms.xapi.statements import KINDS

bp = Blueprint("xapi", __name__, url_prefix="/admin/xapi")


@bp.before_app_request
def _start_sender() -> None:
    # The first request of each web process starts its delivery run (JOBS_RUNNER=thread; a lookup afterwards).
    start_sender(current_app._get_current_object())


@bp.route("")
def outbox_page():
    return _page(ExportForm())


def _page(export_form: ExportForm) -> str:
    failures = paginate(select(XapiStatement).where(XapiStatement.state == OutboxState.FAILED)
                        .order_by(XapiStatement.id.desc()), request.args.get("page", 1, type=int), per_page=50)
    return render_template("xapi/outbox.html", counts=delivery.counts_by_state(), failures=failures,
                           kinds=KINDS, lrs_url=current_app.config["XAPI_LRS_URL"],
                           max_attempts=current_app.config["XAPI_MAX_ATTEMPTS"],
                           retry_form=RetryForm(), export_form=export_form)


@bp.route("/retry", methods=["POST"])
def retry():
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    row_id = int(form.row_id.data) if form.row_id.data else None
    count = delivery.retry(current_user, row_id)
    db.session.commit()
    if count:
        flash(ngettext("%(num)d statement queued again: the next delivery run sends it.",
                       "%(num)d statements queued again: the next delivery run sends them.", count), "success")
    else:
        flash(_("Nothing to retry: the statement is no longer failed."), "info")
    return redirect(url_for("xapi.outbox_page"))


@bp.route("/export", methods=["POST"])
def export_ndjson():
    form = ExportForm()
    if not form.validate_on_submit():
        return _page(form)
    params = {"date_from": form.date_from.data.isoformat(), "date_to": form.date_to.data.isoformat()}
    job = Job(kind=export.KIND, params=params, requested_by_id=current_user.id, organisation_id=None,
              state=JobState.QUEUED, heartbeat_at=now())
    db.session.add(job)
    db.session.flush()
    record("export.requested", actor=current_user, target=job, job_id=job.id, kind=export.KIND, params=params)
    db.session.commit()
    runner.submit(job.id)
    return redirect(url_for("jobs.export_detail", job_id=job.id))
