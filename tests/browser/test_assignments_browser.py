"""Assignments in Chromium (#19): a trainer types part of a name, picks the agent the picker's
search offers, assigns, changes the due rule and removes the assignment behind its confirmation."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.certification import assignments
from lms.certification.models import Assignment, Enrolment
from lms.extensions import db
from tests import factories
from tests.browser.conftest import sign_in
from tests.browser.test_assessment_browser import expect
from tests.certification.conftest import make_programme

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LMS_SCREENSHOTS")  # a folder to keep the screenshots in, when looking at the pages


def shoot(page, name: str) -> None:
    """Desktop and 390 px phone screenshots of the page, when SHOTS names a folder."""
    if not SHOTS:
        return
    page.screenshot(path=f"{SHOTS}/{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_trainer_picks_an_agent_by_part_of_their_name_then_edits_and_removes(app, page, monkeypatch):
    monkeypatch.setattr(assignments, "LISTED_AGENTS", 2)  # a "long" roster: the script searches
    atlas, lisboa = factories.organisation("Atlas Care"), factories.organisation("Lisboa CS")
    factories.user(Role.AGENT, atlas, name="Yasmine El Idrissi", email="yasmine@atlas.example")
    omar = factories.user(Role.AGENT, atlas, name="Omar Tazi", email="omar@atlas.example")
    factories.user(Role.AGENT, lisboa, name="Omar Bennani", email="bennani@lisboa.example")
    trainer = factories.user(Role.TRAINER, atlas)
    make_programme()
    db.session.commit()

    sign_in(page, trainer.email, factories.PASSWORD)
    page.goto("/assignments")
    expect(page.locator("datalist#agent-choices option")).to_have_count(0)  # too many to list: searched
    page.get_by_label("One agent").check()
    field = page.get_by_label("Agent's name or e-mail")
    field.press_sequentially("taz", delay=50)
    suggestion = page.locator("datalist#agent-choices option")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_have_attribute("value", "Omar Tazi <omar@atlas.example>")
    field.fill("om")
    field.press_sequentially("ar", delay=50)  # both Omars, by name
    expect(suggestion).to_have_count(2)
    shoot(page, "assignments-picker")
    # Choosing a suggestion puts its value in the field, as a click or Enter in the list does.
    field.fill(suggestion.nth(1).get_attribute("value"))
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("Assigned. Agents see it on their home page now.")).to_be_visible()
    assignment = db.session.scalars(select(Assignment)).one()
    assert assignment.user_id == omar.id
    shoot(page, "assignments-list")

    row = page.get_by_role("row").filter(has_text="Omar Tazi")
    row.get_by_role("link", name="Edit the assignment of Recorded lines certification to Omar Tazi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change when Recorded lines certification is due")
    expect(page.get_by_label("Days", exact=True)).to_have_value("30")
    shoot(page, "assignment-edit")
    page.get_by_label("Days", exact=True).fill("45")
    page.get_by_role("button", name="Save the due rule").click()
    expect(page.get_by_text("The due date is changed for 1 agent enrolled through this assignment.")).to_be_visible()
    db.session.expire_all()
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert enrolment.due_at - enrolment.assigned_at == timedelta(days=45)

    page.get_by_role("row").filter(has_text="Omar Tazi").get_by_role("link", name="Remove the assignment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Remove the assignment of Recorded lines certification to Omar Tazi?")
    expect(page.locator("main")).to_contain_text("1 agent will no longer have the programme assigned")
    shoot(page, "assignment-remove")
    page.get_by_role("button", name="Remove the assignment").click()
    expect(page.get_by_text("The assignment is removed.")).to_be_visible()
    expect(page.get_by_text("Nothing is assigned yet.")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalars(select(Assignment)).all() == [] and db.session.scalars(select(Enrolment)).all() == []
