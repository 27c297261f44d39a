"""The SSO rules without a provider: who an IdP's (already verified) claims sign in, routing by
domain, passwords forbidden, role mapping and the IdP's second factor."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from lms import signals
from lms.accounts.models import Role, User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.sso import crypto, services
from lms.sso.models import SsoConnection, SsoIdentity
from tests import factories
from tests.conftest import csrf_token, login

ISSUER = "https://idp.atlascare.example"


def _connection(org, **overrides) -> SsoConnection:
    values = dict(organisation_id=org.id, issuer=ISSUER, client_id="lms", client_secret="s3cret",
                  scopes="email profile", email_claim="email", role_claim="", trainer_values="",
                  domains="atlascare.example", jit_provisioning=False, link_by_email=False,
                  passwords_forbidden=False, idp_mfa_accepted=False, mfa_acr_values="", enabled=True)
    values.update(overrides)
    admin = factories.user(Role.ADMIN, org)
    return services.save_connection(admin, services.ConnectionData(**values))


def _claims(sub="abc-1", email="nadia@atlascare.example", **more):
    return {"sub": sub, "email": email, "email_verified": True, "name": "Nadia Benali", **more}


def test_the_secret_is_stored_encrypted_and_openid_is_always_asked(app: Flask):
    connection = _connection(factories.organisation())
    assert "s3cret" not in connection.client_secret_encrypted
    assert crypto.decrypt(connection.client_secret_encrypted) == "s3cret"
    assert connection.scopes == "openid email profile"
    saved = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.connection_saved")).one()
    assert "s3cret" not in str(saved.data)


def test_an_unknown_person_is_refused_unless_jit_is_on(app: Flask):
    org = factories.organisation()
    connection = _connection(org)
    with pytest.raises(services.SsoError, match="no account for you"):
        services.resolve_user(connection, _claims())
    assert db.session.scalar(select(User).where(User.email == "nadia@atlascare.example")) is None


def test_jit_creates_an_agent_in_the_connections_organisation_through_the_account_services(app: Flask):
    org = factories.organisation()
    connection = _connection(org, jit_provisioning=True)
    saved = []
    # user_saved is what enrols a new person in their organisation's programmes (lms/certification).
    with signals.user_saved.connected_to(lambda sender, user: saved.append(user)):
        # Claims naming another organisation change nothing: the connection decides.
        user = services.resolve_user(connection, _claims(organisation="Northwind", org_id=1))
    assert saved == [user]
    assert (user.organisation_id, user.role, user.name) == (org.id, Role.AGENT, "Nadia Benali")
    link = db.session.scalars(select(SsoIdentity)).one()
    assert (link.issuer, link.subject, link.user_id) == (ISSUER, "abc-1", user.id)
    assert user.password_hash is None


def test_jit_only_for_the_connections_domains(app: Flask):
    connection = _connection(factories.organisation(), jit_provisioning=True)
    with pytest.raises(services.SsoError, match="not set up for northwind.example"):
        services.resolve_user(connection, _claims(email="ceo@northwind.example"))


def test_email_alone_never_links_an_existing_account_unless_allowed(app: Flask):
    org = factories.organisation()
    existing = factories.user(Role.AGENT, org, email="nadia@atlascare.example")
    connection = _connection(org, jit_provisioning=True)
    with pytest.raises(services.SsoError, match="not linked"):
        services.resolve_user(connection, _claims())
    assert db.session.scalar(select(SsoIdentity)) is None
    connection.link_by_email = True
    assert services.resolve_user(connection, _claims()) is existing
    assert db.session.scalars(select(SsoIdentity)).one().user_id == existing.id


def test_no_landing_in_another_organisation_by_email(app: Flask):
    atlas, northwind = factories.organisation("Atlas"), factories.organisation("Northwind")
    # The e-mail is in the connection's domain, but the account belongs to another organisation.
    other = factories.user(Role.TRAINER, northwind, email="nadia@atlascare.example")
    connection = _connection(atlas, jit_provisioning=True, link_by_email=True)
    with pytest.raises(services.SsoError, match="another organisation"):
        services.resolve_user(connection, _claims())
    assert other.organisation_id == northwind.id and db.session.scalar(select(SsoIdentity)) is None


def test_a_linked_subject_moved_to_another_organisation_is_refused(app: Flask):
    atlas, northwind = factories.organisation("Atlas"), factories.organisation("Northwind")
    connection = _connection(atlas, jit_provisioning=True)
    user = services.resolve_user(connection, _claims())
    user.organisation_id = northwind.id  # an admin moved them
    db.session.flush()
    with pytest.raises(services.SsoError, match="another organisation"):
        services.resolve_user(connection, _claims(email="changed@atlascare.example"))
    assert db.session.get(User, user.id).organisation_id == northwind.id


def test_the_subject_not_the_email_says_who_signs_in(app: Flask):
    connection = _connection(factories.organisation(), jit_provisioning=True)
    first = services.resolve_user(connection, _claims(sub="s-1", email="a@atlascare.example"))
    again = services.resolve_user(connection, _claims(sub="s-1", email="b@atlascare.example"))
    assert again is first and first.email == "a@atlascare.example"


def test_an_inactive_account_is_refused(app: Flask):
    connection = _connection(factories.organisation(), jit_provisioning=True)
    user = services.resolve_user(connection, _claims())
    user.active = False
    with pytest.raises(services.SsoError, match="not active"):
        services.resolve_user(connection, _claims())


def test_role_mapping_makes_trainers_and_agents_but_never_admins(app: Flask):
    org = factories.organisation()
    connection = _connection(org, jit_provisioning=True, role_claim="groups", trainer_values="atlas-trainers")
    user = services.resolve_user(connection, _claims(groups=["atlas-agents", "atlas-trainers"]))
    assert user.role is Role.TRAINER
    assert services.resolve_user(connection, _claims(groups=["atlas-agents"])).role is Role.AGENT
    admin = factories.user(Role.ADMIN, org, email="boss@atlascare.example")
    db.session.add(SsoIdentity(connection_id=connection.id, user_id=admin.id, issuer=ISSUER, subject="boss"))
    assert services.resolve_user(connection, _claims(sub="boss", groups=["admins"])).role is Role.ADMIN


def test_missing_email_claim_is_a_clear_refusal(app: Flask):
    connection = _connection(factories.organisation(), jit_provisioning=True, email_claim="upn")
    with pytest.raises(services.SsoError, match="claim “upn”"):
        services.resolve_user(connection, _claims())


def test_the_idps_second_factor_counts_only_when_the_connection_says_so(app: Flask):
    connection = _connection(factories.organisation(), mfa_acr_values="urn:idp:mfa")
    claims = _claims(amr=["pwd", "otp"])
    assert not services.idp_second_factor(connection, claims)
    connection.idp_mfa_accepted = True
    assert services.idp_second_factor(connection, claims)
    assert not services.idp_second_factor(connection, _claims(amr=["pwd"]))
    assert services.idp_second_factor(connection, _claims(amr=["pwd"], acr="urn:idp:mfa"))


def test_domains_route_to_one_connection_only(app: Flask):
    _connection(factories.organisation("Atlas"))
    with pytest.raises(services.SsoError, match="already sends people"):
        _connection(factories.organisation("Other"), issuer="https://idp.other.example",
                    domains="other.example\nATLASCARE.example")
    assert services.connection_for_email("Someone@AtlasCare.example").issuer == ISSUER
    assert services.connection_for_email("someone@northwind.example") is None


def test_an_issuer_must_be_https(app: Flask):
    with pytest.raises(services.SsoError, match="https"):
        _connection(factories.organisation(), issuer="http://idp.example.com")


def test_passwords_forbidden_refuses_the_password_form_with_a_clear_message(app: Flask, client):
    org = factories.organisation()
    agent = factories.user(Role.AGENT, org, email="omar@partner-mail.example")
    _connection(org, passwords_forbidden=True)
    db.session.commit()
    # By domain, before any password is checked...
    response = login(client, "nadia@atlascare.example", factories.PASSWORD)
    assert "signs you in with its own account" in response.get_data(as_text=True)
    # ...and for the organisation's people whatever their address, once the password is right.
    response = login(client, agent.email, factories.PASSWORD)
    assert response.status_code == 200 and "signs you in with its own account" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in


def test_everyone_else_still_needs_a_password(app: Flask, client):
    factories.user(Role.AGENT, email="someone@northwind.example")
    db.session.commit()
    response = client.post("/login", data={"email": "someone@northwind.example", "password": "",
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 200 and "Enter your password." in response.get_data(as_text=True)
    assert login(client, "someone@northwind.example", factories.PASSWORD).status_code == 302


def test_admin_pages_keep_the_secret_write_only(app: Flask, client):
    org = factories.organisation("Atlas Customer Care")
    admin = factories.user(Role.ADMIN, org)
    connection = _connection(org)
    db.session.commit()
    assert login(client, admin.email, factories.PASSWORD).status_code == 302
    listing = client.get("/admin/sso").get_data(as_text=True)
    assert "Atlas Customer Care" in listing and "/sso/callback" in listing
    page = client.get(f"/admin/sso/{connection.id}").get_data(as_text=True)
    assert "s3cret" not in page and connection.client_secret_encrypted not in page
    form = {"organisation_id": org.id, "issuer": ISSUER + "/", "client_id": "lms-2", "client_secret": "",
            "scopes": "openid email", "email_claim": "email", "domains": "atlascare.example",
            "role_claim": "", "trainer_values": "", "mfa_acr_values": "", "enabled": "y",
            "csrf_token": csrf_token(client, f"/admin/sso/{connection.id}")}
    assert client.post(f"/admin/sso/{connection.id}", data=form).status_code == 302
    db.session.expire_all()
    stored = db.session.get(SsoConnection, connection.id)
    assert (stored.client_id, stored.issuer) == ("lms-2", ISSUER)
    assert crypto.decrypt(stored.client_secret_encrypted) == "s3cret"  # kept when left empty
    connection_id = connection.id
    confirm = client.get(f"/admin/sso/{connection_id}/delete").get_data(as_text=True)
    assert "Remove the sign-in for Atlas Customer Care?" in confirm
    client.post(f"/admin/sso/{connection_id}/delete",
                data={"csrf_token": csrf_token(client, f"/admin/sso/{connection_id}/delete")})
    db.session.expire_all()
    assert db.session.get(SsoConnection, connection_id) is None


def test_the_demo_connection_command_connects_atlas(app: Flask, runner):
    org = factories.organisation("Atlas Customer Care")
    db.session.commit()
    result = runner.invoke(args=["sso", "demo-connection", "--issuer", "http://127.0.0.1:4000"])
    assert result.exit_code == 0, result.output
    assert "/sso/callback" in result.output
    connection = db.session.scalars(select(SsoConnection)).one()
    assert (connection.organisation_id, connection.client_id, connection.jit_provisioning) == \
        (org.id, "callsafe-demo", True)
    assert services.connection_for_email("nadia.sso@atlascare.example") is connection
