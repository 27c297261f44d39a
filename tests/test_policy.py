"""Every route declares a rule, and the rules hold for every role."""
from __future__ import annotations

import pytest
from flask import Flask

from lms.accounts.models import OrganisationKind, Role
from lms.extensions import db
from lms.policy import ENDPOINTS, restrict_users
from tests import factories
from tests.conftest import login

ROLES = [Role.AGENT, Role.TRAINER, Role.AUDITOR, Role.ADMIN]
EVERYONE = set(ROLES)
# What each endpoint should allow: stated here independently of lms/policy.py, so a
# change to the policy that widens access fails this test until someone means it.
EXPECTED: dict[str, set[Role] | str] = {
    "static": "public",
    "main.health": "public",
    "accounts.login": "public",
    "accounts.set_password": "public",
    "main.index": EVERYONE,
    "accounts.logout": EVERYONE,
    "accounts.user_list": {Role.ADMIN},
    "accounts.user_new": {Role.ADMIN},
    "accounts.user_edit": {Role.ADMIN},
    "accounts.user_set_active": {Role.ADMIN},
    "accounts.user_password_link": {Role.ADMIN},
    "accounts.organisation_list": {Role.ADMIN},
    "accounts.organisation_new": {Role.ADMIN},
    "accounts.organisation_edit": {Role.ADMIN},
    "audit.event_list": {Role.ADMIN, Role.AUDITOR},
    "learning.course_list": EVERYONE,
    "learning.course_detail": EVERYONE,
    "learning.lesson": EVERYONE,
    "learning.asset": EVERYONE,
    "learning.job_aid_list": EVERYONE,
    "learning.job_aid": EVERYONE,
}


def test_every_endpoint_declares_a_rule(app: Flask):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    undeclared = endpoints - ENDPOINTS.keys()
    assert not undeclared, f"endpoints without a rule in lms/policy.py: {sorted(undeclared)}"
    stale = ENDPOINTS.keys() - endpoints
    assert not stale, f"rules for endpoints that no longer exist: {sorted(stale)}"


def test_matrix_covers_every_endpoint(app: Flask):
    assert {rule.endpoint for rule in app.url_map.iter_rules()} == EXPECTED.keys()


@pytest.fixture
def world(app: Flask):
    """Two organisations with agents, and one user of every role."""
    client_org = factories.organisation("Client Co", OrganisationKind.CLIENT, "IE")
    partner = factories.organisation("Partner A")
    other_partner = factories.organisation("Partner B")
    people = {role: factories.user(role, client_org) for role in ROLES}
    people["own_agent"] = people[Role.AGENT]
    people["other_agent"] = factories.user(Role.AGENT, client_org)
    people["partner_agent"] = factories.user(Role.AGENT, partner)
    people["other_partner_agent"] = factories.user(Role.AGENT, other_partner)
    people["scoped_auditor"] = factories.user(Role.AUDITOR, client_org, scope=partner)
    db.session.commit()
    return {"people": people, "partner": partner, "other_partner": other_partner, "client": client_org}


def _urls(app: Flask, world) -> dict[str, list[tuple[str, str]]]:
    """Concrete (method, url) pairs per endpoint, with records of self, another agent and another org."""
    p = world["people"]
    urls = {
        "main.index": [("GET", "/")],
        "main.health": [("GET", "/healthz")],
        "static": [("GET", "/static/css/app.css")],
        "accounts.login": [("GET", "/login")],
        "accounts.logout": [("POST", "/logout")],
        "accounts.set_password": [("GET", "/set-password/not-a-token")],
        "accounts.user_list": [("GET", "/admin/users")],
        "accounts.user_new": [("GET", "/admin/users/new")],
        "accounts.organisation_list": [("GET", "/admin/organisations")],
        "accounts.organisation_new": [("GET", "/admin/organisations/new")],
        "accounts.organisation_edit": [("GET", f"/admin/organisations/{world['partner'].id}")],
        "audit.event_list": [("GET", "/audit/")],
        "learning.course_list": [("GET", "/courses")],
        "learning.course_detail": [("GET", "/courses/nope")],
        "learning.lesson": [("GET", "/courses/nope/lessons/nope")],
        "learning.asset": [("GET", "/courses/nope/v/0123456789ab/img/x.png")],
        "learning.job_aid_list": [("GET", "/job-aids")],
        "learning.job_aid": [("GET", "/job-aids/nope")],
    }
    for key in ("own_agent", "other_agent", "other_partner_agent"):
        uid = p[key].id
        urls.setdefault("accounts.user_edit", []).append(("GET", f"/admin/users/{uid}"))
        urls.setdefault("accounts.user_set_active", []).append(("POST", f"/admin/users/{uid}/active"))
        urls.setdefault("accounts.user_password_link", []).append(("POST", f"/admin/users/{uid}/password-link"))
    return urls


@pytest.mark.parametrize("role", ROLES + ["scoped_auditor", None], ids=lambda r: getattr(r, "value", str(r)))
def test_policy_matrix(app: Flask, world, role):
    client = app.test_client()
    if role is not None:
        person = world["people"][role]
        assert login(client, person.email, factories.PASSWORD).status_code == 302
    # The matrix checks the policy, not CSRF (which has tests of its own).
    app.config["WTF_CSRF_ENABLED"] = False
    as_role = Role.AUDITOR if role == "scoped_auditor" else role
    urls = _urls(app, world)
    assert urls.keys() == EXPECTED.keys()
    for endpoint, pairs in urls.items():
        for method, url in pairs:
            if endpoint == "accounts.logout":
                continue  # signing out would end this client's session mid-matrix; tested in test_auth
            response = client.open(url, method=method)
            response.close()
            expected = EXPECTED[endpoint]
            where = f"{role} {method} {url}"
            if expected == "public":
                assert response.status_code in (200, 302, 404), where
            elif as_role is None:
                assert response.status_code == 302 and "/login" in response.location, where
            elif as_role in expected:
                assert response.status_code in (200, 302, 404), where
                assert response.status_code != 302 or "/login" not in response.location, where
            else:
                assert response.status_code == 403, where
                assert "You don&#39;t have access" in response.get_data(as_text=True), where


def test_record_rules_limit_who_sees_whom(app: Flask, world):
    from sqlalchemy import select

    from lms.accounts.models import User

    p = world["people"]

    def visible(actor):
        return {u.id for u in db.session.scalars(restrict_users(actor, select(User)))}

    assert visible(p["own_agent"]) == {p["own_agent"].id}
    scoped = visible(p["scoped_auditor"])
    assert p["partner_agent"].id in scoped
    assert p["other_partner_agent"].id not in scoped and p["own_agent"].id not in scoped
    assert p["other_partner_agent"].id in visible(p[Role.AUDITOR])
    assert p["other_partner_agent"].id in visible(p[Role.TRAINER])


def test_denied_access_is_an_audit_event(app: Flask, world, client):
    from sqlalchemy import select

    from lms.audit.models import AuditEvent

    agent = world["people"][Role.AGENT]
    login(client, agent.email, factories.PASSWORD)
    assert client.get("/admin/users").status_code == 403
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert event.actor_id == agent.id and event.data["path"] == "/admin/users"
