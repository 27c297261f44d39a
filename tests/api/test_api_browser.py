"""API keys in Chromium: an admin finds *API keys* in the navigation, creates a key from the
keyboard, copies it from the page that shows it once, and the key works; revoking asks first.
On a phone the keys table scrolls in its own region."""
from __future__ import annotations

import os
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.api.conftest import bearer
from tests.browser.conftest import live_server, page, sign_in  # noqa: F401 (fixtures; browser is tests/conftest.py's)
from tests import factories

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LMS_SCREENSHOTS")


def test_an_admin_creates_uses_and_revokes_a_key(app, world, page, live_server):
    sign_in(page, world["admin"].email, factories.PASSWORD)
    page.locator("summary", has_text="Settings").click()  # the header's menu (#19)
    page.get_by_role("link", name="API keys", exact=True).click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="Workforce management", exact=True)).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/api-keys.png", full_page=True)
    page.get_by_role("button", name="Create a key").click()  # a link styled as a button (role="button")
    page.get_by_label("Name of the integration").fill("Telephony")
    page.get_by_label("Organisations it may see").select_option(label="Atlas")
    page.get_by_role("checkbox", name="awards:read").check()
    page.get_by_role("button", name="Create the key").press("Enter")  # from the keyboard
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/api-key-created.png", full_page=True)
    token = page.get_by_label("API key").input_value()
    agent_id = world["atlas_agent"].id
    request = urllib.request.Request(f"{live_server}/api/v1/agents/{agent_id}/clearance", headers=bearer(token))
    with urllib.request.urlopen(request) as reply:
        assert b'"cleared":true' in reply.read().replace(b" ", b"")

    page.get_by_role("link", name="Back to the keys").click()
    page.get_by_role("link", name="Revoke Telephony").click()
    expect(page.get_by_role("heading", name="Revoke the key for Telephony?")).to_be_visible()
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_text("are refused from now on")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/admin/api-keys/")
    region = page.locator(".overflow-auto").first
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/api-keys-phone.png", full_page=True)
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls inside its region
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the page does not
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.get_by_role("heading", name="CallSafe Academy clearance API")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/api-docs-phone.png", full_page=True)
