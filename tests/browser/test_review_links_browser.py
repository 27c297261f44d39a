"""After a failed attempt in Chromium: the explanations are there, and a missed question's
"Reread" link opens the lesson at the section that teaches it."""
from __future__ import annotations

import re

import pytest

from lms.accounts.models import Role
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.browser.test_assessment_browser import expect, start_quiz, submit, take_whole_quiz
from tests.content.tree import copy_valid, edit

pytestmark = pytest.mark.browser

QUIZ = "quizzes/recording-calls.yaml"


@pytest.fixture
def agent(app, tmp_path):
    """An agent, and the fixture quiz with the default review policy and every question linked."""
    root = copy_valid(tmp_path)
    edit(root, QUIZ, "review: after_pass\n", "")
    for item_id in ("verbal-sar", "what-to-say", "basis-first", "order-of-steps"):
        edit(root, QUIZ, f"  - id: {item_id}\n",
             f"  - id: {item_id}\n    teaches: recording-calls/telling-callers#offer-the-full-notice\n")
    load_content(root)
    person = factories.user(Role.AGENT)
    db.session.commit()
    return person


def test_a_failed_attempt_explains_and_links_to_the_lesson_section(page, agent):
    attempt = start_quiz(page, agent)
    take_whole_quiz(page, attempt, right=False)
    submit(page)

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Not passed yet"))
    expect(page.get_by_text("Why:").first).to_be_visible()
    links = page.get_by_role("link", name="Telling callers about recording: Offer the full notice")
    expect(links).to_have_count(4)
    with page.expect_navigation():
        links.first.click()
    assert page.url.endswith("/courses/recording-calls/lessons/telling-callers#offer-the-full-notice")
    section = page.get_by_role("heading", name="Offer the full notice", level=2)
    expect(section).to_have_attribute("id", "offer-the-full-notice")
    expect(section).to_be_in_viewport()
