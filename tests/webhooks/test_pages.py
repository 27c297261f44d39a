"""The admin pages: the secret is shown once and stored encrypted; partner admins see their own only."""
from __future__ import annotations

import re

from sqlalchemy import select

from lms.accounts.models import Role
from lms.extensions import db
from lms.webhooks import endpoints, signing
from lms.webhooks.models import WebhookEndpoint
from tests import factories
from tests.conftest import csrf_token


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
