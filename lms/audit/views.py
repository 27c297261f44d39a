"""The audit log's pages: the events, newest first; one event with its inclusion proof."""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from lms.audit.checkpoints import checkpoint_note
from lms.audit.models import AuditEvent
from lms.audit.probes import record_closed
from lms.audit.proofs import bundle_filename, inclusion_bundle, leaf_index_of
from lms.audit.services import head, latest_checkpoint
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


def _visible_event(seq: int) -> AuditEvent:
    """The event if this user may see it (scoped auditors: their organisation's); else 404."""
    event = db.session.scalar(restrict_audit_events(current_user, select(AuditEvent).where(AuditEvent.seq == seq)))
    if event is None:
        abort(404)
    return event


@bp.route("/events/<int:seq>")
def event_detail(seq: int):
    event = _visible_event(seq)
    checkpoint = latest_checkpoint()
    leaf_index = leaf_index_of(seq)
    return render_template("audit/event_detail.html", event=event, leaf_index=leaf_index, checkpoint=checkpoint,
                           checkpoint_note=checkpoint_note(checkpoint) if checkpoint else "",
                           seal_seconds=current_app.config["AUDIT_SEAL_SECONDS"])


@bp.route("/events/<int:seq>/proof.json")
def event_proof(seq: int):
    """The event's inclusion proof against the latest checkpoint, to check offline."""
    bundle = inclusion_bundle(_visible_event(seq))
    if bundle is None:  # not sealed yet: the page says so and offers no link
        abort(404)
    body = json.dumps(bundle, indent=2) + "\n"
    return current_app.response_class(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{bundle_filename(bundle)}"'})
