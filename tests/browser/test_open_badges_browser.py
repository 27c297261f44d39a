"""Chromium: an agent opens their award from the home page, downloads the baked badge, reads the
wallet link, and checks the badge on the public verification page by pasting it."""
from __future__ import annotations

import os

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from lms.credentials.models import OpenBadge
from lms.extensions import db
from tests.browser.conftest import sign_in
from tests.credentials.conftest import badge_keys, certified  # noqa: F401 (fixtures)
from tests.certification.conftest import at, content  # noqa: F401 (fixtures)
from tests.factories import PASSWORD

SHOTS = os.environ.get("LMS_SCREENSHOTS")  # a folder to keep the screenshots in, when looking at the pages


def test_agent_downloads_the_badge_and_verifies_it(page, certified, tmp_path, at):
    at(None)  # the live server and the browser's cookies run on the real clock
    agent = certified["agent"]
    sign_in(page, agent.email, PASSWORD)
    page.get_by_role("link", name="Recorded lines certification", exact=True).click()
    page.wait_for_url("**/badge")
    assert page.get_by_role("heading", level=1).inner_text() == "Recorded lines certification"
    expect(page.get_by_role("img", name="CallSafe Academy badge: GDPR certified")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/award-desktop.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Badge image (PNG) for Recorded lines certification").click()
    path = tmp_path / "badge.png"
    download_info.value.save_as(path)
    with Image.open(path) as image:
        baked = image.text["openbadgecredential"]
    badge = db.session.scalars(select(OpenBadge)).one()
    assert baked == badge.jwt
    link = page.get_by_label("Wallet link").input_value()
    assert link.endswith(f"/credentials/{badge.credential_uuid}")

    page.set_viewport_size({"width": 390, "height": 844})
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/award-phone.png", full_page=True)

    page.goto("/verify")
    page.get_by_label("Signed badge (the text of the .jwt file, or the credential's JSON)").fill(baked)
    page.get_by_role("button", name="Check the badge").click()
    result = page.get_by_role("status")
    assert "Valid certificate" in result.inner_text()
    assert "This Open Badge is genuine and unaltered" in result.inner_text()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/verify-badge.png", full_page=True)
