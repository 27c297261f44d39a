"""Admins list, search, create, edit and deactivate users, and manage organisations."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from lms.accounts.models import Organisation, OrganisationKind, Role, SetPasswordToken, User
from lms.audit.models import AuditEvent
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token


def _table(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index("<tbody>"):html.index("</tbody>")]


def _setup(login_as):
    client_org = factories.organisation("Northwind", OrganisationKind.CLIENT, "IE")
    partner = factories.organisation("Atlas Care", country="MA")
    admin = factories.user(Role.ADMIN, client_org, name="Ada Admin")
    db.session.commit()
    login_as(admin)
    return admin, client_org, partner


def test_admin_creates_a_user_and_gets_a_one_time_link(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "name": "Yasmine El Idrissi", "email": "Yasmine@AtlasCare.example", "role": "agent",
        "organisation_id": partner.id, "scope_organisation_id": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "/set-password/" in html
    user = db.session.scalar(select(User).where(User.email == "yasmine@atlascare.example"))
    assert user.organisation_id == partner.id and user.password_hash is None
    assert db.session.scalar(select(SetPasswordToken).where(SetPasswordToken.user_id == user.id)) is not None
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions[-2:] == ["user.created", "user.password_link_issued"]


def test_bad_form_keeps_what_was_typed_and_points_at_the_field(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "name": "Omar Tazi", "email": admin.email, "role": "agent",
        "organisation_id": partner.id, "scope_organisation_id": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Omar Tazi"' in html and "already has this e-mail" in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(User).where(User.name == "Omar Tazi")) is None


def test_search_and_filter_users(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    factories.user(Role.AGENT, partner, name="Karim Benali")
    factories.user(Role.AGENT, client_org, name="Seán Murphy")
    db.session.commit()
    html = _table(client.get("/admin/users?q=benali"))
    assert "Karim Benali" in html and "Seán Murphy" not in html
    html = _table(client.get(f"/admin/users?organisation={client_org.id}&role=agent"))
    assert "Seán Murphy" in html and "Karim Benali" not in html and "Ada Admin" not in html
    assert "No users match" in client.get("/admin/users?q=zzzz").get_data(as_text=True)


def test_the_filters_speak_the_admins_language(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    admin.language = "fr"
    db.session.commit()
    html = client.get("/admin/users").get_data(as_text=True)
    organisations = html[html.index('name="organisation"'):]
    organisations = organisations[:organisations.index("</select>")]
    assert '<option selected value="">Toutes les organisations</option>' in organisations
    assert "Any organisation" not in html and ">Tous les rôles</option>" in html


def test_the_filters_fold_into_a_drawer_that_counts_those_applied(app: Flask, client, login_as):
    _setup(login_as)
    html = client.get("/admin/users").get_data(as_text=True)
    assert '<details class="filter-drawer" open>' in html and "js/table_tools.js" in html
    assert "applied</span>" not in html
    html = client.get("/admin/users?q=benali&role=agent&team=").get_data(as_text=True)
    assert '<span class="badge">2 applied</span>' in html


def test_edit_role_and_scope_is_audited_and_ends_sessions(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    person = factories.user(Role.TRAINER, client_org)
    db.session.commit()
    other = app.test_client()
    from tests.conftest import login
    login(other, person.email, factories.PASSWORD)
    assert other.get("/").status_code == 200
    token = csrf_token(client, f"/admin/users/{person.id}")
    client.post(f"/admin/users/{person.id}", data={
        "name": person.name, "email": person.email, "role": "auditor", "organisation_id": client_org.id,
        "scope_organisation_id": partner.id, "csrf_token": token})
    db.session.expire_all()
    assert person.role is Role.AUDITOR and person.scope_organisation_id == partner.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.role_changed")).one()
    assert event.data["changes"]["role"] == ["trainer", "auditor"]
    assert other.get("/").status_code == 302  # the old role's session is gone


def test_role_field_cannot_be_set_to_something_unknown(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "name": "X", "email": "x@example.org", "role": "superuser", "organisation_id": partner.id,
        "scope_organisation_id": "", "csrf_token": token})
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_deactivate_and_reactivate(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    agent = factories.user(Role.AGENT, partner)
    db.session.commit()
    token = csrf_token(client, f"/admin/users/{agent.id}")
    client.post(f"/admin/users/{agent.id}/active", data={"active": "0", "csrf_token": token})
    db.session.expire_all()
    assert agent.active is False and agent.deactivated_at is not None
    assert "Deactivated" in client.get("/admin/users").get_data(as_text=True)
    client.post(f"/admin/users/{agent.id}/active", data={"active": "1", "csrf_token": token})
    db.session.expire_all()
    assert agent.active is True
    # Admins cannot lock themselves out.
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0", "csrf_token": token})
    db.session.expire_all()
    assert admin.active is True


def test_forms_without_csrf_token_change_nothing(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    agent = factories.user(Role.AGENT, partner)
    db.session.commit()
    response = client.post(f"/admin/users/{agent.id}/active", data={"active": "0"})
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert agent.active is True


def test_organisations_create_and_edit(app: Flask, client, login_as):
    admin, client_org, partner = _setup(login_as)
    token = csrf_token(client, "/admin/organisations/new")
    response = client.post("/admin/organisations/new", data={
        "name": "Lisboa Contact Services", "kind": "partner", "country": "pt",
        "contract_reference": "DPA-2025-014", "contact_email": "dpo@lisboa.example", "csrf_token": token})
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Lisboa Contact Services"))
    assert org.country == "PT" and org.kind is OrganisationKind.PARTNER
    # A second client company is refused with a message on the field.
    response = client.post(f"/admin/organisations/{org.id}", data={
        "name": org.name, "kind": "client", "country": "PT", "csrf_token": token})
    assert "already the client company" in response.get_data(as_text=True)
    response = client.post(f"/admin/organisations/{org.id}", data={
        "name": org.name, "kind": "partner", "country": "ES", "csrf_token": token})
    db.session.expire_all()
    assert org.country == "ES"
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("organisation.%"))))
    assert actions[-2:] == ["organisation.created", "organisation.updated"]
    assert "Lisboa Contact Services" in client.get("/admin/organisations").get_data(as_text=True)
    # The edit page is titled with the organisation (base.html's own variables must not shadow it).
    assert "<h1>Lisboa Contact Services</h1>" in client.get(f"/admin/organisations/{org.id}").get_data(as_text=True)


def _form_values(html: str) -> dict[str, str]:
    """What a browser would submit from the page's form as it stands: inputs and selected options."""
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', options) or re.search(r'<option value="([^"]*)"', options)
        values[name] = chosen.group(1)
    return values


def test_saving_an_edit_form_unchanged_keeps_the_role_and_the_kind(app: Flask, client, login_as):
    """The edit forms showed the first choice (Agent, Client company) whatever was stored."""
    admin, client_org, partner = _setup(login_as)
    trainer = factories.user(Role.TRAINER, partner, name="Tess Trainer")
    db.session.commit()
    page = client.get(f"/admin/users/{trainer.id}").get_data(as_text=True)
    assert '<option selected value="trainer">Trainer</option>' in page
    client.post(f"/admin/users/{trainer.id}", data={**_form_values(page), "name": "Tess T. Trainer"})
    page = client.get(f"/admin/organisations/{partner.id}").get_data(as_text=True)
    assert '<option selected value="partner">Outsourcing partner</option>' in page
    client.post(f"/admin/organisations/{partner.id}", data={**_form_values(page), "country": "ES"})
    db.session.expire_all()
    assert (trainer.name, trainer.role) == ("Tess T. Trainer", Role.TRAINER)
    assert (partner.country, partner.kind) == ("ES", OrganisationKind.PARTNER)
