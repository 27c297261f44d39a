"""Roster import in Chromium (#15): the Atlas partner admin uploads a CSV, reads the preview, applies it."""
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

ROSTER = ("\ufeffEmployee id;Name;E-mail;Organisation;Role;Team;Start date\r\n"
          "AT-9001;Salma Bennani;salma@atlascare.example;Atlas Customer Care;agent;Billing;2026-09-01\r\n"
          "AT-9002;Karim Idrissi;karim@atlascare.example;Atlas Customer Care;agent;Billing;2026-09-01\r\n"
          "LX-1;Ana Lopes;ana@lisboacs.example;Lisboa Contact Services;agent;;\r\n").encode("utf-8")


@pytest.fixture
def demo(app):
    ensure_demo_accounts()
    db.session.commit()


def test_partner_admin_uploads_previews_and_applies_a_roster(page, demo):
    sign_in(page, "admin@atlascare.example", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").locator("summary", has_text="People").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Roster import").click()
    page.get_by_label("Roster file (CSV)").set_input_files(
        {"name": "atlas-roster.csv", "mimeType": "text/csv", "buffer": ROSTER})
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: atlas-roster.csv")
    assert page.locator("#count-create").inner_text() == "Create: 2"
    assert page.locator("#count-error").inner_text() == "Error: 1"
    assert "Line 4, Organisation:" in page.locator("#preview-rows").inner_text()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/roster-preview-desktop.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=f"{SHOTS}/roster-preview-phone.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
    assert db.session.scalar(select(User).where(User.email == "salma@atlascare.example")) is None

    page.get_by_label("Apply the valid rows and skip the row with errors").check()
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Done: 3 of 3.").wait_for()
    expect(page.get_by_role("link", name="roster-import-1-report.csv")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/roster-job-desktop.png", full_page=True)
    db.session.expire_all()
    salma = db.session.scalar(select(User).where(User.email == "salma@atlascare.example"))
    assert (salma.employee_id, salma.team, salma.organisation.name) == ("AT-9001", "Billing", "Atlas Customer Care")
    assert db.session.scalar(select(User).where(User.email == "ana@lisboacs.example")) is None
