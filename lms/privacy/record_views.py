"""The record of processing (Art. 30) for admins: a page, and its CSV and PDF downloads."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, render_template
from flask_babel import get_timezone, gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from lms.audit.models import AuditEvent
from lms.audit.services import record
from lms.clock import now
from lms.evidence.renderer import RenderError
from lms.extensions import db
from lms.i18n import current_language
from lms.privacy import retention  # noqa: F401  (registers the daily retention run with jobs' schedule)
from lms.privacy.record import processing_record, record_csv, render_record_pdf

bp = Blueprint("privacy_record", __name__, url_prefix="/admin/processing-record")

# The retention job runs daily (README); a page this old without a run means it is not scheduled.
RETENTION_OVERDUE = timedelta(days=2)


@bp.route("")
def index():
    at = now()
    last_run = db.session.scalar(select(func.max(AuditEvent.occurred_at))
                                 .where(AuditEvent.action == "retention.applied"))
    return render_template("privacy/record.html", record=processing_record(current_app.config, at),
                           last_run=last_run, overdue=last_run is None or at - last_run > RETENTION_OVERDUE)


@bp.route("/record.csv")
def record_csv_download():
    at = now()
    body = record_csv(processing_record(current_app.config, at))
    return _download(body.encode("utf-8"), "text/csv; charset=utf-8", f"record-of-processing-{at:%Y%m%d}.csv", "csv")


@bp.route("/record.pdf")
def record_pdf_download():
    at = now()
    try:
        body = render_record_pdf(processing_record(current_app.config, at), language=current_language(),
                                 time_zone=str(get_timezone()))
    except RenderError as exc:
        current_app.logger.error("the record of processing could not be rendered: %s", exc)
        return render_template("errors/error.html", code=503, title=_("The PDF could not be produced"),
                               text=_("Please try again in a minute, or download the CSV.")), 503
    return _download(body, "application/pdf", f"record-of-processing-{at:%Y%m%d}.pdf", "pdf")


def _download(body: bytes, media_type: str, name: str, kind: str) -> Response:
    record("privacy.record_downloaded", actor=current_user, format=kind)
    db.session.commit()
    return Response(body, mimetype=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})
