"""The development receiver (`flask lms demo-receiver`, devtools/webhook_receiver.py): it registers its
endpoint, verifies what the app sends and prints it; a forged or stale delivery is refused."""
from __future__ import annotations

import base64
import threading
from datetime import datetime, timedelta, timezone

from standardwebhooks import Webhook

from devtools.webhook_receiver import Receiver, demo_endpoint, verified
from lms.certification import services
from lms.clock import now, set_now
from lms.extensions import db
from lms.webhooks.delivery import send_pending
from lms.webhooks.models import DeliveryState, WebhookDelivery

SECRET = "whsec_" + base64.b64encode(b"demo receiver secret 32 bytes!!!").decode()


def test_a_revocation_arrives_verified_and_is_printed(app, world):
    lines: list[str] = []
    with Receiver(0, lines.append) as receiver:
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            endpoint, receiver.secret = demo_endpoint(receiver.port)
            db.session.commit()
            set_now(None)  # the receiver checks the timestamp against the real clock
            award = world["certify"](world["agent"], world["programme"], now() - timedelta(days=1))
            services.revoke(world["admin"], award, "Wrong person")
            db.session.commit()
            assert send_pending().delivered == 1
        finally:
            receiver.shutdown()
    assert len(lines) == 1
    assert " verified " in lines[0] and "award.revoked" in lines[0]
    assert f"agent_id {world['agent'].id}" in lines[0] and "status revoked" in lines[0]
    assert db.session.query(WebhookDelivery).one().state == DeliveryState.DELIVERED

    # A second run keeps the endpoint and gives it a new secret.
    again, secret = demo_endpoint(receiver.port)
    assert again.id == endpoint.id and secret != receiver.secret


def _signed(body: bytes, at: datetime) -> dict[str, str]:
    signature = Webhook(SECRET).sign("msg_1", at, body.decode())
    return {"webhook-id": "msg_1", "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


def test_only_a_fresh_delivery_signed_with_the_secret_verifies():
    body = b'{"type": "award.revoked", "data": {"agent_id": 7}}'
    moment = datetime.now(timezone.utc)
    assert verified(SECRET, _signed(body, moment), body)
    assert not verified(SECRET, _signed(body, moment), body.replace(b"7", b"8"))  # tampered body
    assert not verified(SECRET, _signed(body, moment - timedelta(minutes=6)), body)  # replayed later
    other = "whsec_" + base64.b64encode(b"another secret, also 32 bytes!!!").decode()
    assert not verified(other, _signed(body, moment), body)
    assert not verified(SECRET, {"webhook-id": "msg_1", "webhook-timestamp": "soon"}, body)
