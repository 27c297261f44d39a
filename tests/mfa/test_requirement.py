"""Who must use a second factor: MFA_REQUIRED_ROLES and each organisation's setting."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import Organisation, Role
from lms.audit.models import AuditEvent
from lms.config import load_config
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import best_form, start
from tests.conftest import csrf_token, login
from tests.mfa.conftest import code_at, enrol_totp, sign_out, submit_code


@pytest.fixture
def admin_required(app):
    app.config["MFA_REQUIRED_ROLES"] = "admin"
    app.extensions.pop("lms.mfa_config_roles", None)
    return app


def test_a_new_admin_must_enrol_before_any_admin_page_and_an_agent_is_not_bothered(
        admin_required, client, login_as, clock):
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(admin)
    for path in ("/admin/users", "/", "/admin/organisations", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/mfa", path
    page = client.get("/account/mfa").get_data(as_text=True)
    assert "Your role requires a second factor" in page
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/healthz").status_code == 200
    enrol_totp(client)
    users = client.get("/admin/users")
    assert users.status_code == 200 and "Users" in users.get_data(as_text=True)
    # Next time: password, then the code, then the page asked for.
    sign_out(client)
    clock(30)
    assert login(client, admin.email, factories.PASSWORD).headers["Location"] == "/login/verify"

    other = admin_required.test_client()
    assert login(other, agent.email, factories.PASSWORD).headers["Location"] == "/"
    assert other.get("/").status_code == 200


def test_a_session_opened_before_the_requirement_must_pass_the_factor(app, client, login_as, clock):
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    secret, _ = enrol_totp(client)
    # Another browser signed in with the password alone before the factor existed.
    other = app.test_client()
    from lms.mfa.models import TotpFactor
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == trainer.id))
    db.session.delete(factor)
    db.session.commit()
    assert login(other, trainer.email, factories.PASSWORD).headers["Location"] == "/"
    db.session.add(TotpFactor(user_id=trainer.id, secret_encrypted=factor.secret_encrypted,
                              confirmed_at=factor.confirmed_at, last_used_step=factor.last_used_step))
    db.session.commit()
    app.config["MFA_REQUIRED_ROLES"] = "trainer"
    app.extensions.pop("lms.mfa_config_roles", None)
    refused = other.get("/authoring/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login/verify?next=/authoring/")
    clock(30)
    passed = submit_code(other, code_at(secret), next_path="/authoring/")
    assert passed.headers["Location"] == "/authoring/"
    assert other.get("/authoring/").status_code == 200


def test_an_organisation_can_require_it_for_its_agents(app, client, login_as):
    admin = factories.user(Role.ADMIN)
    strict = factories.organisation("Strict Partner")
    relaxed_agent = factories.user(Role.AGENT)
    strict_agent = factories.user(Role.AGENT, strict)
    db.session.commit()
    login_as(admin)
    path = f"/admin/organisations/{strict.id}"
    form = client.get(path).get_data(as_text=True)
    assert 'name="mfa_required_roles"' in form and "Second factor required for" in form
    saved = client.post(path, data={"name": strict.name, "kind": "partner", "country": "PT",
                                    "contract_reference": "DPA-1", "contact_email": "contact@partner.example",
                                    "mfa_required_roles": ["agent"], "csrf_token": csrf_token(client, path)})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, strict.id).mfa_required_roles == "agent"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.updated"))
    assert event.data["changes"]["mfa_required_roles"] == ["", "agent"]
    assert '<input checked id="mfa_required_roles-0"' in client.get(path).get_data(as_text=True)  # shown again as saved
    sign_out(client)

    login_as(strict_agent)
    assert client.get("/").headers["Location"] == "/account/mfa"
    sign_out(client)
    login_as(relaxed_agent)
    assert client.get("/").status_code == 200


def test_the_answer_autosave_is_no_way_around_the_requirement(app, client, login_as):
    from lms.learning.models import Quiz
    from lms.learning.sync import load_content
    from tests.assessment.conftest import FIXTURE
    from lms.assessment import services

    load_content(FIXTURE)
    strict = factories.organisation("Strict Partner")
    agent = factories.user(Role.AGENT, strict)
    db.session.commit()
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    login_as(agent)
    attempt = start(agent, quiz)
    token = csrf_token(client, f"/attempts/{attempt.id}/questions/2")
    item, shown = services.item_at(attempt, 2)

    def autosave():
        return client.post(f"/attempts/{attempt.id}/answers/2", data={**best_form(item, shown), "csrf_token": token},
                           headers={"Accept": "application/json"})

    assert autosave().status_code == 200
    strict.mfa_required_roles = "agent"
    db.session.commit()
    app.extensions.pop("lms.mfa_org_roles", None)  # as saving the organisation form does
    refused = autosave()
    assert refused.status_code == 401
    assert client.get(f"/attempts/{attempt.id}/questions/2").headers["Location"] == "/account/mfa"


def test_production_requires_it_of_admins_partner_admins_and_auditors_by_default(monkeypatch):
    monkeypatch.delenv("MFA_REQUIRED_ROLES", raising=False)
    assert load_config("production").MFA_REQUIRED_ROLES == "admin,partner_admin,auditor"
    assert load_config("development").MFA_REQUIRED_ROLES == ""
    assert load_config("test").MFA_REQUIRED_ROLES == ""


def test_an_admin_can_remove_the_factors_of_someone_who_lost_them(app, client, login_as, clock):
    from lms.mfa.models import RecoveryCode, TotpFactor

    admin = factories.user(Role.ADMIN)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    phone = app.test_client()
    login(phone, trainer.email, factories.PASSWORD)
    enrol_totp(phone)
    login_as(admin)
    user_page = client.get(f"/admin/users/{trainer.id}").get_data(as_text=True)
    assert "Authenticator app: on." in user_page and "10 recovery codes left" in user_page
    path = f"/admin/users/{trainer.id}/second-factors/reset"
    assert "Remove Trainer" in client.get(path).get_data(as_text=True)
    assert db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == trainer.id)) is not None
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    db.session.expire_all()
    assert db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == trainer.id)) is None
    assert db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == trainer.id)) is None
    assert phone.get("/").headers["Location"].startswith("/login")  # signed out everywhere
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mfa.reset_by_admin"))
    assert event.actor_id == admin.id and event.target_id == str(trainer.id)
    # Not for one's own factors: that is what the account page is for.
    own = f"/admin/users/{admin.id}/second-factors/reset"
    client.post(own, data={"csrf_token": csrf_token(client, own)})
    assert "from your account page" in client.get(f"/admin/users/{admin.id}").get_data(as_text=True)


def test_a_misspelt_role_in_the_setting_stops_the_start():
    from lms.config import ConfigError
    from tests.conftest import make_app

    with pytest.raises(ConfigError, match="MFA_REQUIRED_ROLES: not a role: admins"):
        make_app(MFA_REQUIRED_ROLES="admins,auditor")


def test_the_last_factor_stays_while_the_role_requires_one(admin_required, client, login_as, clock):
    from lms.mfa.models import TotpFactor

    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    enrol_totp(client)
    refused = client.get("/account/mfa/totp/remove")
    assert refused.headers["Location"] == "/account/mfa"
    assert "add another one before removing this one" in client.get("/account/mfa").get_data(as_text=True)
    client.post("/account/mfa/totp/remove", data={"csrf_token": csrf_token(client, "/account/mfa")})
    assert db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == admin.id)) is not None
