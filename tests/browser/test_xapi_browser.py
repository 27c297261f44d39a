"""The xAPI page in Chromium: an admin finds it in the navigation, reads the failure and its error,
retries it from the keyboard, and starts the NDJSON export; on a phone the table scrolls in its region."""
from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from lms.accounts.models import Role
from lms.extensions import db
from lms.xapi import delivery
from tests import factories
from tests.browser.conftest import sign_in
from tests.certification.conftest import at, content  # noqa: F401 (fixtures)
from tests.xapi.ralph_lrs import free_port
from tests.xapi.scenario import read_course
from tests.xapi.test_outbox import _rows

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LMS_SCREENSHOTS")  # a folder to keep screenshots in, when looking at the pages


def test_an_admin_retries_a_failure_and_exports_the_statements(app, content, page):
    app.config.update(XAPI_LRS_URL=f"http://127.0.0.1:{free_port()}/xAPI/", XAPI_LRS_KEY="k", XAPI_LRS_SECRET="s")
    admin, agent = factories.user(Role.ADMIN, email="admin@example.org"), factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    total = len(_rows())
    delivery.send_pending()

    sign_in(page, admin.email, factories.PASSWORD)
    page.locator("summary", has_text="Settings").click()  # the header's menu (#19)
    page.get_by_role("link", name="xAPI", exact=True).click()
    expect(page.get_by_role("heading", name="xAPI statements", level=1)).to_be_visible()
    failed_row = page.get_by_role("row", name="Failed")
    assert failed_row.get_by_role("cell").inner_text() == str(total)
    expect(page.get_by_text("The LRS could not be reached").first).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/xapi-failures.png", full_page=True)

    first = _rows()[0]
    retry = page.get_by_role("button", name=f"Retry statement {first.statement_id}")
    retry.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status").get_by_text("1 statement queued again")).to_be_visible()
    assert page.get_by_role("row", name="Queued").get_by_role("cell").inner_text() == "1"

    day = first.occurred_at.date().isoformat()
    page.get_by_label("From").fill(day)
    page.get_by_label("Until").fill(day)
    page.get_by_role("button", name="Export", exact=True).click()
    page.wait_for_url("**/exports/*")
    expect(page.get_by_role("heading", name="xAPI statements (NDJSON)")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/xapi")
    region = page.get_by_role("region", name="Failures")
    expect(region).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/xapi-phone.png", full_page=True)
