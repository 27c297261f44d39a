"""Registering endpoints: create, change, rotate the secret, disable, resume, delete, test, retry.

Services flush; the view or command commits. Every change is an audit event (never the secret).
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, update

from lms.accounts.models import Organisation, User
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db
from lms.webhooks import signing
from lms.webhooks.events import emit, iso
from lms.webhooks.models import EVENT_TYPES, TEST_EVENT, DeliveryState, WebhookDelivery, WebhookEndpoint
from lms.webhooks.targets import check_url


def _types(event_types: list[str]) -> str:
    unknown = set(event_types) - EVENT_TYPES.keys()
    if unknown or not event_types:
        raise ValueError(f"Choose event types among {', '.join(EVENT_TYPES)}.")
    return " ".join(t for t in EVENT_TYPES if t in event_types)


def create_endpoint(actor: User | None, url: str, description: str, event_types: list[str],
                    organisation: Organisation | None) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret, shown once and stored encrypted."""
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(url=check_url(url), description=description.strip(), event_types=_types(event_types),
                               organisation=organisation, secret_encrypted=signing.encrypt(secret),
                               created_by_id=getattr(actor, "id", None), consecutive_failures=0)
    db.session.add(endpoint)
    db.session.flush()
    record("webhook.created", actor=actor, target=endpoint, url=endpoint.url, events=endpoint.event_types,
           organisation_id=endpoint.organisation_id)
    return endpoint, secret


def update_endpoint(actor: User, endpoint: WebhookEndpoint, url: str, description: str,
                    event_types: list[str]) -> None:
    endpoint.url, endpoint.description = check_url(url), description.strip()
    endpoint.event_types = _types(event_types)
    record("webhook.changed", actor=actor, target=endpoint, url=endpoint.url, events=endpoint.event_types)


def rotate_secret(actor: User, endpoint: WebhookEndpoint) -> str:
    """A new secret (shown once); the old one signs too for WEBHOOKS_ROTATION_OVERLAP_HOURS, so
    the receiver can switch without losing a delivery."""
    secret = signing.new_secret()
    at = now()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_until = at + timedelta(hours=current_app.config["WEBHOOKS_ROTATION_OVERLAP_HOURS"])
    endpoint.secret_encrypted, endpoint.rotated_at = signing.encrypt(secret), at
    record("webhook.rotated", actor=actor, target=endpoint)
    return secret


def set_disabled(actor: User, endpoint: WebhookEndpoint, disabled: bool) -> None:
    endpoint.disabled_at = now() if disabled else None
    record("webhook.disabled" if disabled else "webhook.enabled", actor=actor, target=endpoint)


def resume(actor: User, endpoint: WebhookEndpoint) -> None:
    """Lift an automatic pause: the failure count starts again and the backlog is due now, in order."""
    endpoint.paused_at = endpoint.pause_reason = None
    endpoint.consecutive_failures = 0
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                     WebhookDelivery.state == DeliveryState.FAILED)
                       .values(next_try_at=now()).execution_options(synchronize_session=False))
    record("webhook.resumed", actor=actor, target=endpoint)


def delete_endpoint(actor: User, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log go; the events stay for the other endpoints."""
    record("webhook.deleted", actor=actor, target=endpoint, url=endpoint.url)
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def send_test(actor: User, endpoint: WebhookEndpoint) -> None:
    """Queue a `webhook.test` event for this endpoint only (the next run sends it, in its turn)."""
    at = now()
    emit(TEST_EVENT, user_id=None, organisation_id=endpoint.organisation_id,
         data={"endpoint_id": endpoint.id, "message": "A test event from CallSafe Academy."}, occurred_at=at,
         endpoints=[endpoint])
    record("webhook.test_queued", actor=actor, target=endpoint, at=iso(at))


def retry_delivery(actor: User, delivery: WebhookDelivery) -> bool:
    """A failed delivery is due now (it is still the endpoint's next in order)."""
    if delivery.state is not DeliveryState.FAILED:
        return False
    delivery.next_try_at = now()
    record("webhook.retried", actor=actor, target=delivery.endpoint, delivery=delivery.id)
    return True
