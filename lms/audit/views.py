"""The audit log page: newest events first, with the latest checkpoint."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.audit.probes import record_closed
from lms.audit.services import head
from lms.extensions import db
from lms.jobs.runner import start_audit_sealer
from lms.pagination import paginate
from lms.policy import restrict_audit_events

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.before_app_request
def _start_sealer() -> None:
    # The first request of each web process starts its periodic sealer (a lookup afterwards).
    start_audit_sealer(current_app._get_current_object())


# Quick filters for what people look for most: (label, action prefix).
SHORTCUTS = (("Sign-ins", "auth."), ("Probing", "security.probe"), ("Refused access", "access.denied"),
             ("Certificates", "certificate."), ("Users", "user."))


@bp.route("/")
def event_list():
    # Probe tallies of minutes already over become events now, so the page shows them.
    if record_closed():
        db.session.commit()
    action = request.args.get("action", "").strip()
    query = restrict_audit_events(current_user, select(AuditEvent).order_by(AuditEvent.seq.desc()))
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    page = paginate(query, request.args.get("page", 1, type=int), per_page=50)
    return render_template("audit/event_list.html", page=page, action=action, head=head(), shortcuts=SHORTCUTS)
