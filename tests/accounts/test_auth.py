"""Sign-in, sign-out, sessions, throttling and set-password links."""
from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import select

from lms.accounts import services
from lms.accounts.models import LoginSession, Role, TokenKind
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.account_pages.views import GENERIC_LOGIN_ERROR
from tests import factories
from tests.conftest import csrf_token, login, make_app


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_sign_in_and_out(app: Flask, client):
    agent = factories.user(Role.AGENT, name="Niamh Doyle")
    db.session.commit()
    response = login(client, agent.email.upper(), factories.PASSWORD)
    assert response.status_code == 302 and response.location.endswith("/")
    home = client.get("/").get_data(as_text=True)
    assert "Welcome, Niamh" in home and "Sign out" in home
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and "/login" in response.location
    assert client.get("/").status_code == 302
    assert _actions() == ["auth.login", "auth.logout"]


def test_wrong_password_gives_a_generic_error_and_is_logged(app: Flask, client):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    for email in (agent.email, "nobody@example.org"):
        response = login(client, email, "not the password")
        assert response.status_code == 200
        assert GENERIC_LOGIN_ERROR in response.get_data(as_text=True)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["auth.login_failed", "auth.login_failed"]
    assert [e.data["reason"] for e in events] == ["wrong password", "unknown account"]
    assert all("not the password" not in str(e.data) for e in events)


def test_form_keeps_the_email_after_a_failure(app: Flask, client):
    response = login(client, "typed@example.org", "wrong-password")
    assert 'value="typed@example.org"' in response.get_data(as_text=True)


def test_sign_out_ends_the_session_for_good(app: Flask, client):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login(client, agent.email, factories.PASSWORD)
    stolen = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/").status_code == 302  # the old cookie no longer signs anyone in


def test_deactivated_user_is_refused_on_the_next_request(app: Flask, client):
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login(client, agent.email, factories.PASSWORD, remember=True)
    remember = client.get_cookie("remember_token").value
    assert client.get("/").status_code == 200
    services.set_active(admin, agent, False)
    db.session.commit()
    assert client.get("/").status_code == 302
    # The remember-me cookie alone does not bring them back either.
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/").status_code == 302
    # Their records stay.
    assert db.session.get(type(agent), agent.id) is not None
    # And they cannot sign in again.
    assert GENERIC_LOGIN_ERROR in login(app.test_client(), agent.email, factories.PASSWORD).get_data(as_text=True)


def test_remember_me_cookie_restores_a_live_session(app: Flask, client):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login(client, agent.email, factories.PASSWORD, remember=True)
    fresh = app.test_client()
    fresh.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert fresh.get("/").status_code == 200


def test_next_parameter_only_goes_to_this_site(app: Flask):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    for target, expected in [("/courses", "/courses"), ("https://evil.example/", "/"),
                             ("//evil.example", "/"), ("/\\evil.example", "/")]:
        client = app.test_client()
        token = csrf_token(client, "/login")
        response = client.post(f"/login?next={target}",
                               data={"email": agent.email, "password": factories.PASSWORD, "csrf_token": token})
        assert response.location.endswith(expected) and "evil" not in response.location, target


