"""The CSRF token in forms and on the sign-out button is signed once a minute per session
(lms/csrf_tokens.py), and Flask-WTF's own check still decides what passes."""
from __future__ import annotations

import re
import time

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from lms.extensions import db
from tests import factories

MINUTE = 1_800_000_000 - 1_800_000_000 % 60  # the start of a minute (January 2027)


@pytest.fixture
def clock(monkeypatch):
    """time.time(), as the token's signing and Flask-WTF's check read it, set by the test."""
    moment = [MINUTE + 5.0]
    monkeypatch.setattr(time, "time", lambda: moment[0])
    return moment


def _tokens(client: FlaskClient, path: str) -> list[str]:
    html = client.get(path).get_data(as_text=True)
    return re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)


def test_a_token_is_signed_once_a_minute_and_passes_flask_wtfs_check(app: Flask, client: FlaskClient, clock):
    agent = factories.user(email="csrf@example.org")
    db.session.commit()
    first = _tokens(client, "/login")[0]  # the session's secret is made and signed here
    clock[0] = MINUTE + 20
    kept = _tokens(client, "/login")[0]
    clock[0] = MINUTE + 50
    assert _tokens(client, "/login")[0] == kept  # the same minute: not signed again
    clock[0] = MINUTE + 65
    fresh = _tokens(client, "/login")[0]
    assert len({first, kept, fresh}) == 3  # each signed when its minute's first page asked

    # The form takes the token of an earlier minute, as it took Flask-WTF's.
    response = client.post("/login", data={"email": agent.email, "password": factories.PASSWORD, "csrf_token": kept})
    assert response.status_code == 302

    # A signed-in page: the sign-out button and a FlaskForm carry the same token, and it signs out.
    clock[0] = MINUTE + 70
    page_tokens = set(_tokens(client, "/account"))
    assert len(page_tokens) == 1
    response = client.post("/logout", data={"csrf_token": page_tokens.pop()})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_age_limit_counts_from_the_signing(app: Flask, client: FlaskClient, clock):
    _tokens(client, "/login")
    clock[0] = MINUTE + 10
    token = _tokens(client, "/login")[0]  # signed at MINUTE + 10
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    with app.test_request_context():
        with client.session_transaction() as stored:
            secret = stored["csrf_token"]
        session["csrf_token"] = secret
        clock[0] = MINUTE + 10 + limit - 1
        validate_csrf(token)  # raises if refused
        clock[0] = MINUTE + 10 + limit + 1
        with pytest.raises(ValidationError, match="expired"):
            validate_csrf(token)


def test_a_new_secret_key_signs_anew(app: Flask, client: FlaskClient, clock):
    _tokens(client, "/login")
    clock[0] = MINUTE + 10
    before = _tokens(client, "/login")[0]
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = app.config["SECRET_KEY"] = "another-secret-key-of-fifty-characters-0123456789"
    after = _tokens(client, "/login")
    assert after and after[0] != before
    factories.user(email="rotated@example.org")
    db.session.commit()
    response = client.post("/login", data={"email": "rotated@example.org", "password": factories.PASSWORD,
                                           "csrf_token": after[0]})
    assert response.status_code == 302
