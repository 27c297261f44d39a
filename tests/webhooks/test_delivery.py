"""Events reach a real receiver signed per Standard Webhooks, in order, retried, paused; status changes once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms import signals
from lms.certification import services
from lms.clock import now, set_now
from lms.extensions import db
from lms.webhooks import endpoints
from lms.webhooks.delivery import send_pending
from lms.webhooks.events import check_statuses
from lms.webhooks.models import DeliveryState, WebhookDelivery
from tests.certification.conftest import START


def _endpoint(world, receiver, organisation=None, types=None):
    endpoint, secret = endpoints.create_endpoint(world["admin"], receiver.url, "Workforce management",
                                                 types or ["award.issued", "award.revoked", "award.expiring",
                                                           "award.expired", "enrolment.overdue"], organisation)
    db.session.commit()
    receiver.secret = secret
    return endpoint


def _issue(world, issued_at=START):
    award = world["certify"](world["agent"], world["programme"], issued_at)
    signals.award_issued.send(None, award=award)  # as certification's _issue does
    db.session.commit()
    return award


def test_issue_then_revoke_arrive_signed_and_in_order_even_after_a_failure(app, world, receiver):
    _endpoint(world, receiver, world["atlas"])
    receiver.fail_next = 1
    award = _issue(world)
    services.revoke(world["admin"], award, "Wrong person")
    db.session.commit()

    report = send_pending()
    assert (report.delivered, report.failed) == (0, 1)
    assert len(receiver.received) == 1  # the revocation waits behind the issue's retry
    assert send_pending().delivered == 0  # not due yet: backoff
    set_now(now() + timedelta(seconds=31))
    assert send_pending().delivered == 2

    # The first issue failed (500) and was sent again before the revocation.
    assert [p["type"] for p in receiver.verified] == ["award.issued", "award.issued", "award.revoked"]
    assert all(r.payload is not None for r in receiver.received)  # every signature verified independently
    issued = receiver.verified[0]
    assert issued["data"]["agent_id"] == world["agent"].id and issued["data"]["employee_id"] == "ATL-7"
    assert issued["data"]["certificate_code"] == award.verification_code
    assert issued["data"]["programme"] == world["programme"].slug
    assert world["agent"].email not in str(receiver.verified) and world["agent"].name not in str(receiver.verified)
    # The retry kept its message id, so the receiver can tell it is the same event.
    assert receiver.received[0].message_id == receiver.received[1].message_id


def test_backoff_doubles_and_repeated_failures_pause_until_resumed(app, world, receiver):
    app.config["WEBHOOKS_PAUSE_AFTER"] = 3
    endpoint = _endpoint(world, receiver)
    receiver.fail_next = -1
    _issue(world)
    tries = []
    for _ in range(5):
        send_pending()
        delivery = db.session.scalar(select(WebhookDelivery))
        tries.append((delivery.next_try_at - now()).total_seconds())
        set_now(delivery.next_try_at)
    assert tries[:3] == [30, 60, 120]
    db.session.refresh(endpoint)
    assert endpoint.paused_at is not None and "3 failed deliveries in a row" in endpoint.pause_reason
    assert len(receiver.received) == 3  # paused: nothing more was tried

    receiver.fail_next = 0
    endpoints.resume(world["admin"], endpoint)
    db.session.commit()
    assert send_pending().delivered == 1
    assert db.session.scalar(select(WebhookDelivery)).state is DeliveryState.DELIVERED
    assert [p["type"] for p in receiver.verified][-1] == "award.issued"


def test_expiring_expired_and_overdue_are_each_sent_once(app, world, receiver):
    from lms.accounts.models import Role
    from tests import factories

    _endpoint(world, receiver)
    late = factories.user(Role.AGENT, world["atlas"])
    services.sync_enrolments()
    award = world["certify"](world["agent"], world["programme"], START - timedelta(days=320))  # in its window
    db.session.commit()

    set_now(START + timedelta(days=31))  # the late agent's due date has passed
    check_statuses()
    check_statuses()  # the same states again: nothing new
    send_pending()
    assert sorted((p["type"], p["data"]["agent_id"]) for p in receiver.verified) == sorted(
        [("award.expiring", world["agent"].id), ("enrolment.overdue", late.id)])

    set_now(award.grace_until + timedelta(days=1))
    check_statuses()
    send_pending()
    assert [p["type"] for p in receiver.verified].count("award.expired") == 1
    assert [p["type"] for p in receiver.verified].count("award.expiring") == 1


def test_restricted_people_are_withheld(app, world, receiver):
    _endpoint(world, receiver)
    _issue(world)
    world["agent"].restricted_at = now()
    db.session.commit()
    assert send_pending().withheld == 1
    assert receiver.received == []
