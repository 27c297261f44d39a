"""The admin pages: the secret is shown once and stored encrypted; partner admins see their own only."""
from __future__ import annotations

import re

from sqlalchemy import select

from lms.accounts.models import Role
from lms.extensions import db
from lms.webhooks import endpoints, signing
from lms.webhooks.models import WebhookEndpoint
from tests import factories
from tests.conftest import csrf_token, error_links


def test_secret_is_shown_once_and_not_stored_in_clear(app, world, client, login_as):
    login_as(world["admin"])
    response = client.post("/admin/webhooks/new", data={
        "csrf_token": csrf_token(client, "/admin/webhooks/new"), "url": "http://127.0.0.1:9/hooks",
        "description": "Telephony", "organisation_id": world["atlas"].id, "event_types": ["award.revoked"]})
    html = response.get_data(as_text=True)
    secret = re.search(r'value="(whsec_[^"]+)"', html).group(1)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert secret not in endpoint.secret_encrypted and signing.decrypt(endpoint.secret_encrypted) == secret
    assert secret not in client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert secret not in client.get("/admin/webhooks/").get_data(as_text=True)


def test_http_to_other_hosts_is_refused_and_the_form_keeps_what_was_typed(app, world, client, login_as):
    login_as(world["admin"])
    html = client.post("/admin/webhooks/new", data={
        "csrf_token": csrf_token(client, "/admin/webhooks/new"), "url": "http://wfm.example/hooks",
        "description": "WFM", "organisation_id": 0, "event_types": ["award.issued"]}).get_data(as_text=True)
    assert "must use https" in html and 'value="http://wfm.example/hooks"' in html
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_no_event_chosen_is_said_beside_the_events_and_linked_from_the_summary(app, world, client, login_as):
    login_as(world["admin"])
    html = client.post("/admin/webhooks/new", data={
        "csrf_token": csrf_token(client, "/admin/webhooks/new"), "url": "https://wfm.example/hooks",
        "description": "WFM", "organisation_id": 0}).get_data(as_text=True)
    assert error_links(html) == {"event_types": True}
    assert re.search(r'<fieldset id="event_types" aria-describedby="event_types-error" aria-invalid="true">', html)
    assert '<small id="event_types-error" class="field-error">Choose at least one event.</small>' in html
    assert 'value="https://wfm.example/hooks"' in html and db.session.scalar(select(WebhookEndpoint)) is None


def test_a_partner_admin_manages_only_their_organisation(app, world, client, login_as):
    theirs, _ = endpoints.create_endpoint(world["admin"], "https://atlas.example/h", "Atlas WFM",
                                          ["award.issued"], world["atlas"])
    other, _ = endpoints.create_endpoint(world["admin"], "https://northwind.example/h", "Northwind HR",
                                         ["award.issued"], world["client"])
    partner = factories.user(Role.PARTNER_ADMIN, world["atlas"])
    db.session.commit()
    login_as(partner)
    listing = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "Atlas WFM" in listing and "Northwind HR" not in listing
    assert client.get(f"/admin/webhooks/{other.id}").status_code == 404
    assert client.get(f"/admin/webhooks/{theirs.id}").status_code == 200
    client.post("/admin/webhooks/new", data={
        "csrf_token": csrf_token(client, "/admin/webhooks/new"), "url": "https://x.example/h",
        "description": "Sneaky", "organisation_id": world["client"].id, "event_types": ["award.issued"]})
    client.post("/admin/webhooks/new", data={
        "csrf_token": csrf_token(client, "/admin/webhooks/new"), "url": "https://x.example/h",
        "description": "Everything", "organisation_id": 0, "event_types": ["award.issued"]})
    assert db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.description.in_(["Sneaky", "Everything"]))) is None


def test_test_event_rotation_and_disable_from_the_endpoint_page(app, world, client, login_as, receiver):
    from lms.webhooks.delivery import send_pending

    endpoint, old_secret = endpoints.create_endpoint(world["admin"], receiver.url, "WFM", ["award.issued"], None)
    db.session.commit()
    receiver.secret = old_secret
    login_as(world["admin"])
    page = f"/admin/webhooks/{endpoint.id}"
    client.post(f"{page}/test", data={"csrf_token": csrf_token(client, page)})
    send_pending()
    assert [p["type"] for p in receiver.verified] == ["webhook.test"]
    assert "Delivered" in client.get(page).get_data(as_text=True)

    html = client.post(f"{page}/rotate", data={"csrf_token": csrf_token(client, f"{page}/rotate")}).get_data(as_text=True)
    new_secret = re.search(r'value="(whsec_[^"]+)"', html).group(1)
    client.post(f"{page}/test", data={"csrf_token": csrf_token(client, page)})
    send_pending()
    assert len(receiver.received[-1].signature.split()) == 2  # the old secret still signs during the overlap
    assert receiver.received[-1].payload is not None  # verified with the old secret
    receiver.secret = new_secret
    client.post(f"{page}/test", data={"csrf_token": csrf_token(client, page)})
    send_pending()
    assert receiver.received[-1].payload is not None  # and with the new one

    client.post(f"{page}/state", data={"csrf_token": csrf_token(client, page), "action": "disable"})
    db.session.refresh(endpoint)
    assert endpoint.disabled_at is not None and "Disabled" in client.get("/admin/webhooks/").get_data(as_text=True)
    assert client.get(f"{page}/edit").status_code == 200
    response = client.post(f"{page}/delete", data={"csrf_token": csrf_token(client, f"{page}/delete")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(WebhookEndpoint)) is None
