"""Second factors in Chromium: passkeys through Chromium's virtual authenticator (DevTools
protocol WebAuthn domain) and an authenticator app's codes, as a person clicks through them."""
from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import LoginSession, Role
from lms.extensions import db
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def localhost_page(browser, live_server, app):
    """A page on http://localhost:<port>, with BASE_URL to match: WebAuthn needs a secure context
    and a domain for its RP ID (Chromium refuses an IP address such as 127.0.0.1), and localhost
    is both. A virtual platform authenticator with user verification stands in for a phone's."""
    base = live_server.replace("127.0.0.1", "localhost")
    app.config["BASE_URL"] = base
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.set_default_timeout(10_000)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    page.cdp = cdp
    page.authenticator_id = authenticator["authenticatorId"]
    yield page
    context.close()


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def _second_factor(user) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(LoginSession.second_factor).where(LoginSession.user_id == user.id)
                             .order_by(LoginSession.id.desc()))


def test_register_a_passkey_then_use_it_after_the_password_and_on_its_own(localhost_page, app):
    page = localhost_page
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    sign_in(page, trainer.email, factories.PASSWORD)
    page.goto("/account/security")
    page.get_by_role("link", name="Manage your authenticator app, passkeys and recovery codes").click()
    page.get_by_label("Name for a new passkey").fill("Office laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector("text=The passkey “Office laptop” is registered.")
    expect(page.get_by_role("cell", name="Office laptop", exact=True)).to_be_visible()
    credentials = page.cdp.send("WebAuthn.getCredentials", {"authenticatorId": page.authenticator_id})
    assert len(credentials["credentials"]) == 1 and credentials["credentials"][0]["isResidentCredential"]
    _sign_out(page)

    # The password, then the passkey as the second step.
    sign_in(page, trainer.email, factories.PASSWORD)
    assert page.url.endswith("/login/verify")
    with page.expect_navigation(url=re.compile(r"/$")):
        page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert _second_factor(trainer) == "passkey"
    _sign_out(page)

    # The passkey alone, from the sign-in page.
    page.goto("/login")
    with page.expect_navigation(url=re.compile(r"/$")):
        page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_text(trainer.name).first).to_be_visible()
    assert _second_factor(trainer) == "passkey"
    sign_counts = page.cdp.send("WebAuthn.getCredentials", {"authenticatorId": page.authenticator_id})
    assert sign_counts["credentials"][0]["signCount"] >= 3


def test_an_admin_on_a_site_requiring_mfa_enrols_an_app_before_the_admin_pages(page, app):
    app.config["MFA_REQUIRED_ROLES"] = "admin"
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    sign_in(page, admin.email, factories.PASSWORD)
    page.goto("/admin/users")
    assert page.url.endswith("/account/mfa")
    expect(page.get_by_text("Your role requires a second factor")).to_be_visible()
    page.get_by_role("link", name="Set up an authenticator app").click()
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert page.locator(".recovery-codes li").count() == 10
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
