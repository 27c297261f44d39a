"""The organisation's SCIM page in Chromium: a token created (shown once) with the keyboard, the
IdP's group given a meaning, the token revoked after a confirmation; on desktop and phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from scim2_models import Email, Group, GroupMember, User

from lms.extensions import db
from lms.scim.models import ScimToken
from tests.browser.conftest import live_server, page, sign_in  # noqa: F401  (fixtures; browser is tests/conftest.py's)
from tests.factories import PASSWORD
from tests.scim.conftest import scim_client

pytestmark = pytest.mark.browser


def test_admin_manages_scim_in_the_browser(app, page, orgs, tmp_path):  # noqa: F811
    sign_in(page, orgs["admin"].email, PASSWORD)
    page.goto(f"/admin/organisations/{orgs['atlas'].id}")
    page.get_by_role("link", name="Provisioning (SCIM)").click()
    expect(page.get_by_role("heading", name="Provisioning (SCIM) for Atlas Customer Care")).to_be_visible()
    expect(page.get_by_text("The identity provider has not sent any group yet.")).to_be_visible()

    page.get_by_label("Name").fill("Entra ID")
    page.get_by_label("Valid for (days)").fill("30")
    page.get_by_label("Valid for (days)").press("Enter")  # the keyboard submits
    token = page.get_by_role("textbox", name="Token", exact=True).input_value()
    assert token.startswith("scim_")
    expect(page.get_by_text("shown only this once")).to_be_visible()
    page.screenshot(path=str(tmp_path / "scim-token.png"), full_page=True)

    idp = scim_client(app, token)
    ana = idp.create(User(user_name="ana@atlas.example", emails=[Email(value="ana@atlas.example")]))
    idp.create(Group(display_name="Atlas Trainers", members=[GroupMember(value=ana.id)]))
    page.goto(f"/admin/organisations/{orgs['atlas'].id}/scim")
    assert token not in page.content()
    page.get_by_label("Members of Atlas Trainers").select_option("role:trainer")
    page.get_by_role("button", name="Save for Atlas Trainers").click()
    expect(page.get_by_text("Members of Atlas Trainers: Role: trainer.")).to_be_visible()

    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(tmp_path / "scim-phone.png"), full_page=True)
    page.get_by_role("link", name="Revoke Entra ID").click()
    expect(page.get_by_role("heading", name="Revoke the token Entra ID?")).to_be_visible()
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    db.session.expire_all()
    assert db.session.query(ScimToken).filter_by(name="Entra ID").one().revoked_at is not None
    assert idp.request("GET", f"{idp.base_url}/Users").status_code == 401
