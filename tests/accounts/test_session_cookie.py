"""The session cookie keeps Flask's checks with its signing objects kept per process and each
cookie read once (lms/session_cookie.py): a rotated secret still opens old cookies, a retired or
unknown one, a tampered cookie and an expired one do not, and no request changes what the next
one reads."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, request

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
    # The first character, not the last: the last one's low bits are base64 padding, so "A" and "B"
    # there decode to the same signature (this failed once in sixteen runs).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _home_with(app, f"{payload}.{timestamp}.{flipped}") == 302

    old_secret = app.secret_key
    app.config["SECRET_KEY"] = "a-new-secret-" + "x" * 40
    assert _home_with(app, cookie) == 302  # the old secret is no longer known
    app.config["SECRET_KEY_FALLBACKS"] = [old_secret]
    assert _home_with(app, cookie) == 200  # rotation: the old secret is a fallback
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert _home_with(app, cookie) == 302


def test_a_cookie_read_before_still_expires(app: Flask, monkeypatch):
    cookie = _signed_in_cookie(app)
    assert _home_with(app, cookie) == 200  # read, and kept
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=1)
    signed = time.time()
    monkeypatch.setattr(time, "time", lambda: signed + 3600 - 5)
    assert _home_with(app, cookie) == 200
    monkeypatch.setattr(time, "time", lambda: signed + 3600 + 5)
    assert _home_with(app, cookie) == 302  # past its lifetime: a new, empty session
    monkeypatch.setattr(time, "time", lambda: signed - 60)
    assert _home_with(app, cookie) == 302  # signed in the future, as itsdangerous refuses it


def test_what_a_request_changes_in_its_session_is_not_what_the_next_one_reads(app: Flask):
    interface = app.session_interface
    cookie = interface.get_signing_serializer(app).dumps(
        {"_flashes": [("info", "Saved.")], "note": {"seen": ["a"]}, "csrf_token": "abc"})

    def opened():
        with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
            return interface.open_session(app, request)

    first = opened()
    first["_flashes"].append(("info", "Added by the first request."))
    first["note"]["seen"].append("b")
    first["csrf_token"] = "changed"
    second = opened()
    assert dict(second) == {"_flashes": [("info", "Saved.")], "note": {"seen": ["a"]}, "csrf_token": "abc"}
