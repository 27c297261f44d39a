"""Sending the webhook outbox: per endpoint in order, retried with backoff, paused when it keeps failing.

Ordering rule: an endpoint receives its deliveries one at a time in the order they were recorded.
While its oldest undelivered delivery waits for a retry, the later ones wait behind it. A run
claims that oldest one with a conditional UPDATE (and commits the claim before calling out), so
two runs at once never send to one endpoint together nor overtake each other.

A 2xx answer is delivered; anything else (another status, a timeout, a refused connection, a
redirect, which is never followed) is a failure, tried again after WEBHOOKS_RETRY_SECONDS, twice
that, … up to WEBHOOKS_RETRY_MAX_SECONDS. After WEBHOOKS_PAUSE_AFTER failures in a row the
endpoint is paused, with the reason shown to its admins; resuming it sends the backlog in order.
"""
from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from lms.accounts.models import User
from lms.clock import now
from lms.extensions import db
from lms.webhooks import signing
from lms.webhooks.events import iso, may_send
from lms.webhooks.models import PENDING, DeliveryState, WebhookDelivery, WebhookEndpoint
from lms.webhooks.targets import TargetError, check_url

CLAIM_EXPIRES = timedelta(minutes=10)
SNIPPET = 300


@dataclass
class SendReport:
    delivered: int = 0
    failed: int = 0
    withheld: int = 0
    paused: int = 0

    def summary(self) -> str:
        return (f"delivered {self.delivered} webhook(s), {self.failed} failed (retried later), "
                f"{self.withheld} withheld, {self.paused} endpoint(s) paused")


class DeliveryError(Exception):
    def __init__(self, message: str, status: int | None = None, snippet: str | None = None) -> None:
        super().__init__(message)
        self.status, self.snippet = status, snippet


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect could lead anywhere, an internal address too
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def body_of(delivery: WebhookDelivery, user: User | None) -> bytes:
    """The Standard Webhooks payload; the employee id is read now, so erasure leaves nothing to send."""
    event = delivery.event
    data = dict(event.data)
    if event.user_id is not None:
        data = {"agent_id": event.user_id, "employee_id": user.employee_id if user else None, **data}
    return json.dumps({"type": event.type, "timestamp": iso(event.occurred_at), "data": data},
                      separators=(",", ":")).encode()


def signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The current secret, and the previous one while it still signs after a rotation."""
    found = [signing.decrypt(endpoint.secret_encrypted)]
    if endpoint.previous_secret_encrypted and endpoint.previous_secret_until and endpoint.previous_secret_until > now():
        found.append(signing.decrypt(endpoint.previous_secret_encrypted))
    return found


def post(endpoint: WebhookEndpoint, message_id: str, body: bytes) -> tuple[int, str]:
    """POST one signed delivery; (status, snippet) on 2xx, DeliveryError otherwise."""
    try:
        url = check_url(endpoint.url)
        # The header is the real time of this attempt: receivers compare it with their own clock.
        headers = signing.headers(signing_secrets(endpoint), message_id, int(time.time()), body)
    except (TargetError, ValueError) as exc:
        raise DeliveryError(str(exc)) from None
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={**headers, "User-Agent": "CallSafe-Academy-Webhooks/1"})
    try:
        with _opener.open(request, timeout=current_app.config["WEBHOOKS_TIMEOUT_SECONDS"]) as response:
            return response.status, response.read(SNIPPET).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        snippet = exc.read(SNIPPET).decode("utf-8", "replace")
        message = f"HTTP {exc.code}" + (" (redirects are not followed)" if 300 <= exc.code < 400 else "")
        raise DeliveryError(message, exc.code, snippet) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"Could not reach the endpoint: {getattr(exc, 'reason', exc)}") from None


def _due(at):
    return or_(and_(WebhookDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.FAILED]),
                    WebhookDelivery.next_try_at <= at),
               and_(WebhookDelivery.state == DeliveryState.SENDING, WebhookDelivery.claimed_at < at - CLAIM_EXPIRES))


def _oldest_pending(endpoint_id: int | None = None):
    query = (select(WebhookDelivery.endpoint_id, func.min(WebhookDelivery.id))
             .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
             .where(WebhookDelivery.state.in_(PENDING), WebhookEndpoint.disabled_at.is_(None),
                    WebhookEndpoint.paused_at.is_(None))
             .group_by(WebhookDelivery.endpoint_id))
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return db.session.execute(query).all()


def _claim(delivery_id: int) -> WebhookDelivery | None:
    at, token = now(), secrets.token_hex(16)
    claimed = db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, _due(at))
                                 .values(state=DeliveryState.SENDING, claim=token, claimed_at=at)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.claim == token)) if claimed else None


def _failed(delivery: WebhookDelivery, error: DeliveryError, report: SendReport) -> None:
    config, at = current_app.config, now()
    delivery.attempts += 1
    delivery.state, delivery.last_error = DeliveryState.FAILED, str(error)[:2000]
    delivery.response_status, delivery.response_snippet = error.status, error.snippet
    delay = min(config["WEBHOOKS_RETRY_SECONDS"] * 2 ** (delivery.attempts - 1), config["WEBHOOKS_RETRY_MAX_SECONDS"])
    delivery.next_try_at, delivery.claim, delivery.claimed_at = at + timedelta(seconds=delay), None, None
    endpoint = delivery.endpoint
    endpoint.consecutive_failures += 1
    endpoint.last_failure_at = at
    report.failed += 1
    if endpoint.consecutive_failures >= config["WEBHOOKS_PAUSE_AFTER"] and endpoint.paused_at is None:
        endpoint.paused_at = at
        endpoint.pause_reason = (f"Paused after {endpoint.consecutive_failures} failed deliveries in a row; "
                                 f"the last: {str(error)[:300]}")
        report.paused += 1


def send_one(delivery: WebhookDelivery, report: SendReport) -> bool:
    """Send a claimed delivery and commit its outcome; True when the endpoint may get the next one."""
    event = delivery.event
    user = db.session.get(User, event.user_id) if event.user_id is not None else None
    if not may_send(user):
        delivery.state, delivery.next_try_at, delivery.claim, delivery.claimed_at = (
            DeliveryState.WITHHELD, None, None, None)
        report.withheld += 1
        db.session.commit()
        return True
    delivery.last_attempt_at = now()
    try:
        status, snippet = post(delivery.endpoint, event.message_id, body_of(delivery, user))
    except DeliveryError as exc:
        _failed(delivery, exc, report)
        db.session.commit()
        return False
    at = now()
    delivery.attempts += 1
    delivery.state, delivery.delivered_at, delivery.response_status = DeliveryState.DELIVERED, at, status
    delivery.response_snippet, delivery.last_error = snippet[:SNIPPET] or None, None
    delivery.next_try_at = delivery.claim = delivery.claimed_at = None
    delivery.endpoint.consecutive_failures, delivery.endpoint.last_success_at = 0, at
    report.delivered += 1
    db.session.commit()
    return True


def send_pending(endpoint_id: int | None = None) -> SendReport:
    """Deliver what is due, endpoint by endpoint, each in order, up to WEBHOOKS_BATCH_SIZE per run."""
    report, budget = SendReport(), current_app.config["WEBHOOKS_BATCH_SIZE"]
    for endpoint, head in _oldest_pending(endpoint_id):
        while budget > 0 and head is not None:
            delivery = _claim(head)
            if delivery is None:  # not due yet, or another run holds it
                break
            budget -= 1
            if not send_one(delivery, report):
                break
            heads = _oldest_pending(endpoint)
            head = heads[0][1] if heads else None
    return report
