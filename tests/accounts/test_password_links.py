"""One-time links leave no usable token behind, self-service reset by e-mail against a real
SMTP server, and failed sign-ins that never log what could be a password."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import select

from lms import clock
from lms.accounts import services
from lms.accounts.models import LoginSession, Role, SetPasswordToken, User
from lms.accounts.passwords import verify_password
from lms.audit.models import AuditEvent
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login
from tests.reminders.conftest import smtp  # noqa: F401 (fixture: a real SMTP server)

START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
BASE = "https://academy.example.test"
NEW_PASSWORD = "harbour kettle violet 17"


@pytest.fixture
def at(app):
    def _at(minutes: float = 0) -> None:
        clock.set_now(START + timedelta(minutes=minutes))

    _at(0)
    yield _at
    clock.set_now(None)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


# ---- the set-password link: traded on first GET -------------------------------------------

def test_the_first_get_trades_the_token_for_server_side_state_and_a_clean_address(app: Flask, client, at):
    agent = factories.user(Role.AGENT, password=None)
    db.session.commit()
    token = services.issue_password_link(None, agent, 72)
    db.session.commit()
    opened = client.get(f"/set-password/{token}")
    assert opened.status_code == 302 and opened.location == "/set-password" and token not in opened.location
    page = client.get("/set-password")
    assert page.status_code == 200 and agent.email in page.get_data(as_text=True)
    # The token is spent as a credential: the same link, from this browser or any other, is refused.
    assert client.get(f"/set-password/{token}").status_code == 404
    stranger = app.test_client()
    assert stranger.get(f"/set-password/{token}").status_code == 404
    assert stranger.get("/set-password").status_code == 404
    # The form at the clean address works, and the session state is checked by the server.
    form_token = csrf_token(client, "/set-password")
    done = client.post("/set-password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                              "csrf_token": form_token})
    assert done.status_code == 302 and done.location == "/login"
    db.session.expire_all()
    assert verify_password(db.session.get(User, agent.id).password_hash, NEW_PASSWORD)


def test_an_opened_link_gives_a_short_while_to_finish(app: Flask, client, at):
    agent = factories.user(Role.AGENT, password=None)
    db.session.commit()
    token = services.issue_password_link(None, agent, 72)
    db.session.commit()
    client.get(f"/set-password/{token}")
    form_token = csrf_token(client, "/set-password")
    at(16)
    late = client.post("/set-password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                              "csrf_token": form_token})
    assert late.status_code == 404 and "no longer valid" in late.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, agent.id).password_hash is None


def test_admin_links_are_built_from_base_url_not_the_request(app: Flask, client, login_as):
    app.config["BASE_URL"] = BASE
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(admin)
    token = csrf_token(client, f"/admin/users/{agent.id}")
    # The request comes to "localhost": the link must not.
    page = client.post(f"/admin/users/{agent.id}/password-link", data={"csrf_token": token}).get_data(as_text=True)
    assert re.search(rf'value="{re.escape(BASE)}/set-password/[\w-]+"', page)
    assert "localhost" not in page


# ---- failed sign-ins ----------------------------------------------------------------------

@pytest.mark.parametrize("typed, logged", [
    ("  Someone.Else@Example.COM ", "someone.else@example.com"),
    ("correct horse battery staple", services.NOT_AN_EMAIL),
    ("hunter2@", services.NOT_AN_EMAIL),
])
def test_a_failed_sign_in_logs_only_a_valid_address_or_a_marker(app: Flask, client, typed, logged):
    factories.user(Role.AGENT)
    db.session.commit()
    login(client, typed, "whatever was typed")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).one()
    assert event.actor_label == logged
    assert "horse" not in str(event.__dict__) and "hunter2" not in str(event.__dict__)


# ---- self-service reset ---------------------------------------------------------------------

def _ask(client, email: str, **kwargs):
    return client.post("/forgot-password", data={"email": email, "csrf_token": csrf_token(client, "/forgot-password")},
                       **kwargs)


def test_the_sign_in_page_offers_a_reset(app: Flask, client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in page and "Forgot your password?" in page


def test_password_reset_by_e_mail_end_to_end(app: Flask, client, smtp):  # noqa: F811 (fixture)
    app.config["BASE_URL"] = BASE
    agent = factories.user(Role.AGENT, email="nadia@atlas.example")
    db.session.commit()
    elsewhere = app.test_client()
    login(elsewhere, agent.email, factories.PASSWORD, remember=True)
    remember = elsewhere.get_cookie("remember_token").value

    reply = _ask(client, "Nadia@Atlas.example")  # a request to "localhost"
    assert reply.status_code == 200 and "Check your e-mail" in reply.get_data(as_text=True)
    [message] = smtp.to(agent.email)
    body = message.get_content()
    link = re.search(r"https://\S+", body).group(0)
    assert link.startswith(f"{BASE}/reset-password/") and "localhost" not in body
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalars(select(SetPasswordToken).where(SetPasswordToken.user_id == agent.id)).one()
    assert stored.token_hash != token and token not in stored.token_hash and len(token) >= 40

    opened = client.get(link.removeprefix(BASE))
    assert opened.status_code == 302 and opened.location == "/set-password"
    form = client.get("/set-password")
    assert "Choose a new password" in form.get_data(as_text=True)
    done = client.post("/set-password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                              "csrf_token": csrf_token(client, "/set-password")})
    assert done.status_code == 302

    # Every other session ended, remember-me cookie included; the link is spent; the new password works.
    assert elsewhere.get("/").status_code == 302
    revived = app.test_client()
    revived.set_cookie("remember_token", remember)
    assert revived.get("/").status_code == 302
    assert db.session.scalars(select(LoginSession).where(LoginSession.user_id == agent.id,
                                                         LoginSession.revoked_at.is_(None))).all() == []
    assert app.test_client().get(link.removeprefix(BASE)).status_code == 404
    assert login(app.test_client(), agent.email, factories.PASSWORD).status_code == 200  # old one refused
    assert login(app.test_client(), agent.email, NEW_PASSWORD).status_code == 302
    actions = _actions()
    assert "auth.password_reset_requested" in actions and "user.password_reset" in actions
    assert not any(token in str(e.__dict__) for e in db.session.scalars(select(AuditEvent)))


def test_the_reply_is_the_same_whether_or_not_the_address_has_an_account(app: Flask, client, smtp):  # noqa: F811
    factories.user(Role.AGENT, email="known@atlas.example")
    inactive = factories.user(Role.AGENT, email="gone@atlas.example")
    inactive.active = False
    db.session.commit()
    replies = {}
    for email in ("known@atlas.example", "nobody@atlas.example", "gone@atlas.example"):
        response = _ask(app.test_client(), email)
        html = response.get_data(as_text=True)
        replies[email] = (response.status_code, re.sub(r'name="csrf_token"[^>]*', "", html.replace(email, "EMAIL")))
    assert len(set(replies.values())) == 1
    assert [m["To"] for m in smtp.messages] == ["known@atlas.example"]


def test_a_reset_link_is_short_lived(app: Flask, client, smtp, at):  # noqa: F811
    factories.user(Role.AGENT, email="nadia@atlas.example")
    db.session.commit()
    _ask(client, "nadia@atlas.example")
    link = re.search(r"http\S+", smtp.messages[0].get_content()).group(0)
    path = "/reset-password/" + link.rsplit("/", 1)[1]
    at(31)
    assert client.get(path).status_code == 404


def test_reset_requests_are_throttled_per_account_and_per_address(app: Flask, smtp):  # noqa: F811
    factories.user(Role.AGENT, email="nadia@atlas.example")
    db.session.commit()
    statuses = [_ask(app.test_client(), "nadia@atlas.example").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(smtp.messages) == 3
    # Per address: ten an hour, whatever e-mail is typed.
    statuses = [_ask(app.test_client(), f"someone{n}@atlas.example").status_code for n in range(8)]
    assert statuses[-2:] == [200, 429]  # 3 + 7 = 10 allowed, the eleventh refused
