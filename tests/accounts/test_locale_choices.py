"""People choose their language and time zone, organisations set defaults (#19), and a due
date ends at midnight where the agent is."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.certification import services as certification
from lms.certification.models import Enrolment
from lms.certification.status import Status, status_expression
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login


def _signed_in(app: Flask, user):
    client = app.test_client()
    assert login(client, user.email, factories.PASSWORD).status_code == 302
    return client


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_choosing_french_on_the_account_page_makes_the_next_page_french(app: Flask):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    client = _signed_in(app, agent)
    token = csrf_token(client, "/account/security")
    response = client.post("/account/locale", data={"csrf_token": token, "language": "fr",
                                                    "time_zone": "Europe/Paris"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert _lang(response) == "fr" and "Votre compte" in page
    assert 'value="Europe/Paris"' in page
    db.session.refresh(agent)
    assert (agent.language, agent.time_zone) == ("fr", "Europe/Paris")
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "account.locale_changed"))


def test_an_organisation_default_applies_until_the_agent_chooses(app: Flask):
    org = factories.organisation()
    org.language = "pt"
    agent = factories.user(Role.AGENT, org)
    db.session.commit()
    client = _signed_in(app, agent)
    page = client.get("/account/security", headers={"Accept-Language": "es"})
    assert _lang(page) == "pt" and "Predefinição da organização (Português)" in page.get_data(as_text=True)
    agent.language = "ar"
    db.session.commit()
    page = client.get("/account/security")
    assert _lang(page) == "ar" and 'dir="rtl"' in page.get_data(as_text=True)


def test_an_unknown_time_zone_is_refused_and_kept_as_typed(app: Flask):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    client = _signed_in(app, agent)
    token = csrf_token(client, "/account/security")
    response = client.post("/account/locale", data={"csrf_token": token, "language": "",
                                                    "time_zone": "Europe/Lisbonne"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Europe/Lisbonne is not a time zone we know" in page and 'value="Europe/Lisbonne"' in page
    db.session.refresh(agent)
    assert agent.time_zone is None


def test_the_sign_in_page_switcher_sets_the_language_of_a_visitor(client):
    assert _lang(client.get("/login", headers={"Accept-Language": "en"})) == "en"
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"csrf_token": token, "lang": "es", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login", headers={"Accept-Language": "en"})
    assert _lang(page) == "es" and "Iniciar sesión" in page.get_data(as_text=True)


@pytest.mark.parametrize(("zone", "moment", "overdue"), [
    # Manila is UTC+8: 10 March ends there at 15:59:59 UTC.
    ("Asia/Manila", datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc), True),
    # Bogotá is UTC-5: 10 March ends there at 04:59:59 UTC on the 11th.
    ("America/Bogota", datetime(2026, 3, 11, 3, 0, tzinfo=timezone.utc), False),
    ("America/Bogota", datetime(2026, 3, 11, 5, 0, tzinfo=timezone.utc), True),
])
def test_a_due_date_ends_at_midnight_in_the_agents_zone(app: Flask, zone, moment, overdue):
    agent = factories.user(Role.AGENT)
    agent.time_zone = zone
    programme = factories.programme()
    db.session.flush()
    # What the assignment form stores for "due 10 March" (lms/certification/views.py).
    certification.assign(None, programme, user=agent, due_at=datetime(2026, 3, 10, 23, 59, tzinfo=timezone.utc))
    db.session.commit()
    status = db.session.scalar(select(status_expression(moment)).where(Enrolment.user_id == agent.id))
    assert (status == Status.OVERDUE.value) is overdue


def test_an_admin_sets_an_organisations_defaults_and_a_persons_own(app: Flask):
    org = factories.organisation("Lisboa Contact Services")
    agent = factories.user(Role.AGENT, org)
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    agent_client, admin_client = _signed_in(app, agent), _signed_in(app, admin)
    assert _lang(agent_client.get("/account/security", headers={"Accept-Language": "en"})) == "en"  # cached now
    token = csrf_token(admin_client, f"/admin/organisations/{org.id}")
    response = admin_client.post(f"/admin/organisations/{org.id}", data={
        "name": org.name, "kind": "partner", "country": "PT", "language": "pt", "time_zone": "Europe/Lisbon",
        "csrf_token": token})
    assert response.status_code == 302
    page = agent_client.get("/account/security", headers={"Accept-Language": "en"})
    assert _lang(page) == "pt" and "(Europe/Lisbon)" in page.get_data(as_text=True)
    response = admin_client.post(f"/admin/users/{agent.id}", data={
        "name": agent.name, "email": agent.email, "role": "agent", "organisation_id": org.id,
        "scope_organisation_id": "", "language": "fr", "time_zone": "Africa/Casablanca",
        "csrf_token": csrf_token(admin_client, f"/admin/users/{agent.id}")})
    assert response.status_code == 302
    db.session.expire_all()
    assert (agent.language, agent.time_zone) == ("fr", "Africa/Casablanca")
