"""People change their own password and see and end their own sessions."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.models import LoginSession, Role
from lms.accounts.services import describe_user_agent
from lms.audit.models import AuditEvent
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")
NEW_PASSWORD = "lantern meadow copper 58"


def _browser(app: Flask, user, agent_string: str):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent_string
    assert login(client, user.email, factories.PASSWORD).status_code == 302
    return client


def _text(response) -> str:
    """What a person reads: the page without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def _live(user) -> list[LoginSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id,
                                                              LoginSession.revoked_at.is_(None))))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reaches_its_account_page_from_the_header(app: Flask, role):
    person = factories.user(role)
    db.session.commit()
    client = _browser(app, person, FIREFOX)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/account/security"' in home
    page = _text(client.get("/account/security"))
    assert "Change your password" in page and "Firefox on Windows (this device)" in page


def test_the_sessions_list_marks_this_device_and_signs_one_other_out(app: Flask):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    laptop = _browser(app, agent, FIREFOX)
    phone = _browser(app, agent, IPHONE)
    page = _text(laptop.get("/account/security"))
    assert "Firefox on Windows (this device)" in page and "Safari on iPhone" in page
    assert "Safari on iPhone (this device)" not in page
    phone_row = next(s for s in _live(agent) if "iPhone" in s.user_agent)
    ended = laptop.post(f"/account/sessions/{phone_row.id}/end",
                        data={"csrf_token": csrf_token(laptop, "/account/security")})
    assert ended.status_code == 302
    assert phone.get("/").status_code == 302  # the phone is signed out
    assert laptop.get("/").status_code == 200
    assert "auth.session_ended" in _actions()


def test_nobody_ends_another_persons_session(app: Flask):
    agent = factories.user(Role.AGENT)
    other = factories.user(Role.AGENT)
    db.session.commit()
    mine = _browser(app, agent, FIREFOX)
    theirs = _browser(app, other, IPHONE)
    their_row = _live(other)[0]
    mine.post(f"/account/sessions/{their_row.id}/end", data={"csrf_token": csrf_token(mine, "/account/security")})
    assert theirs.get("/").status_code == 200
    assert _live(other)[0].revoked_at is None


def test_sign_out_everywhere_else_asks_first_then_keeps_this_session(app: Flask):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    laptop = _browser(app, agent, FIREFOX)
    phone = _browser(app, agent, IPHONE)
    tablet = _browser(app, agent, IPHONE)
    confirm = laptop.get("/account/sessions/end-others")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Sign out everywhere else?" in html and "2 other devices" in _text(confirm)
    assert len(_live(agent)) == 3  # nothing changes on GET
    done = laptop.post("/account/sessions/end-others",
                       data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)})
    assert done.status_code == 302
    assert phone.get("/").status_code == 302 and tablet.get("/").status_code == 302
    assert laptop.get("/").status_code == 200 and len(_live(agent)) == 1
    assert "auth.sessions_ended_elsewhere" in _actions()


def test_changing_ones_password_needs_the_current_one_and_ends_the_other_sessions(app: Flask):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    laptop = _browser(app, agent, FIREFOX)
    phone = _browser(app, agent, IPHONE)
    wrong = laptop.post("/account/password", data={
        "current_password": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(laptop, "/account/security")})
    assert wrong.status_code == 200 and "That is not your current password." in wrong.get_data(as_text=True)
    assert phone.get("/").status_code == 200
    assert "auth.password_change_failed" in _actions()
    weak = laptop.post("/account/password", data={
        "current_password": factories.PASSWORD, "password": "password1", "confirm": "password1",
        "csrf_token": csrf_token(laptop, "/account/security")})
    assert "most common" in weak.get_data(as_text=True)
    done = laptop.post("/account/password", data={
        "current_password": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(laptop, "/account/security")})
    assert done.status_code == 302
    assert laptop.get("/").status_code == 200  # this session stays
    assert phone.get("/").status_code == 302  # every other one ends
    assert login(app.test_client(), agent.email, NEW_PASSWORD).status_code == 302
    assert "auth.password_changed" in _actions()


@pytest.mark.parametrize("header, shown", [
    (FIREFOX, "Firefox on Windows"),
    (IPHONE, "Safari on iPhone"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on macOS"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
     "Chrome on Android"),
    ("", "Unknown browser"),
])
def test_browsers_get_a_short_readable_name(header, shown):
    assert describe_user_agent(header) == shown
