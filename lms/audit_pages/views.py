"""The audit log's pages: the events, newest first, in sentences, filtered and as CSV; one event
with its inclusion proof."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import get_timezone, gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, or_, select

from lms.accounts.models import Organisation, User
from lms.audit.checkpoints import checkpoint_note
from lms.audit.models import AuditEvent, AuditPersonal
from lms.audit.probes import record_closed
from lms.audit.proofs import bundle_filename, inclusion_bundle, leaf_index_of
from lms.audit_pages.sentences import names_for, sentence
from lms.audit.services import head, latest_checkpoint, record
from lms.audit.subjects import about_organisation, about_people
from lms.extensions import db
from lms.pagination import paginate
from lms.policy import audit_scope, restrict_audit_events
from lms.spreadsheets import spreadsheet_safe

bp = Blueprint("audit", __name__, url_prefix="/audit")


# Quick filters for what people look for most: (label, action prefix).
SHORTCUTS = ((_l("Sign-ins"), "auth."), (_l("Probing"), "security.probe"), (_l("Refused access"), "access.denied"),
             (_l("Certificates"), "certificate."), (_l("Users"), "user."))
# The action filter's choices: families of actions, by the prefix their names share.
ACTIONS = ((_l("Sign-ins and sessions"), "auth."), (_l("Second factors"), "mfa."), (_l("People's accounts"), "user."),
           (_l("Awards"), "award."), (_l("Certificates"), "certificate."), (_l("Open Badges"), "open_badge."),
           (_l("Assignments"), "assignment."), (_l("Quiz attempts"), "attempt."), (_l("Exports and downloads"), "export."),
           (_l("Personal data (GDPR)"), "privacy."), (_l("Content"), "content."), (_l("Drafts"), "draft."),
           (_l("Organisations"), "organisation."), (_l("Refused access"), "access.denied"),
           (_l("Probing"), "security.probe"), (_l("Webhooks"), "webhook."), (_l("API keys"), "api_key."))
CSV_BATCH = 500


@dataclass(frozen=True)
class EventFilters:
    """The log's filters, from the query string (?person=&organisation=&action=&from=&to=)."""

    person: str = ""
    organisation_id: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args) -> EventFilters:
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        return cls(person=args.get("person", "").strip()[:100], organisation_id=args.get("organisation", type=int),
                   action=args.get("action", "").strip()[:64], date_from=day("from"), date_to=day("to"))

    def __bool__(self) -> bool:
        return any((self.person, self.organisation_id, self.action, self.date_from, self.date_to))


def _start_of(day: date) -> datetime:
    """Midnight starting `day` in the reader's time zone, as UTC: the dates people type are theirs."""
    return get_timezone().localize(datetime.combine(day, time.min)).astimezone(timezone.utc)


def filtered_events(filters: EventFilters) -> Select:
    """The events the current user may see that match the filters, newest first."""
    query = restrict_audit_events(current_user, select(AuditEvent).order_by(AuditEvent.seq.desc()))
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.organisation_id:
        query = query.where(about_organisation(filters.organisation_id))
    if filters.person:
        words = filters.person.lower()
        named = func.lower(User.name).contains(words, autoescape=True) | func.lower(User.email).contains(
            words, autoescape=True)
        # As recorded, too: the address typed at a failed sign-in, the e-mail of a person created.
        labelled = AuditEvent.seq.in_(select(AuditPersonal.event_seq).where(
            func.lower(AuditPersonal.actor_label).contains(words, autoescape=True)
            | func.lower(AuditPersonal.subject_label).contains(words, autoescape=True)))
        query = query.where(or_(about_people(named), labelled))
    if filters.date_from:
        query = query.where(AuditEvent.occurred_at >= _start_of(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.occurred_at < _start_of(filters.date_to + timedelta(days=1)))
    return query


def _organisations() -> list[Organisation]:
    """The organisation filter's choices: the user's scope only, or every organisation."""
    query = select(Organisation).order_by(Organisation.name)
    scope = audit_scope(current_user)
    return list(db.session.scalars(query if scope is None else query.where(Organisation.id == scope)))


@bp.route("/")
def event_list():
    # Probe tallies of minutes already over become events now, so the page shows them.
    if record_closed():
        db.session.commit()
    filters = EventFilters.from_args(request.args)
    page = paginate(filtered_events(filters), request.args.get("page", 1, type=int), per_page=50)
    names = names_for(page.items)
    scope = audit_scope(current_user)
    return render_template("audit/event_list.html", page=page, filters=filters, head=head(), shortcuts=SHORTCUTS,
                           actions=ACTIONS, custom_action=bool(filters.action) and filters.action not in {p for _label, p in ACTIONS},
                           organisations=_organisations(), zone=get_timezone().zone,
                           scope=db.session.get(Organisation, scope) if scope is not None else None,
                           sentences={e.seq: sentence(e, names) for e in page.items})


@bp.route("/events.csv")
def event_csv():
    """The filtered events as CSV, streamed in batches: a sentence and the recorded facts per line."""
    filters = EventFilters.from_args(request.args)
    # Built before the commit below: the scope is read from the user now, not while streaming.
    query = filtered_events(filters)
    # Translated now, while the user is loaded: the request's language is then kept for the stream
    # (the commit expires the user, and the stream's session is a new one).
    header = [_("Event"), _("When (UTC)"), _("What happened"), _("Who (as recorded)"), _("About (as recorded)"),
              _("IP address"), _("Action"), _("Target"), _("Details")]
    record("export.csv", actor=current_user, what="audit log", filters=request.args.to_dict())
    db.session.commit()
    name = f"audit-log-{datetime.now(timezone.utc):%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(_csv_chunks(query, header)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_chunks(query: Select, header: list[str]) -> Iterator[str]:
    """UTF-8 CSV with a BOM (for Excel), one chunk per batch of events, read newest first by seq
    (each batch a query of its own, so no cursor stays open while the client reads)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    before = None
    while True:
        batch = list(db.session.scalars((query if before is None else query.where(AuditEvent.seq < before))
                                        .limit(CSV_BATCH)))
        if not batch:
            break
        names = names_for(batch)
        for event in batch:
            writer.writerow([spreadsheet_safe(value) for value in (
                event.seq, event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), sentence(event, names),
                event.actor_display, event.subject_label, event.ip, event.action,
                f"{event.target_type} {event.target_id}".strip(), json.dumps(event.data, ensure_ascii=False))])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        before = batch[-1].seq
    yield buffer.getvalue()


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
                           sentence=sentence(event, names_for([event])),
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
