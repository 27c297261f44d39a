"""The home page each role lands on, and a health check for load balancers.

An agent's home is what they must do next. Staff homes are built from what each role acts on,
in the person's scope (a partner's auditor or admin: that organisation only): headline figures
for everyone, then who needs chasing (trainers, admins and partner admins), the trainer's own
drafts, recent exports and audit events, and the admins' outboxes. Every section costs a fixed
number of queries, whatever the number of agents (tests/test_main_home.py counts them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import bindparam, func, select, text

from lms import plain_rows
from lms.accounts.models import Organisation, Role
from lms.audit.models import AuditEvent
from lms.audit_pages.sentences import names_for, sentence
from lms.authoring.drafts import main_path
from lms.authoring.models import Draft
from lms.certification import reports, services
from lms.certification.models import Award, ProgrammeVersion
from lms.certification.status import Status
from lms.clock import now
from lms.extensions import db
from lms.jobs import kinds
from lms.jobs.services import stale_after, visible_jobs
from lms.policy import audit_scope, restrict_audit_events
from lms.reminders.models import Message
from lms.webhooks.models import DeliveryState, WebhookDelivery
from lms.xapi.models import OutboxState, XapiStatement

bp = Blueprint("main", __name__)

# What each staff role's home shows beyond the headline figures, in order.
SECTIONS: dict[Role, tuple[str, ...]] = {
    Role.TRAINER: ("chase", "drafts"),
    Role.AUDITOR: ("exports", "events"),
    Role.ADMIN: ("outbox", "chase", "exports"),
    Role.PARTNER_ADMIN: ("chase", "exports", "events"),
}
CHASE_ROWS = 8  # per list; the dashboard has the rest
RECENT = 5  # exports, drafts and audit events
# Left out of a home's recent events: every sign-in would push out what an auditor looks for.
ROUTINE_EVENTS = ("auth.login", "auth.logout", "auth.session_revived", "mfa.verified")


@bp.route("/")
def index():
    if current_user.role is Role.AGENT:
        return _agent_home()
    return _staff_home()


def _agent_home():
    """What I must do next: each programme with its status, due date, progress and next step."""
    rows = plain_rows.rows(reports.own_status_rows(), {"agent_id": current_user.id, "at": now()})
    enrolments = [e for e in services.agent_enrolments(current_user.id)
                  if e.programme.current_version is not None]
    by_enrolment = services.requirement_states_for(enrolments)
    todo = []
    for row in rows:
        states = by_enrolment.get(row.enrolment_id, [])
        todo.append({"row": row, "states": states, "met": sum(s.met for s in states),
                     "next": next((s for s in states if not s.met), None)})
    awards = plain_rows.rows(_OWN_AWARDS, {"agent_id": current_user.id})
    # Counted here, not by filter chains in the template: they cost more than the rest of a row.
    all_done = bool(todo) and all(t["row"].status == Status.CERTIFIED.value for t in todo)
    return render_template("main/agent_home.html", todo=todo, all_done=all_done, awards=awards)


# The columns the home's awards table shows, as rows: loading Awards would parse each one's
# evidence JSON, and load its programme version, to show a title and three dates.
_OWN_AWARDS = (select(Award.id, ProgrammeVersion.title, Award.issued_at, Award.valid_until, Award.verification_code,
                      Award.revoked_at)
               .join(ProgrammeVersion, ProgrammeVersion.id == Award.programme_version_id)
               .where(Award.user_id == bindparam("agent_id")).order_by(Award.issued_at.desc(), Award.id.desc()))


def _staff_home():
    at = now()
    sections = SECTIONS.get(current_user.role, ())
    scope = audit_scope(current_user)
    context = {
        "at": at, "sections": sections, "headline": reports.headline(current_user, at),
        "scope": db.session.get(Organisation, scope) if scope is not None else None,
        "due_soon_until": (at + reports.DUE_SOON).date(), "expiring_until": (at + reports.EXPIRING_SOON).date(),
    }
    if "chase" in sections:
        context["chase"] = {name: db.session.execute(reports.status_rows(current_user, filters, at).limit(CHASE_ROWS)).all()
                            for name, filters in reports.chase_filters(at).items()}
    if "drafts" in sections:
        context["drafts"] = _my_drafts()
    if "exports" in sections:
        context["exports"] = list(db.session.scalars(visible_jobs(current_user).limit(RECENT)))
        context["export_labels"] = {k.name: k.label for k in kinds.all_kinds()}
        context["stale_after"] = stale_after()
    if "outbox" in sections:
        context["outbox"] = _outbox_health()
    if "events" in sections:
        events = list(db.session.scalars(restrict_audit_events(current_user, select(AuditEvent).where(
            AuditEvent.action.not_in(ROUTINE_EVENTS)).order_by(AuditEvent.seq.desc())).limit(RECENT)))
        names = names_for(events)
        context["events"] = [(event, sentence(event, names)) for event in events]
    return render_template("main/index.html", **context)


@dataclass(frozen=True)
class DraftLine:
    kind: str
    slug: str
    title: str
    revision: int
    updated_at: datetime


_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


def _my_drafts() -> list[DraftLine]:
    """The current user's drafts, last edited first, titled as their own files title them."""
    drafts = db.session.scalars(select(Draft).where(Draft.created_by_id == current_user.id)
                                .order_by(Draft.updated_at.desc()).limit(RECENT))
    lines = []
    for draft in drafts:
        source = (draft.files or {}).get(main_path(draft.kind, draft.slug))
        found = _TITLE.search(source) if isinstance(source, str) else None
        title = found.group(1).strip("'\"") if found and found.group(1) not in (">", "|") else draft.slug
        lines.append(DraftLine(draft.kind, draft.slug, title, draft.revision, draft.updated_at))
    return lines


@dataclass(frozen=True)
class OutboxHealth:
    """What is waiting or stuck in the app's three outboxes."""

    mail_waiting: int
    mail_failed: int
    webhooks_waiting: int
    webhooks_failed: int
    xapi_waiting: int
    xapi_failed: int

    @property
    def healthy(self) -> bool:
        return not (self.mail_failed or self.webhooks_failed or self.xapi_failed)


def _outbox_health() -> OutboxHealth:
    """The outboxes' counts in one query (each a COUNT over an indexed or small table)."""
    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    row = db.session.execute(select(
        count(Message, Message.sent_at.is_(None), Message.error.is_(None)),
        count(Message, Message.sent_at.is_(None), Message.error.is_not(None)),
        count(WebhookDelivery, WebhookDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.SENDING])),
        count(WebhookDelivery, WebhookDelivery.state == DeliveryState.FAILED),
        count(XapiStatement, XapiStatement.state.in_([OutboxState.QUEUED, OutboxState.SENDING])),
        count(XapiStatement, XapiStatement.state == OutboxState.FAILED),
    )).one()
    return OutboxHealth(*row)


@bp.route("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
