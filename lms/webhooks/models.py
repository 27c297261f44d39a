"""Webhook endpoints, the events they are told about, and one delivery per endpoint and event.

An event row is written in the transaction of the change it reports (an award issued or revoked),
or by the status check for changes that happen with time (expiring, expired, overdue); its
deliveries are written with it, one per endpoint that asked for its type. The delivery run sends
them later (lms/webhooks/delivery.py), so a slow or absent receiver never holds up a request.

An event row keeps no name, e-mail or employee id: only the agent's id and what the award says.
The employee id is read when a delivery is sent, so a person erased or restricted before then
is never sent at all.
"""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organisation
from lms.clock import UTCDateTime, now
from lms.columns import enum_column
from lms.extensions import db

# The events an endpoint may subscribe to, and what each means (shown on the form and in the README).
EVENT_TYPES = {
    "award.issued": _l("Certified: an award was issued"),
    "award.revoked": _l("An award was revoked"),
    "award.expiring": _l("An award entered its recertification window (expiring)"),
    "award.expired": _l("An award expired (its grace period is over)"),
    "enrolment.overdue": _l("A mandatory programme is overdue (not certified by its due date)"),
}
TEST_EVENT = "webhook.test"  # the "Send test event" button; sent to that endpoint only


class DeliveryState(str, enum.Enum):
    QUEUED = "queued"  # waiting for its turn (the endpoint's earlier deliveries go first)
    SENDING = "sending"  # claimed by a run (a run that died leaves it to be claimed again later)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # the last try failed: tried again at next_try_at, or at once after Retry
    WITHHELD = "withheld"  # the person was restricted or erased before it left: never sent

    @property
    def label(self) -> str:
        return {"queued": _("Queued"), "sending": _("Sending"), "delivered": _("Delivered"), "failed": _("Failed"),
                "withheld": _("Withheld (restricted or erased)")}[self.value]


# Not delivered yet: these hold up the endpoint's later deliveries (ordering).
PENDING = (DeliveryState.QUEUED, DeliveryState.SENDING, DeliveryState.FAILED)


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200))
    event_types: Mapped[str] = mapped_column(String(300))  # space-separated, from EVENT_TYPES
    # NULL: events about every organisation's agents (admins only); else that organisation's only.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The signing secret, encrypted (lms/webhooks/signing.py): the app must sign with it, so a hash
    # would not do. The previous one keeps signing too until previous_secret_until, after a rotation.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Disabled by a person: no new deliveries are queued and nothing is sent until enabled.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Paused by the delivery run after too many failures in a row: deliveries are still queued,
    # and go (in order) once a person resumes it.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def event_type_list(self) -> list[str]:
        return self.event_types.split()

    @property
    def health(self) -> str:
        if self.disabled_at is not None:
            return _("Disabled")
        if self.paused_at is not None:
            return _("Paused")
        return _("Failing") if self.consecutive_failures else _("Healthy")


class WebhookEvent(db.Model):
    """Something that happened, once: its Standard Webhooks message id is the same on every
    endpoint and every retry, so a receiver can ignore one it already has."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)  # "msg_…", the webhook-id header
    type: Mapped[str] = mapped_column(String(40))
    # What the status check has reported already, e.g. "award.expired:<award id>": written once, so
    # the same change is never reported twice (NULL for events that cannot repeat).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    data: Mapped[dict] = mapped_column(JSON)  # the payload's "data", without the employee id
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_event.id"), index=True)
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState, 20), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_snippet: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[WebhookEvent] = relationship()

    # The run looks for each endpoint's oldest pending delivery, and the log pages by endpoint.
    __table_args__ = (Index("ix_webhook_delivery_endpoint_state", "endpoint_id", "state", "id"),)
