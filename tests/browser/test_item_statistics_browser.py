"""Item statistics in Chromium (#18): a trainer filters the analysis with the keyboard, reads the
figures and flags as text, and the item map renders as an image under the page's CSP."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment.analysis import MIN_ANSWERS
from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from tests import factories
from tests.assessment.conftest import FIXTURE
from tests.assessment.test_item_statistics import SIM, take, ten_attempts
from tests.browser.conftest import sign_in
from tests.browser.test_assessment_browser import expect

pytestmark = pytest.mark.browser

QUESTIONS = "Facility, discrimination, pick rates and flags of each question"


def test_trainer_filters_item_statistics_with_the_keyboard(page, app):
    load_content(FIXTURE)
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    lisbon, atlas = factories.organisation("Lisboa CS"), factories.organisation("Atlas Care")
    ten_attempts(quiz, lisbon)
    for i in range(MIN_ANSWERS):
        take(factories.user(Role.AGENT, atlas), quiz, {"basis-first": True, "verbal-sar": "ab"[i % 2],
                                                        SIM: ["b", "b", "a", "a"] if i % 2 else ["a"]})
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    sign_in(page, trainer.email, factories.PASSWORD)
    page.goto("/analysis/quizzes/recording-calls")
    expect(page.get_by_role("heading", level=1)).to_have_text("Recording calls")
    expect(page.get_by_text("20 finished attempts.", exact=False)).to_be_visible()
    # The item map is an image that renders (a data: SVG, which the CSP allows) and says what it shows.
    chart = page.get_by_role("img", name="Scatter plot of each question and call decision", exact=False)
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")

    # Filter with the keyboard only: focus the selects, choose with the arrow keys, submit with Enter.
    page.get_by_label("Organisation", exact=True).focus()
    page.keyboard.press("ArrowDown")  # All organisations -> Atlas Care (sorted by name)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Moment of the call", exact=True)).to_be_focused()
    page.keyboard.press("ArrowDown")  # All moments -> Before the call
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"organisation={atlas.id}" in page.url and "phase=before" in page.url

    table = page.get_by_role("table", name=f"{QUESTIONS} for Atlas Care")
    rows = table.get_by_role("row")
    expect(rows).to_have_count(3)  # the header, basis-first and order-of-steps: the "before" questions
    basis = rows.filter(has_text="basis-first")
    expect(basis.get_by_role("cell").nth(2)).to_have_text("100%")  # facility
    expect(basis.get_by_role("listitem").filter(has_text="Too easy for the pool")).to_have_text(
        "Too easy for the pool: 100% earned")
    expect(basis.get_by_role("listitem").filter(has_text="Distractor never chosen")).to_have_text(
        "Distractor never chosen: false")
    # The wide table scrolls inside a region that the keyboard can reach.
    expect(page.get_by_role("region", name="Table of questions, scrolls sideways")).to_have_attribute("tabindex", "0")
    expect(page.get_by_role("heading", name="Call simulation decisions")).to_have_count(0)  # "during" only
    # The definitions and thresholds are one keyboard press away.
    page.get_by_text("How these figures are computed, and when an item is flagged").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Only items drawn at least 10 times", exact=False)).to_be_visible()
