"""Partner admins manage the agents of their own organisation and nobody else (#15)."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lms.accounts.models import OrganisationKind, Role, SetPasswordToken, User
from lms.audit.services import record
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token


def _world(login_as):
    client_org = factories.organisation("Northwind", OrganisationKind.CLIENT, "IE")
    atlas = factories.organisation("Atlas Care", country="MA")
    lisboa = factories.organisation("Lisboa CS", country="PT")
    partner_admin = factories.user(Role.PARTNER_ADMIN, atlas, name="Nadia Partner")
    ours = factories.user(Role.AGENT, atlas, name="Omar Ours")
    theirs = factories.user(Role.AGENT, lisboa, name="Tiago Theirs")
    home = factories.user(Role.AGENT, client_org, name="Hugh Home")
    peer = factories.user(Role.PARTNER_ADMIN, atlas, name="Pia Peer")
    db.session.commit()
    login_as(partner_admin)
    return {"admin": partner_admin, "atlas": atlas, "lisboa": lisboa, "ours": ours, "theirs": theirs,
            "home": home, "peer": peer}


def test_the_user_list_shows_only_their_organisations_agents(app: Flask, client, login_as):
    w = _world(login_as)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "People at Atlas Care" in html and "Omar Ours" in html
    assert "Tiago Theirs" not in html and "Hugh Home" not in html and "Pia Peer" not in html
    # No organisation or role filter to try other organisations with.
    assert 'name="organisation"' not in html and 'name="role"' not in html
    assert "Tiago Theirs" not in client.get(f"/admin/users?organisation={w['lisboa'].id}").get_data(as_text=True)


def test_adds_an_agent_to_their_own_organisation_whatever_the_form_says(app: Flask, client, login_as):
    w = _world(login_as)
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="role"' not in form and 'name="organisation_id"' not in form and "Atlas Care" in form
    assert "<h1>Add an agent</h1>" in form
    response = client.post("/admin/users/new", data={
        "name": "Yasmine El Idrissi", "email": "yasmine@atlascare.example", "employee_id": "AT-0042",
        "team": "Billing B", "role": "admin", "organisation_id": w["lisboa"].id,
        "csrf_token": csrf_token(client, "/admin/users/new")})
    assert response.status_code == 200 and "/set-password/" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "yasmine@atlascare.example"))
    assert (user.role, user.organisation_id, user.employee_id, user.team) == (
        Role.AGENT, w["atlas"].id, "AT-0042", "Billing B")
    assert db.session.scalar(select(SetPasswordToken).where(SetPasswordToken.user_id == user.id)) is not None


def test_deactivates_reactivates_and_issues_links_for_their_agents(app: Flask, client, login_as):
    w = _world(login_as)
    ours = w["ours"]
    token = csrf_token(client, f"/admin/users/{ours.id}")
    client.post(f"/admin/users/{ours.id}/active", data={"active": "0", "csrf_token": token})
    db.session.refresh(ours)
    assert ours.active is False
    client.post(f"/admin/users/{ours.id}/active", data={"active": "1", "csrf_token": token})
    db.session.refresh(ours)
    assert ours.active is True
    response = client.post(f"/admin/users/{ours.id}/password-link", data={"csrf_token": token})
    assert "/set-password/" in response.get_data(as_text=True)
    assert client.get(f"/admin/users/{ours.id}/second-factors/reset").status_code == 200


def test_anyone_else_is_a_404_for_every_people_action(app: Flask, client, login_as):
    w = _world(login_as)
    token = csrf_token(client, f"/admin/users/{w['ours'].id}")
    for other in (w["theirs"], w["home"], w["peer"], w["admin"]):
        assert client.get(f"/admin/users/{other.id}").status_code == 404
        assert client.post(f"/admin/users/{other.id}", data={
            "name": "Hacked", "email": other.email, "csrf_token": token}).status_code == 404
        assert client.post(f"/admin/users/{other.id}/active", data={"active": "0", "csrf_token": token}).status_code == 404
        assert client.post(f"/admin/users/{other.id}/password-link", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/admin/users/{other.id}/second-factors/reset").status_code == 404
        assert client.get(f"/people/{other.id}").status_code == (200 if other.organisation_id == w["atlas"].id else 404)
    db.session.refresh(w["theirs"])
    assert w["theirs"].active is True and w["theirs"].name == "Tiago Theirs"


def test_pages_outside_their_role_are_403(app: Flask, client, login_as):
    _world(login_as)
    for path in ("/admin/organisations", "/admin/branding", "/authoring/", "/admin/sso", "/admin/outbox",
                 "/analysis/quizzes", "/admin/breaches", "/admin/processing-record"):
        assert client.get(path).status_code == 403, path


def test_dashboard_and_audit_log_show_their_organisation_only(app: Flask, client, login_as):
    w = _world(login_as)
    record("user.updated", actor=w["ours"], target=w["ours"])
    record("user.updated", actor=w["theirs"], target=w["theirs"])
    db.session.commit()
    html = client.get("/audit/").get_data(as_text=True)
    assert w["ours"].email in html and w["theirs"].email not in html
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Lisboa CS" not in dashboard and "Northwind" not in dashboard


def test_employee_id_is_unique_per_organisation_with_a_form_error(app: Flask, client, login_as):
    w = _world(login_as)
    w["ours"].employee_id = "AT-1"
    w["theirs"].employee_id = "AT-2"
    db.session.commit()
    response = client.post("/admin/users/new", data={
        "name": "Duplicate", "email": "dup@atlascare.example", "employee_id": "AT-1",
        "csrf_token": csrf_token(client, "/admin/users/new")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "already has employee id AT-1" in html and 'value="Duplicate"' in html
    assert db.session.scalar(select(User).where(User.email == "dup@atlascare.example")) is None
    # Another organisation's number is free here.
    response = client.post("/admin/users/new", data={
        "name": "Same Number", "email": "same@atlascare.example", "employee_id": "AT-2",
        "csrf_token": csrf_token(client, "/admin/users/new")})
    assert response.status_code == 200
    assert db.session.scalar(select(User.employee_id).where(User.email == "same@atlascare.example")) == "AT-2"


def test_admins_cannot_make_a_partner_admin_at_the_client_company(app: Flask, client, login_as):
    client_org = factories.organisation("Northwind", OrganisationKind.CLIENT, "IE")
    admin = factories.user(Role.ADMIN, client_org)
    db.session.commit()
    login_as(admin)
    response = client.post("/admin/users/new", data={
        "name": "Wrong Place", "email": "wrong@example.org", "role": "partner_admin",
        "organisation_id": client_org.id, "scope_organisation_id": "",
        "csrf_token": csrf_token(client, "/admin/users/new")})
    assert "belongs to an outsourcing partner" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "wrong@example.org")) is None


def test_assigns_only_programmes_made_available_and_only_to_their_organisation(app: Flask, client, login_as):
    from lms.certification.models import Assignment
    from tests.certification.conftest import make_programme

    w = _world(login_as)
    offered, withheld = make_programme("offered"), make_programme("withheld")
    db.session.commit()
    assert "No programme has been made available" in client.get("/assignments").get_data(as_text=True)
    # An admin makes one available on Atlas's organisation page.
    admin_client = app.test_client()
    from tests.conftest import login
    admin = factories.user(Role.ADMIN, w["home"].organisation)
    db.session.commit()
    login(admin_client, admin.email, factories.PASSWORD)
    page = f"/admin/organisations/{w['atlas'].id}"
    admin_client.post(page, data={"name": "Atlas Care", "kind": "partner", "country": "MA",
                                  "available_programmes": [offered.id], "csrf_token": csrf_token(admin_client, page)})
    html = client.get("/assignments").get_data(as_text=True)
    programme_select = html[html.index('name="programme_id"'):].split("</select>")[0]
    assert "Recorded lines certification" in programme_select
    assert f'value="{offered.id}"' in programme_select and f'value="{withheld.id}"' not in programme_select
    token = csrf_token(client, "/assignments")
    base = {"target": "organisation", "due_rule": "days", "due_days": "30", "csrf_token": token}
    client.post("/assignments", data={**base, "programme_id": withheld.id, "organisation_id": w["atlas"].id})
    client.post("/assignments", data={**base, "programme_id": offered.id, "organisation_id": w["lisboa"].id})
    client.post("/assignments", data={**base, "target": "agent", "programme_id": offered.id,
                                      "agent_email": w["theirs"].email})
    assert db.session.scalars(select(Assignment)).all() == []
    client.post("/assignments", data={**base, "programme_id": offered.id, "organisation_id": w["atlas"].id})
    made = db.session.scalars(select(Assignment)).one()
    assert (made.programme_id, made.organisation_id) == (offered.id, w["atlas"].id)


def test_erasure_removes_employee_id_and_team(app: Flask):
    from lms.privacy.erasure import erase

    admin = factories.user(Role.ADMIN, factories.organisation("Northwind", OrganisationKind.CLIENT, "IE"))
    person = factories.user(Role.AGENT, factories.organisation("Atlas Care"))
    person.employee_id, person.team = "AT-77", "Billing B"
    db.session.commit()
    erase(person, requested_by=admin)
    db.session.commit()
    db.session.refresh(person)
    assert (person.employee_id, person.team) == (None, None) and person.erased_at is not None


def test_person_page_links_to_the_account_and_user_list_filters_by_team(app: Flask, client, login_as):
    w = _world(login_as)
    w["ours"].team, w["ours"].employee_id = "Billing B", "AT-9"
    other = factories.user(Role.AGENT, w["atlas"], name="Other Team")
    other.team = "Home moves"
    db.session.commit()
    person = client.get(f"/people/{w['ours'].id}").get_data(as_text=True)
    assert f'href="/admin/users/{w["ours"].id}"' in person and "employee id AT-9" in person and "team Billing B" in person
    assert "/admin/users/" not in client.get(f"/people/{w['peer'].id}").get_data(as_text=True).split("<main")[1]
    listed = client.get("/admin/users?team=Billing+B").get_data(as_text=True)
    assert "Omar Ours" in listed and "Other Team" not in listed
    assert "Omar Ours" in client.get("/admin/users?q=AT-9").get_data(as_text=True)


def test_exports_offer_their_organisation_only(app: Flask, client, login_as):
    w = _world(login_as)
    html = client.get("/exports").get_data(as_text=True)
    assert "Atlas Care" in html and "Lisboa CS" not in html and "Northwind" not in html
