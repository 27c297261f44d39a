"""Single sign-on in Chromium against a real OpenID Provider (tests/sso/provider): home-realm
discovery, the provider's own login and consent pages, just-in-time accounts with role mapping,
a tampered or expired id_token and a wrong state refused, the periodic re-check, and logout at
the IdP."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.sso import services
from lms.sso.models import SsoConnection, SsoIdentity
from tests import factories


def _connect(provider, **overrides):
    org = factories.organisation("Atlas Customer Care", country="MA")
    admin = factories.user(Role.ADMIN, org, email="admin@atlas-admin.example")
    values = dict(organisation_id=org.id, issuer=provider.issuer, client_id=provider.client_id,
                  client_secret=provider.client_secret, scopes="openid email profile groups", email_claim="email",
                  role_claim="groups", trainer_values="atlas-trainers", domains="atlascare.example",
                  jit_provisioning=True, link_by_email=False, passwords_forbidden=False, idp_mfa_accepted=False,
                  mfa_acr_values="", enabled=True)
    values.update(overrides)
    connection = services.save_connection(admin, services.ConnectionData(**values))
    db.session.commit()
    return org, connection


def _sign_in_at_idp(page, email: str, login: str) -> None:
    """Our sign-in page with the e-mail only, then the provider's login and consent pages."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/interaction/"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password: the demo IdP does not check it")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the consent page


def test_discovery_jit_role_mapping_and_logout_at_the_idp(app: Flask, provider, sso_page, tmp_path):
    org, connection = _connect(provider)
    page = sso_page
    page.goto("/login")
    page.screenshot(path=str(tmp_path / "login.png"), full_page=True)
    _sign_in_at_idp(page, "Omar@AtlasCare.example", "omar")
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    omar = db.session.scalar(select(User).where(User.email == "omar@atlascare.example"))
    assert (omar.organisation_id, omar.role, omar.name) == (org.id, Role.TRAINER, "Omar Idrissi")
    link = db.session.scalars(select(SsoIdentity).where(SsoIdentity.user_id == omar.id)).one()
    assert (link.issuer, link.subject) == (provider.issuer, "omar")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sso.provisioned")) is not None

    # Single logout: our session ends, then the IdP asks and ends its own.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_text("You are signed out, here and at your organisation's sign-in.")).to_be_visible()
    # The IdP's session is gone too: signing in again asks for the login, not just consent.
    page.get_by_label("E-mail").fill("omar@atlascare.example")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/interaction/"))
    expect(page.locator("input[name=login]")).to_be_visible()


def test_an_agent_without_the_trainer_group_is_an_agent(app: Flask, provider, sso_page):
    org, _ = _connect(provider)
    _sign_in_at_idp(sso_page, "nadia@atlascare.example", "nadia")
    sso_page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    nadia = db.session.scalar(select(User).where(User.email == "nadia@atlascare.example"))
    assert (nadia.organisation_id, nadia.role) == (org.id, Role.AGENT)


def test_a_tampered_id_token_is_refused(app: Flask, provider, sso_page, tmp_path):
    _connect(provider)
    provider.set_mode(id_token="tamper")
    _sign_in_at_idp(sso_page, "nadia@atlascare.example", "nadia")
    heading = sso_page.get_by_role("heading", name="Sign-in not completed")
    heading.wait_for()
    assert "did not verify" in sso_page.get_by_role("alert").inner_text()
    sso_page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email.like("%atlascare.example"))) is None
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.login_refused")).one()
    assert refused.data["reason"] == "id_token: BadSignatureError"


def test_an_expired_id_token_is_refused(app: Flask, provider, sso_page):
    _connect(provider)
    provider.set_mode(id_token="expire")
    _sign_in_at_idp(sso_page, "nadia@atlascare.example", "nadia")
    sso_page.get_by_role("heading", name="Sign-in not completed").wait_for()
    assert db.session.scalar(select(User).where(User.email == "nadia@atlascare.example")) is None
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.login_refused")).one()
    assert refused.data["reason"] == "id_token: ExpiredTokenError"


