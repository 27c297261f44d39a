"""Filling the webhook outbox: events and their deliveries, in the transaction of the change.

Awards issued and revoked come from the domain signals (lms/signals.py), so certification knows
nothing of webhooks. Changes that come with time (expiring, expired, overdue) are found by
check_statuses, a periodic run over the certification status SQL (the rule the dashboard, the
reminders and the clearance API use), which writes each (agent, programme, state, cycle) once:
the cycle is the award for expiring and expired, and the due date for overdue. Restricted or
erased people get no events.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from lms import signals
from lms.accounts.models import Organisation, User
from lms.certification.models import Enrolment, Programme
from lms.certification.status import Status, effective_due, status_expression
from lms.clock import now
from lms.extensions import db
from lms.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent

_KEY_BATCH = 500
STATUS_EVENTS = {Status.EXPIRING.value: "award.expiring", Status.EXPIRED.value: "award.expired",
                 Status.OVERDUE.value: "enrolment.overdue"}


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def may_send(user: User | None) -> bool:
    """Whether events about this person may leave the app (not restricted, not erased)."""
    return user is None or (user.restricted_at is None and user.erased_at is None)


def subscribers(event_type: str, organisation_id: int | None) -> list[WebhookEndpoint]:
    """Enabled endpoints that asked for this type about this organisation (paused ones too: theirs wait)."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))
    if organisation_id is not None:
        query = query.where((WebhookEndpoint.organisation_id.is_(None))
                            | (WebhookEndpoint.organisation_id == organisation_id))
    return [e for e in db.session.scalars(query.order_by(WebhookEndpoint.id)) if event_type in e.event_type_list]


def queue_deliveries(event_id: int, endpoints: list[WebhookEndpoint], at: datetime) -> None:
    if endpoints:
        db.session.execute(insert(WebhookDelivery), [
            {"endpoint_id": e.id, "event_id": event_id, "state": DeliveryState.QUEUED, "attempts": 0,
             "next_try_at": at, "created_at": at} for e in endpoints])


def emit(event_type: str, *, user_id: int | None, organisation_id: int | None, data: dict[str, Any],
         occurred_at: datetime, endpoints: list[WebhookEndpoint] | None = None) -> WebhookEvent | None:
    """Write an event and a delivery per subscribed endpoint (or the endpoints given); flush.
    Nothing is written when no endpoint wants it."""
    endpoints = subscribers(event_type, organisation_id) if endpoints is None else endpoints
    if not endpoints:
        return None
    event = WebhookEvent(message_id=new_message_id(), type=event_type, user_id=user_id,
                         organisation_id=organisation_id, data=data, occurred_at=occurred_at, created_at=now())
    db.session.add(event)
    db.session.flush()
    queue_deliveries(event.id, endpoints, event.created_at)
    return event


def award_data(award, organisation: Organisation, status: str) -> dict[str, Any]:
    """What an event says about an award: ids and dates, never a name or an e-mail."""
    return {"agent_id": award.user_id, "organisation": {"id": organisation.id, "name": organisation.name},
            "programme": award.programme.slug, "status": status, "award_id": award.id,
            "certificate_code": award.verification_code, "issued_at": iso(award.issued_at),
            "valid_until": iso(award.valid_until), "revoked_at": iso(award.revoked_at)}


def _award_event(event_type: str, status: str, award, at: datetime) -> None:
    user = db.session.get(User, award.user_id)
    if not may_send(user):
        return
    endpoints = subscribers(event_type, user.organisation_id)
    if endpoints:
        organisation = db.session.get(Organisation, user.organisation_id)
        emit(event_type, user_id=user.id, organisation_id=user.organisation_id,
             data=award_data(award, organisation, status), occurred_at=at, endpoints=endpoints)


@signals.award_issued.connect
def _award_issued(_actor: User | None, *, award, **__: object) -> None:
    _award_event("award.issued", Status.CERTIFIED.value, award, award.issued_at)


@signals.award_revoked.connect
def _award_revoked(_actor: User | None, *, award, **__: object) -> None:
    _award_event("award.revoked", Status.REVOKED.value, award, award.revoked_at or now())


# ---- changes that come with time -------------------------------------------------------------

@dataclass
class CheckReport:
    recorded: int = 0

    def summary(self) -> str:
        return f"recorded {self.recorded} status change(s) for webhooks"


def _insert_new_events():
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING: a run at the same time wrote those."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return (module.insert(WebhookEvent).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(WebhookEvent.id, WebhookEvent.type, WebhookEvent.organisation_id))


def check_statuses(at: datetime | None = None) -> CheckReport:
    """Record each agent's new expiring, expired and overdue states once, with deliveries to the
    endpoints that want them; commit. A state is recorded even when no endpoint wants it, so an
    endpoint added later hears of changes from then on, not of every lapsed agent at once."""
    at = at or now()
    status = status_expression(at).label("status")
    rows = db.session.execute(
        select(Enrolment.id, Enrolment.user_id, Enrolment.mandatory, Enrolment.current_award_id,
               Enrolment.award_valid_until, Enrolment.award_code, effective_due().label("due"),
               User.organisation_id, Organisation.name.label("organisation"), Programme.slug, status)
        .join(User, User.id == Enrolment.user_id).join(Organisation, Organisation.id == User.organisation_id)
        .join(Programme, Programme.id == Enrolment.programme_id)
        .where(status.in_(list(STATUS_EVENTS)), User.active.is_(True), User.restricted_at.is_(None),
               User.erased_at.is_(None), Programme.archived_at.is_(None))).all()
    candidates = {}
    for row in rows:
        if row.status == Status.OVERDUE.value:
            if not row.mandatory:  # as the reminders: an optional programme past its date is no alarm
                continue
            key = f"enrolment.overdue:{row.id}:{row.due.date().isoformat()}"
        else:
            key = f"{STATUS_EVENTS[row.status]}:{row.current_award_id}"
        candidates[key] = row
    keys = list(candidates)
    existing: set[str] = set()
    for i in range(0, len(keys), _KEY_BATCH):
        existing.update(db.session.scalars(select(WebhookEvent.dedupe_key)
                                           .where(WebhookEvent.dedupe_key.in_(keys[i:i + _KEY_BATCH]))))
    new = [(key, row) for key, row in candidates.items() if key not in existing]
    report = CheckReport()
    if new:
        values = [{"message_id": new_message_id(), "type": STATUS_EVENTS[row.status], "dedupe_key": key,
                   "user_id": row.user_id, "organisation_id": row.organisation_id, "occurred_at": at,
                   "created_at": at,
                   "data": {"agent_id": row.user_id, "organisation": {"id": row.organisation_id,
                                                                      "name": row.organisation},
                            "programme": row.slug, "status": row.status, "due_at": iso(row.due),
                            "valid_until": iso(row.award_valid_until), "certificate_code": row.award_code}}
                  for key, row in new]
        inserted = db.session.execute(_insert_new_events(), values).all()
        report.recorded = len(inserted)
        endpoints = list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))
                                            .order_by(WebhookEndpoint.id)))
        for event_id, event_type, organisation_id in sorted(inserted):
            queue_deliveries(event_id, [e for e in endpoints if event_type in e.event_type_list
                                        and e.organisation_id in (None, organisation_id)], at)
    db.session.commit()
    return report
