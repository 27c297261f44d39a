"""Only BASE_URL's host is answered in production, and a refused Host still gets a proper page."""
from __future__ import annotations

import pytest

from lms import create_app
from lms.config import ConfigError
from lms.extensions import db
from tests.conftest import QUIET_AUDIT

SECRET = "s" * 48


def _production(**config):
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "BASE_URL": "https://academy.example.com", **QUIET_AUDIT, **config}, profile="production")
    with app.app_context():
        db.create_all()
    return app


@pytest.mark.parametrize("base_url", ["", "academy.example.com", "ftp://academy.example.com",
                                      "https://", "https://academy.example.com/?x=1"])
def test_production_refuses_to_start_without_a_usable_base_url(base_url):
    with pytest.raises(ConfigError, match="BASE_URL"):
        create_app({"SECRET_KEY": SECRET, "BASE_URL": base_url}, profile="production")


def test_production_trusts_base_url_host_and_the_extra_list():
    app = _production(EXTRA_TRUSTED_HOSTS="internal.example, health.local")
    assert app.config["TRUSTED_HOSTS"] == ["academy.example.com", "internal.example", "health.local"]
    client = app.test_client()
    assert client.get("/login", headers={"Host": "academy.example.com"}).status_code == 200
    assert client.get("/login", headers={"Host": "health.local:8000"}).status_code == 200


def test_production_answers_another_host_with_400_and_the_usual_headers():
    client = _production().test_client()
    for host in ("evil.example", "academy.example.com.evil.example", "a" * 300):
        page = client.get("/login", headers={"Host": host})
        assert page.status_code == 400, host
        assert "Something in that request was not right" in page.get_data(as_text=True)
        assert "evil" not in page.get_data(as_text=True)  # the page names no host of the request's
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_a_forged_forwarded_host_behind_a_proxy_is_refused():
    client = _production(PROXY_COUNT=1).test_client()
    forged = client.get("/login", headers={"Host": "academy.example.com", "X-Forwarded-Host": "evil.example"})
    honest = client.get("/login", headers={"Host": "10.0.0.5", "X-Forwarded-Host": "academy.example.com"})
    assert (forged.status_code, honest.status_code) == (400, 200)


def test_an_overlong_host_is_a_400_with_headers_in_every_profile(client):
    page = client.get("/login", headers={"Host": "a" * 300})
    assert page.status_code == 400
    assert "Content-Security-Policy" in page.headers
    assert "Something in that request was not right" in page.get_data(as_text=True)
