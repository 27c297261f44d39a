"""The Atlas partner admin manages Atlas's people and nobody else's, in Chromium (#15)."""
from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import User
from devtools.demo import DEMO_PASSWORD, ensure_demo_accounts
from lms.extensions import db
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LMS_SCREENSHOTS")  # a folder to keep the screenshots in, when looking at the pages


@pytest.fixture
def demo(app):
    ensure_demo_accounts()
    db.session.commit()


def test_atlas_partner_admin_adds_an_agent_and_cannot_reach_another_organisations_person(page, demo):
    lisboa_agent = db.session.scalar(select(User).where(User.email == "agent@lisboacs.example"))
    sign_in(page, "admin@atlascare.example", DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    links = {text.strip() for text in nav.get_by_role("link").all_inner_texts()}
    for menu in nav.locator("summary").all():  # the staff pages sit in menus (#19): open each in turn
        menu.click()
        links |= {text.strip() for text in nav.get_by_role("link").all_inner_texts()}
        menu.click()
    assert {"People", "Dashboard", "Exports", "Audit log", "Assignments"} <= links
    assert not links & {"Users", "Organisations", "Branding", "Authoring", "Single sign-on", "Outbox",
                        "Reminders outbox", "xAPI"}

    nav.locator("summary", has_text="People").click()
    nav.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People at Atlas Customer Care")
    table = page.locator("tbody").inner_text()
    assert "Yasmine El Idrissi" in table and "Omar Tazi" in table and "Inês Carvalho" not in table
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/partner-people-desktop.png", full_page=True)

    page.get_by_role("button", name="Add an agent").click()
    expect(page.get_by_label("Full name")).to_be_visible()
    assert page.get_by_label("Role").count() == 0 and page.get_by_label("Organisation").count() == 0
    page.get_by_label("Full name").fill("Hamza Alaoui")
    page.get_by_label("E-mail").fill("hamza@atlascare.example")
    page.get_by_label("Employee id").fill("AT-1001")  # Yasmine's: refused with the field's error
    page.get_by_label("Team").fill("Billing")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_text("already has employee id AT-1001").first).to_be_visible()
    assert page.get_by_label("Full name").input_value() == "Hamza Alaoui"
    if SHOTS:
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=f"{SHOTS}/partner-form-error-phone.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("Employee id").fill("AT-1003")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("heading", name="Set-password link for Hamza Alaoui")).to_be_visible()
    assert "/set-password/" in page.get_by_label("Link").input_value()
    hamza = db.session.scalar(select(User).where(User.email == "hamza@atlascare.example"))
    assert (hamza.organisation.name, hamza.role.value, hamza.employee_id, hamza.team) == (
        "Atlas Customer Care", "agent", "AT-1003", "Billing")

    page.get_by_role("navigation", name="Main").locator("summary", has_text="People").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_label("Team")).to_be_visible()
    teams = page.get_by_label("Team").locator("option").all_inner_texts()
    assert teams == ["All teams", "Billing", "Home moves"]  # Atlas's teams
    organisations = page.get_by_label("Organisation").locator("option").all_inner_texts()
    assert "Lisboa Contact Services" not in organisations and "Northwind Utilities" not in organisations
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/partner-dashboard.png", full_page=True)

    for path in (f"/admin/users/{lisboa_agent.id}", f"/people/{lisboa_agent.id}"):
        assert page.goto(path).status == 404, path
    assert page.goto("/admin/organisations").status == 403
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
