"""Roster import pages: upload, preview (paged), apply as a job, the template and the preview CSV."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from lms.audit.services import record
from lms.extensions import db
from lms.jobs import runner
from lms.jobs.models import Job, JobState
from lms.roster import services
from lms.roster.forms import ApplyForm, UploadForm
from lms.roster.job import KIND
from lms.roster.models import RosterUpload
from lms.roster.parsing import COLUMNS, MAX_ROWS, TEMPLATE, FileProblem

bp = Blueprint("roster", __name__, url_prefix="/people/import")
PER_PAGE = 50


@bp.route("", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    problem = None
    if form.validate_on_submit():
        with form.file.data.stream as stream:  # a large upload is a temporary file: close it now
            data = stream.read()
        try:
            stored = services.store_upload(current_user, form.file.data.filename or "", data, form.full_roster.data)
        except FileProblem as exc:
            # Nothing is stored: the answer names the file and what is wrong with it, in the reader's language.
            problem = _("%(file)s: %(problem)s", file=form.file.data.filename or _("The file"),
                        problem=_(exc.text, **exc.values))
        else:
            record("roster.uploaded", actor=current_user, target=stored, rows=stored.row_count,
                   sha256=stored.sha256, full_roster=stored.full_roster)
            db.session.commit()
            return redirect(url_for("roster.preview", upload_id=stored.id))
    return render_template("roster/upload.html", form=form, problem=problem, columns=COLUMNS,
                           max_rows=MAX_ROWS), 400 if problem or form.errors else 200


def _upload_or_404(upload_id: int) -> RosterUpload:
    found = services.upload_for(current_user, upload_id)
    if found is None:
        abort(404)
    return found


@bp.route("/<int:upload_id>")
def preview(upload_id: int):
    found = _upload_or_404(upload_id)
    plan = services.plan(current_user, found)
    shown = request.args.get("show", "all")
    rows = [p for p in plan.rows if shown == "all" or p.outcome == shown]
    pages = max(1, -(-len(rows) // PER_PAGE))
    number = min(max(1, request.args.get("page", 1, type=int)), pages)
    job = db.session.get(Job, found.job_id) if found.job_id else None
    return render_template("roster/preview.html", upload=found, plan=plan, outcomes=services.OUTCOMES,
                           rows=rows[(number - 1) * PER_PAGE:number * PER_PAGE], shown=shown, number=number,
                           pages=pages, matching=len(rows), form=ApplyForm(), job=job)


@bp.route("/<int:upload_id>/apply", methods=["POST"])
def apply(upload_id: int):
    found = _upload_or_404(upload_id)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    if found.job_id is not None:
        job = db.session.get(Job, found.job_id)
        if job is not None and job.state is not JobState.FAILED:
            flash(_("This file is already being applied, or was applied."), "info")
            return redirect(url_for("jobs.export_detail", job_id=found.job_id))
    plan = services.plan(current_user, found)
    back = redirect(url_for("roster.preview", upload_id=found.id))
    if plan.counts[services.ERROR] and not form.valid_rows_only.data:
        flash(_("Some rows have errors: fix the file and upload it again, or tick “Apply the valid rows”."), "error")
        return back
    if plan.leavers and not form.confirm_leavers.data:
        flash(ngettext("Tick the box to confirm that %(num)s person is deactivated, or upload the file without "
                       "“full roster”.", "Tick the box to confirm that %(num)s people are deactivated, or upload the "
                       "file without “full roster”.", plan.leavers), "error")
        return back
    if plan.leavers != (form.leavers_seen.data or 0):
        flash(_("People changed since this preview was shown: check it again."), "error")
        return back
    job = Job(kind=KIND, requested_by_id=current_user.id, organisation_id=current_user.organisation_id
              if current_user.role.value == "partner_admin" else None, state=JobState.QUEUED,
              params={"upload_id": found.id, "valid_rows_only": bool(form.valid_rows_only.data),
                      "confirmed_leavers": plan.leavers})
    db.session.add(job)
    db.session.flush()
    found.job_id = job.id
    record("roster.apply_requested", actor=current_user, target=found, job_id=job.id, counts=dict(plan.counts),
           valid_rows_only=bool(form.valid_rows_only.data))
    db.session.commit()
    runner.submit(job.id)
    return redirect(url_for("jobs.export_detail", job_id=job.id))


@bp.route("/<int:upload_id>/preview.csv")
def preview_csv(upload_id: int):
    found = _upload_or_404(upload_id)
    data = services.report_csv(services.plan(current_user, found), applied=False)
    return Response(data, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="roster-preview-{found.id}.csv"'})


@bp.route("/template.csv")
def template():
    return Response(TEMPLATE.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="roster-template.csv"'})
