"""Signing in as each role in Chromium: navigation, errors, sign-out, 403."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from devtools.demo import DEMO_PASSWORD, ensure_demo_accounts
from lms.extensions import db
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

NAV = {
    "agent@northwind.example": {"Courses", "Job aids"},
    "trainer@northwind.example": {"Courses", "Job aids"},
    "auditor@northwind.example": {"Courses", "Job aids", "Audit log"},
    "admin@northwind.example": {"Courses", "Job aids", "Users", "Organisations", "Audit log", "Branding"},
    "admin@atlascare.example": {"Courses", "Job aids", "People", "Dashboard", "Audit log"},
}
ADMIN_ONLY = {"Users", "Organisations", "Branding"}


@pytest.fixture
def demo(app):
    ensure_demo_accounts()
    db.session.commit()


@pytest.mark.parametrize("email", NAV)
def test_each_role_sees_its_navigation(page, demo, email):
    sign_in(page, email, DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    links = {link.strip() for link in nav.get_by_role("link").all_inner_texts()}
    for menu in nav.locator("summary").all():  # staff pages sit in menus (#19): open each in turn
        menu.click()
        links |= {link.strip() for link in nav.get_by_role("link").all_inner_texts()}
        menu.click()
    assert NAV[email] <= links
    for missing in (ADMIN_ONLY | {"Audit log"}) - NAV[email]:
        assert missing not in links
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")


def test_wrong_password_shows_the_error(page, demo):
    sign_in(page, "agent@northwind.example", "not-my-password")
    expect(page.get_by_text("The e-mail address or password is not right")).to_be_visible()
    assert page.get_by_label("E-mail").input_value() == "agent@northwind.example"


def test_sign_out(page, demo):
    sign_in(page, "trainer@northwind.example", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_agent_typing_an_admin_url_gets_the_403_page(page, demo):
    sign_in(page, "agent@northwind.example", DEMO_PASSWORD)
    response = page.goto("/admin/users")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()


def test_keyboard_user_can_skip_to_content(page, demo):
    sign_in(page, "agent@northwind.example", DEMO_PASSWORD)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_admin_menus_open_and_follow_with_the_keyboard(page, demo):
    """The staff menus are <details>: Enter opens them, Tab reaches their links, Escape closes them,
    and the menu holding the current page marks its link."""
    sign_in(page, "admin@northwind.example", DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    sso = nav.get_by_role("link", name="Single sign-on")
    expect(sso).not_to_be_visible()
    settings = nav.locator("summary", has_text="Settings")
    settings.focus()
    page.keyboard.press("Enter")
    expect(sso).to_be_visible()
    expect(nav.get_by_role("link", name="Branding")).to_be_visible()
    page.keyboard.press("Tab")
    assert sso.evaluate("el => el === document.activeElement")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == "Single sign-on"
    nav.locator("summary", has_text="People").click()
    expect(nav.get_by_role("link", name="Organisations")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Organisations")).not_to_be_visible()
    assert nav.locator("summary", has_text="People").evaluate("el => el === document.activeElement")
    nav.locator("summary", has_text="Privacy").click()
    nav.get_by_role("link", name="Breaches").click()
    assert page.url.endswith("/admin/breaches")
    nav.locator("summary", has_text="Privacy").click()
    assert nav.locator('[aria-current="page"]').inner_text() == "Breaches"


def test_on_a_phone_the_header_folds_behind_one_menu_button(browser, live_server, demo):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, "trainer@northwind.example", DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    toggle = nav.get_by_role("button", name="Menu")
    courses = nav.get_by_role("link", name="Courses")
    assert toggle.get_attribute("aria-expanded") == "false"
    expect(courses).not_to_be_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    expect(courses).to_be_visible()
    nav.locator("summary", has_text="People").click()
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    context.close()
