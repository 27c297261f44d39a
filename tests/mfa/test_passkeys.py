"""Passkeys: registration, the second step, sign-in with a passkey alone, and the checks on each."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lms.accounts.models import LoginSession, Role
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.mfa.models import Passkey, WebAuthnChallenge
from tests import factories
from tests.conftest import csrf_token, login
from tests.mfa.conftest import sign_out
from tests.mfa.softkey import SoftAuthenticator

ORIGIN = "http://127.0.0.1:5000"  # TestConfig's BASE_URL


@pytest.fixture
def trainer(app):
    person = factories.user(Role.TRAINER)
    db.session.commit()
    return person


def _json_post(client, path: str, token: str, body=None):
    return client.post(path, data=json.dumps(body) if body is not None else None,
                       headers={"X-CSRFToken": token, "Content-Type": "application/json",
                                "Accept": "application/json"})


def _register(client, key: SoftAuthenticator, name: str = "Work laptop", origin: str | None = None):
    token = csrf_token(client, "/account/mfa")
    options = _json_post(client, "/account/mfa/passkeys/options", token).get_json()
    return client.post("/account/mfa/passkeys", headers={"X-CSRFToken": token, "Accept": "application/json"},
                       data={"credential": json.dumps(key.create(options, origin)), "name": name})


def _sign_in_with(client, key: SoftAuthenticator, **kwargs):
    token = csrf_token(client, "/login")
    options = _json_post(client, "/login/passkey/options", token).get_json()
    assertion = key.get(options, **kwargs)
    return _json_post(client, "/login/passkey", token, assertion), assertion, token


def _last_session(user) -> LoginSession:
    db.session.expire_all()
    return db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.id.desc()))


def test_register_then_sign_in_with_the_passkey_alone(app, client, login_as, trainer):
    app.config["BASE_URL"] = ORIGIN
    key = SoftAuthenticator(ORIGIN)
    login_as(trainer)
    options = _json_post(client, "/account/mfa/passkeys/options", csrf_token(client, "/account/mfa")).get_json()
    assert options["rp"]["id"] == "127.0.0.1"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    registered = _register(client, key)
    assert registered.status_code == 200 and registered.get_json() == {"redirect": "/account/mfa"}
    passkey = db.session.scalar(select(Passkey).where(Passkey.user_id == trainer.id))
    assert passkey.name == "Work laptop"
    assert "Work laptop" in client.get("/account/mfa").get_data(as_text=True)
    assert _last_session(trainer).second_factor == "passkey"  # registering it proved it
    sign_out(client)

    response, _, _ = _sign_in_with(client, key)
    assert response.status_code == 200 and response.get_json() == {"redirect": "/"}
    assert client.get("/").status_code == 200
    assert _last_session(trainer).second_factor == "passkey"
    db.session.expire_all()
    assert db.session.get(Passkey, passkey.id).sign_count == 1
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == trainer.id)))
    assert "mfa.passkey_registered" in actions and actions[-1] == "auth.login"


def test_a_challenge_works_once_and_only_for_this_origin(app, client, login_as, trainer):
    key = SoftAuthenticator(ORIGIN)
    login_as(trainer)
    _register(client, key)
    sign_out(client)
    token = csrf_token(client, "/login")
    options = _json_post(client, "/login/passkey/options", token).get_json()
    cookie = client.get_cookie("session").value  # holds the challenge's id: a replayed cookie
    assertion = key.get(options)
    assert _json_post(client, "/login/passkey", token, assertion).status_code == 200
    sign_out(client)
    client.set_cookie("session", cookie)
    replay = _json_post(client, "/login/passkey", token, assertion)
    assert replay.status_code == 400 and "expired" in replay.get_json()["error"]
    assert db.session.scalar(select(WebAuthnChallenge)) is None  # used and gone

    elsewhere, _, _ = _sign_in_with(client, key, origin="https://academy.evil.example")
    assert elsewhere.status_code == 400
    assert client.get("/").headers["Location"].startswith("/login")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mfa.verify_failed")) is not None


def test_a_cloned_authenticator_is_refused_by_its_sign_count(app, client, login_as, trainer):
    key = SoftAuthenticator(ORIGIN)
    login_as(trainer)
    _register(client, key)
    sign_out(client)
    assert _sign_in_with(client, key, count_step=5)[0].status_code == 200
    sign_out(client)
    key.credentials[next(iter(key.credentials))]["count"] = 2  # a copy that lags behind
    assert _sign_in_with(client, key)[0].status_code == 400


def test_a_passkey_as_the_second_step_after_the_password(app, client, login_as, trainer):
    key = SoftAuthenticator(ORIGIN)
    login_as(trainer)
    _register(client, key)
    sign_out(client)
    assert login(client, trainer.email, factories.PASSWORD).headers["Location"] == "/login/verify"
    page = client.get("/login/verify").get_data(as_text=True)
    assert "Use a passkey" in page and 'name="code"' not in page  # no app, no recovery codes yet
    token = csrf_token(client, "/login/verify")
    options = _json_post(client, "/login/verify/passkey/options", token).get_json()
    assert [c["id"] for c in options["allowCredentials"]] == [db.session.scalar(select(Passkey.credential_id))]
    passed = _json_post(client, "/login/verify/passkey", token, key.get(options))
    assert passed.get_json() == {"redirect": "/"}
    assert _last_session(trainer).second_factor == "passkey"


def test_removing_a_passkey_needs_a_confirmation_and_only_ones_own(app, client, login_as, trainer):
    key = SoftAuthenticator(ORIGIN)
    login_as(trainer)
    _register(client, key, name="Phone")
    passkey = db.session.scalar(select(Passkey))
    path = f"/account/mfa/passkeys/{passkey.id}/remove"
    assert "Remove the passkey “Phone”?" in client.get(path).get_data(as_text=True)
    other = factories.user(Role.TRAINER)
    db.session.commit()
    sign_out(client)
    login_as(other)
    assert client.get(path).status_code == 404
    sign_out(client)
    login(client, trainer.email, factories.PASSWORD)
    token = csrf_token(client, "/login/verify")
    options = _json_post(client, "/login/verify/passkey/options", token).get_json()
    _json_post(client, "/login/verify/passkey", token, key.get(options))
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    db.session.expire_all()
    assert db.session.scalar(select(Passkey)) is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mfa.passkey_removed")) is not None