def test_session_is_cleared_at_sign_in(app: Flask, client):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, agent.email, factories.PASSWORD)
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_sign_in_is_throttled_per_account_then_recovers():
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="3 per 2 seconds", LOGIN_LIMIT_PER_IP="100 per minute")
    with app.app_context():
        db.create_all() if app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://" else None
        from tests.conftest import _reset_postgres, _empty_postgres, POSTGRES_URL
        from lms.extensions import limiter
        if POSTGRES_URL:
            _reset_postgres()
        limiter.reset()
        try:
            agent = factories.user(Role.AGENT)
            db.session.commit()
            client = app.test_client()
            codes = [login(client, agent.email, "wrong-password").status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            page = login(client, agent.email, factories.PASSWORD)
            assert page.status_code == 429 and "Too many attempts" in page.get_data(as_text=True)
            # Another account from the same address is not blocked by this one's limit.
            other = factories.user(Role.AGENT)
            db.session.commit()
            assert login(client, other.email, factories.PASSWORD).status_code == 302
            time.sleep(2.1)  # no permanent lockout: the window passes
            assert login(app.test_client(), agent.email, factories.PASSWORD).status_code == 302
        finally:
            db.session.remove()
            if POSTGRES_URL:
                _empty_postgres()
            db.engine.dispose()


def test_sign_in_is_throttled_per_address(app: Flask):
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per minute"
    client = app.test_client()
    codes = [login(client, f"person{i}@example.org", "wrong-password").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_set_password_link_is_one_time_and_ends_other_sessions(app: Flask, client):
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT, password=None)
    db.session.commit()
    other_device = app.test_client()
    token = services.issue_password_link(admin, agent, 72)
    db.session.commit()
    opened = client.get(f"/set-password/{token}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/set-password"
    page = client.get("/set-password")
    assert page.status_code == 200 and agent.email in page.get_data(as_text=True)
    form_token = csrf_token(client, "/set-password")
    weak = client.post("/set-password", data={"password": "password1", "confirm": "password1",
                                              "csrf_token": form_token})
    assert "most common" in weak.get_data(as_text=True)
    new_password = "river otter lantern 42"
    done = client.post("/set-password", data={"password": new_password, "confirm": new_password,
                                              "csrf_token": form_token})
    assert done.status_code == 302
    assert client.get(f"/set-password/{token}").status_code == 404  # used up
    assert client.get("/set-password").status_code == 404
    assert login(other_device, agent.email, new_password).status_code == 302
    # A second link, redeemed, ends the session signed in on the other device.
    token2 = services.issue_password_link(admin, agent, 72)
    db.session.commit()
    assert other_device.get("/").status_code == 200
    services.redeem_password_token(services.open_password_token(token2, TokenKind.SET), "another good passphrase")
    db.session.commit()
    assert other_device.get("/").status_code == 302
    live = db.session.scalars(select(LoginSession).where(LoginSession.user_id == agent.id,
                                                         LoginSession.revoked_at.is_(None))).all()
    assert live == []


def test_expired_set_password_link_is_refused(app: Flask, client):
    agent = factories.user(Role.AGENT, password=None)
    token = services.issue_password_link(None, agent, 0)
    db.session.commit()
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 404 and "no longer valid" in response.get_data(as_text=True)


def test_a_user_without_a_password_cannot_sign_in(app: Flask, client):
    agent = factories.user(Role.AGENT, password=None)
    db.session.commit()
    response = login(client, agent.email, "anything at all")
    assert response.status_code == 200 and GENERIC_LOGIN_ERROR in response.get_data(as_text=True)


def test_sign_in_limits_hold_across_workers_with_redis(app: Flask):
    """Two app instances (as two gunicorn workers) share the Redis counters."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.exceptions.ConnectionError:
        import os

        if os.environ.get("CI") or os.environ.get("LMS_REQUIRE_BROWSER") == "1":
            raise
        import pytest

        pytest.skip("Redis is not running on 127.0.0.1:6379")
    settings = dict(RATELIMIT_STORAGE_URI=url, LOGIN_LIMIT_PER_ACCOUNT="3 per minute", LOGIN_LIMIT_PER_IP="100 per minute",
                    SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    first, second = make_app(**settings), make_app(**settings)
    try:
        codes = [login(first.test_client(), "someone@example.org", "wrong-password").status_code for _ in range(2)]
        codes += [login(second.test_client(), "someone@example.org", "wrong-password").status_code for _ in range(2)]
        assert codes == [200, 200, 200, 429]
    finally:
        redis.Redis.from_url(url).flushdb()
        for instance in (first, second):
            with instance.app_context():
                db.engine.dispose()
