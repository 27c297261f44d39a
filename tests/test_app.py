"""Configuration, headers, error pages, migrations and CLI."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from lms import create_app
from lms.accounts.models import Role, User
from lms.config import ConfigError
from lms.extensions import db
from tests import factories
from tests.conftest import QUIET_AUDIT, make_app


def test_production_refuses_a_missing_or_default_secret(monkeypatch):
    for secret in (None, "dev-only-not-secret", "short"):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app({"SECRET_KEY": secret}, profile="production")
    app = create_app({"SECRET_KEY": "x" * 48, "BASE_URL": "https://academy.example.com"}, profile="production")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "nonce" not in csp  # the page runs no script of ours
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_hsts_and_secure_cookies_in_production():
    app = create_app({"SECRET_KEY": "y" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "BASE_URL": "https://localhost", **QUIET_AUDIT}, profile="production")
    with app.app_context():
        db.create_all()
        response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_friendly_404_and_500_without_stack_trace(app: Flask, client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)

    broken = make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])

    @broken.route("/boom")
    def boom():
        raise RuntimeError("secret internals")
    from lms.policy import ENDPOINTS, PUBLIC
    ENDPOINTS["boom"] = PUBLIC
    try:
        page = broken.test_client().get("/boom")
    finally:
        del ENDPOINTS["boom"]
        with broken.app_context():
            db.engine.dispose()
    html = page.get_data(as_text=True)
    assert page.status_code == 500 and "went wrong on our side" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_413_page(app: Flask, client):
    app.config["MAX_CONTENT_LENGTH"] = 10
    page = client.post("/login", data={"email": "x" * 100})
    assert page.status_code == 413 and "too large" in page.get_data(as_text=True)


def test_create_user_cli_makes_the_first_admin(app: Flask, runner):
    result = runner.invoke(args=["lms", "create-user", "--email", "First@Example.org", "--name", "First Admin",
                                 "--organisation", "Northwind", "--country", "ie"],
                           input="a long first passphrase\na long first passphrase\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "first@example.org"))
    assert user.role is Role.ADMIN and user.organisation.country == "IE" and user.password_hash
    bad = runner.invoke(args=["lms", "create-user", "--email", "b@example.org", "--name", "B",
                              "--organisation", "Nowhere"], input="a long first passphrase\na long first passphrase\n")
    assert bad.exit_code != 0 and "Existing: Northwind" in bad.output


def test_demo_data_is_idempotent(app: Flask, runner):
    first = runner.invoke(args=["lms", "demo"])
    assert first.exit_code == 0 and "admin@northwind.example" in first.output
    count = db.session.scalar(select(db.func.count(User.id)))
    second = runner.invoke(args=["lms", "demo"])
    assert second.exit_code == 0
    assert db.session.scalar(select(db.func.count(User.id))) == count
    roles = {u.role for u in db.session.scalars(select(User))}
    assert roles == set(Role)
    scoped = db.session.scalar(select(User).where(User.email == "auditor@atlascare.example"))
    assert scoped.scope_organisation.name == "Atlas Customer Care"


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


@pytest.mark.parametrize(("host", "port", "address"), [
    (None, None, "http://127.0.0.1:5000"), ("127.0.0.1", "8080", "http://127.0.0.1:8080"),
    ("0.0.0.0", "5001", "http://127.0.0.1:5001"), ("lms.local", "80", "http://lms.local:80")])
def test_the_development_base_url_follows_host_and_port(monkeypatch, host, port, address):
    from lms.config import _development_address

    for name, value in (("HOST", host), ("PORT", port)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert _development_address() == address