def test_a_wrong_state_is_refused(app: Flask, provider, sso_page):
    _connect(provider)
    page = sso_page
    answers: list[str] = []

    def hold_the_answer(route):
        """The consent's POST, followed by hand up to the IdP's redirect to our callback (Playwright
        routes only the first request of a redirect chain); the browser gets a blank page."""
        if route.request.method != "POST" or "prompt=consent" not in (route.request.post_data or ""):
            return route.continue_()
        location = route.fetch(max_redirects=0).headers["location"]
        resumed = page.request.get(urljoin(route.request.url, location), max_redirects=0)
        answers.append(urljoin(route.request.url, resumed.headers["location"]))
        route.fulfill(status=200, content_type="text/plain", body="held")

    page.route(re.compile(r"/interaction/[^/?]+$"), hold_the_answer)
    _sign_in_at_idp(page, "nadia@atlascare.example", "nadia")
    page.get_by_text("held").wait_for()
    parts = urlsplit(answers[0])
    query = dict(parse_qsl(parts.query))
    assert parts.path == "/sso/callback" and query["code"] and query["state"]
    # Delivered with another state, as a forged or replayed link would be.
    query["state"] = "not-the-state-we-sent"
    response = page.goto(urlunsplit(parts._replace(query=urlencode(query))))
    assert response.status == 400
    assert "could not be completed" in page.get_by_role("alert").inner_text()
    assert db.session.scalar(select(User).where(User.email == "nadia@atlascare.example")) is None


def test_the_recheck_ends_the_session_when_the_idp_no_longer_vouches(app: Flask, provider, sso_page):
    _connect(provider)
    page = sso_page
    _sign_in_at_idp(page, "nadia@atlascare.example", "nadia")
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    app.config["SSO_RECHECK_MINUTES"] = 0.02  # 1.2 seconds
    time.sleep(1.5)
    page.goto("/account/security")  # a silent round trip to the IdP, and on to the page
    expect(page.get_by_role("heading", name="Your account").first).to_be_visible()
    assert urlsplit(page.url).path == "/account/security"
    provider.set_mode(disable="nadia")  # deactivated at the IdP
    time.sleep(1.5)
    page.goto("/account/security")
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_text("Your organisation's sign-in needs you to sign in again.")).to_be_visible()
    assert page.get_by_role("button", name="Sign out").count() == 0


def test_an_admin_connects_an_organisation_in_the_browser(app: Flask, provider, sso_page, tmp_path):
    from tests.browser.conftest import sign_in

    org = factories.organisation("Atlas Customer Care", country="MA")
    admin = factories.user(Role.ADMIN, factories.organisation("Northwind Utilities"), email="admin@northwind.example")
    db.session.commit()
    page = sso_page
    sign_in(page, admin.email, factories.PASSWORD)
    page.locator("summary", has_text="Settings").click()  # the header's menu (#19)
    page.get_by_role("link", name="Single sign-on").click()
    expect(page.get_by_text("No organisation signs in through its own identity provider yet")).to_be_visible()
    page.get_by_role("button", name="Add a connection").click()
    page.get_by_label("Organisation", exact=True).select_option(label="Atlas Customer Care")
    page.get_by_label("Issuer URL").fill(provider.issuer + "/")
    page.locator("#client_id").fill(provider.client_id)
    page.locator("#client_secret").fill(provider.client_secret)
    page.get_by_label("E-mail domains").fill("atlascare.example")
    page.get_by_label("Create accounts at first sign-in (just-in-time)").check()
    page.screenshot(path=str(tmp_path / "connection-form.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The sign-in for Atlas Customer Care is saved.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Atlas Customer Care"))
    assert "Created at first sign-in" in row.inner_text() and "atlascare.example" in row.inner_text()
    page.screenshot(path=str(tmp_path / "connection-list.png"), full_page=True)
    page.get_by_role("link", name="Atlas Customer Care").click()
    assert page.locator("#client_secret").input_value() == ""  # write-only
    assert provider.client_secret not in page.content()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "connection-form-phone.png"), full_page=True)
    page.get_by_role("button", name="Remove this connection…").click()
    page.get_by_role("button", name="Remove the connection").click()
    expect(page.get_by_text("The sign-in for Atlas Customer Care is removed.")).to_be_visible()
    assert db.session.scalar(select(SsoConnection)) is None


def test_people_who_need_a_second_factor_pass_the_apps_own_after_the_idp(app: Flask, provider, sso_page):
    _connect(provider)  # the IdP's second factor is not accepted (and the demo IdP sends no amr)
    app.config["MFA_REQUIRED_ROLES"] = "agent"
    _sign_in_at_idp(sso_page, "nadia@atlascare.example", "nadia")
    sso_page.wait_for_url(re.compile(r"/account/mfa"))
    sso_page.goto("/courses")  # nothing else until a factor is enrolled and passed
    assert urlsplit(sso_page.url).path == "/account/mfa"
