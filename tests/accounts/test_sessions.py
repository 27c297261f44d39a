"""Sessions end on the server: idle and absolute lifetimes, remember-me tokens that expire
and rotate, the autosave keeping an answering agent signed in."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import select

from lms import clock
from lms.accounts.models import LoginSession, Role
from lms.audit.models import AuditEvent
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import agent, best_form, quiz, start  # noqa: F401 (fixtures)
from tests.conftest import csrf_token, login

START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def at(app):
    """Move the clock: at(minutes after START). The real clock comes back after the test."""
    def _at(minutes: float = 0, **delta) -> None:
        clock.set_now(START + timedelta(minutes=minutes, **delta))

    _at(0)
    yield _at
    clock.set_now(None)


def _signed_in(client) -> bool:
    response = client.get("/")
    return response.status_code == 200


def _session_row(user) -> LoginSession:
    db.session.expire_all()
    return db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)
                              .order_by(LoginSession.id.desc())).first()


@pytest.mark.parametrize("role, idle", [(Role.ADMIN, 30), (Role.TRAINER, 30), (Role.AUDITOR, 30), (Role.PARTNER_ADMIN, 30),
                                        (Role.AGENT, 12 * 60)])
def test_an_idle_session_ends_on_the_server(app: Flask, client, at, role, idle):
    person = factories.user(role)
    db.session.commit()
    login(client, person.email, factories.PASSWORD)
    at(idle - 1)
    assert _signed_in(client)
    idle_one = app.test_client()
    login(idle_one, person.email, factories.PASSWORD)
    at(2 * idle)  # nothing from either browser for a whole idle window
    for browser in (client, idle_one):
        response = browser.get("/")
        assert response.status_code == 302 and "/login" in response.location
    # The cookies still name the sessions, which nobody revoked: the database's expiry says no.
    assert _session_row(person).revoked_at is None


def test_activity_slides_the_idle_expiry(app: Flask, client, at):
    person = factories.user(Role.ADMIN)
    db.session.commit()
    login(client, person.email, factories.PASSWORD)
    for minutes in (25, 50, 75):  # each request inside the window moves it on
        at(minutes)
        assert _signed_in(client), minutes
    at(75 + 31)
    assert not _signed_in(client)


def test_using_the_app_writes_the_session_at_most_once_a_minute(app: Flask, client, at):
    person = factories.user(Role.ADMIN)
    db.session.commit()
    login(client, person.email, factories.PASSWORD)
    row = _session_row(person)
    assert row.last_seen_at == START and row.idle_expires_at == START + timedelta(minutes=30)
    at(0.5)
    assert _signed_in(client)
    assert _session_row(person).last_seen_at == START  # not yet due: no write
    at(5)
    assert _signed_in(client)
    row = _session_row(person)
    assert row.last_seen_at == START + timedelta(minutes=5)
    assert row.idle_expires_at == START + timedelta(minutes=35)


def test_an_active_session_still_ends_at_its_absolute_lifetime(app: Flask, client, at):
    person = factories.user(Role.ADMIN)
    db.session.commit()
    login(client, person.email, factories.PASSWORD)
    assert _session_row(person).expires_at == START + timedelta(hours=12)
    for minutes in range(20, 12 * 60, 20):  # busy all day
        at(minutes)
        assert _signed_in(client), minutes
    at(12 * 60 + 1)
    assert not _signed_in(client)


def test_lifetimes_are_configurable(app: Flask, client, at):
    app.config.update(SESSION_IDLE_MINUTES_AGENT=5, SESSION_LIFETIME_HOURS=1)
    person = factories.user(Role.AGENT)
    db.session.commit()
    login(client, person.email, factories.PASSWORD)
    row = _session_row(person)
    assert row.idle_expires_at == START + timedelta(minutes=5) and row.expires_at == START + timedelta(hours=1)
    at(6)
    assert not _signed_in(client)


def _remember_cookie(client) -> str:
    return client.get_cookie("remember_token").value


def test_a_remember_cookie_older_than_its_lifetime_is_refused(app: Flask, client, at):
    # Idle for a long time is allowed here, to show the absolute limit on its own.
    app.config["SESSION_IDLE_MINUTES_AGENT"] = 60 * 24 * 60
    person = factories.user(Role.AGENT)
    db.session.commit()
    login(client, person.email, factories.PASSWORD, remember=True)
    assert _session_row(person).expires_at == START + timedelta(days=30)
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    cookie = _remember_cookie(client)
    at(days=30, minutes=1)
    browser = app.test_client()
    browser.set_cookie("remember_token", cookie)
    response = browser.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_a_remember_cookie_rotates_on_use_and_the_old_one_is_refused(app: Flask, client, at):
    person = factories.user(Role.AGENT)
    db.session.commit()
    login(client, person.email, factories.PASSWORD, remember=True)
    old_cookie = _remember_cookie(client)
    old_hash = _session_row(person).token_hash
    at(60)  # the browser was closed: only the remember-me cookie is left
    browser = app.test_client()
    browser.set_cookie("remember_token", old_cookie)
    revived = browser.get("/")
    assert revived.status_code == 200
    new_cookie = _remember_cookie(browser)
    assert new_cookie != old_cookie
    row = _session_row(person)
    assert row.token_hash != old_hash and row.revoked_at is None  # the same session, a new token
    # The new cookie keeps working, in this browser and alone.
    assert browser.get("/").status_code == 200
    fresh = app.test_client()
    fresh.set_cookie("remember_token", new_cookie)
    assert fresh.get("/").status_code == 200
    # The copied old cookie is worth nothing now.
    replay = app.test_client()
    replay.set_cookie("remember_token", old_cookie)
    response = replay.get("/")
    assert response.status_code == 302 and "/login" in response.location
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "auth.session_revived")).all()


def test_a_session_without_remember_me_cannot_be_revived_by_cookie(app: Flask, client):
    """A remember cookie is only ever issued for remember-me sessions; the server checks it too."""
    person = factories.user(Role.AGENT)
    db.session.commit()
    login(client, person.email, factories.PASSWORD, remember=True)
    cookie = _remember_cookie(client)
    row = _session_row(person)
    row.remember = False
    db.session.commit()
    browser = app.test_client()
    browser.set_cookie("remember_token", cookie)
    assert browser.get("/").status_code == 302


def test_signing_out_kills_the_remember_token_with_the_session(app: Flask, client):
    person = factories.user(Role.AGENT)
    db.session.commit()
    login(client, person.email, factories.PASSWORD, remember=True)
    cookie = _remember_cookie(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    browser = app.test_client()
    browser.set_cookie("remember_token", cookie)
    assert browser.get("/").status_code == 302


def _autosave(client, attempt, position: int, form: dict, token: str):
    return client.post(f"/attempts/{attempt.id}/answers/{position}", data={**form, "csrf_token": token},
                       headers={"Accept": "application/json"})


def test_answering_keeps_the_agent_signed_in_and_an_expired_session_gets_a_401(
        app: Flask, client, at, quiz, agent):  # noqa: F811 (fixtures)
    from lms.assessment import services

    app.config["SESSION_IDLE_MINUTES_AGENT"] = 10
    login(client, agent.email, factories.PASSWORD)
    attempt = start(agent, quiz)
    token = csrf_token(client, f"/attempts/{attempt.id}/questions/2")
    item, shown = services.item_at(attempt, 2)
    at(8)
    assert _autosave(client, attempt, 2, best_form(item, shown), token).status_code == 200
    assert _session_row(agent).idle_expires_at == START + timedelta(minutes=18)
    at(8.5)  # within the minute: the autosave does not write the session again
    assert _autosave(client, attempt, 2, best_form(item, shown), token).status_code == 200
    assert _session_row(agent).last_seen_at == START + timedelta(minutes=8)
    at(16)  # past the first idle expiry: only the autosaves kept the session alive
    assert _autosave(client, attempt, 2, best_form(item, shown), token).status_code == 200
    assert _signed_in(client)
    at(16 + 11)
    expired = _autosave(client, attempt, 2, best_form(item, shown), token)
    assert expired.status_code == 401 and "Sign in again" in expired.get_json()["error"]
