"""The session cookie keeps Flask's checks with its signing objects kept per process
(lms/session_cookie.py): a rotated secret still opens old cookies, a retired or unknown one and
a tampered cookie do not."""
from __future__ import annotations

from flask import Flask

from lms.accounts.models import Role
from lms.extensions import db
from tests import factories
from tests.factories import PASSWORD
from tests.conftest import login


def _signed_in_cookie(app: Flask) -> str:
    client = app.test_client()
    agent = factories.user(Role.AGENT)
    db.session.commit()
    assert login(client, agent.email, PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    return client.get_cookie("session").value


def _home_with(app: Flask, cookie: str) -> int:
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get("/").status_code  # 200 signed in; 302 to the sign-in page otherwise


def test_a_cookie_signed_with_a_rotated_secret_still_opens_and_a_tampered_one_does_not(app: Flask):
    cookie = _signed_in_cookie(app)
    assert _home_with(app, cookie) == 200
    payload, timestamp, signature = cookie.rsplit(".", 2)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert _home_with(app, f"{payload}.{timestamp}.{flipped}") == 302

    old_secret = app.secret_key
    app.config["SECRET_KEY"] = "a-new-secret-" + "x" * 40
    assert _home_with(app, cookie) == 302  # the old secret is no longer known
    app.config["SECRET_KEY_FALLBACKS"] = [old_secret]
    assert _home_with(app, cookie) == 200  # rotation: the old secret is a fallback
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert _home_with(app, cookie) == 302
