"""In Chromium: a session that ends mid-quiz loses no answer."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms.accounts.models import LoginSession
from lms.assessment.services import start_attempt
from lms.clock import now
from lms.extensions import db
from lms.learning.models import Quiz
from tests import factories
from tests.browser.conftest import sign_in
from tests.browser.test_assessment_browser import agent, drawn, expect, option_text, position_of, saved_answers  # noqa: F401

pytestmark = pytest.mark.browser


def test_an_answer_given_after_the_session_ended_is_kept_and_saved_after_signing_in_again(page, agent):  # noqa: F811
    sign_in(page, agent.email, factories.PASSWORD)
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    attempt = start_attempt(agent, quiz, random.Random(7))
    db.session.commit()
    position = position_of(attempt, "single_choice")
    item, _ = drawn(attempt, position)
    question_url = f"/attempts/{attempt.id}/questions/{position}"
    page.goto(question_url)

    # The session ends on the server while the agent reads the question.
    db.session.execute(update(LoginSession).where(LoginSession.user_id == agent.id)
                       .values(idle_expires_at=now() - timedelta(minutes=1)))
    db.session.commit()
    with page.expect_response(lambda r: r.request.method == "POST" and "/answers/" in r.url) as refused:
        page.get_by_label(option_text(item, item["correct"]), exact=True).check()
    assert refused.value.status == 401
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("Your session has ended. Sign in again; your answer is kept.")
    assert position not in saved_answers()

    with page.expect_navigation():
        notice.get_by_role("link", name="Sign in again").click()
    assert "/login?next=" in page.url
    page.get_by_label("E-mail").fill(agent.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST" and "/answers/" in r.url) as saved:
        page.get_by_role("button", name="Sign in", exact=True).click()
    assert saved.value.status == 200
    assert page.url.endswith(question_url)
    expect(page.locator(".save-status")).to_have_text("Your answer from before you signed in again is saved.")
    expect(page.get_by_label(option_text(item, item["correct"]), exact=True)).to_be_checked()
    assert saved_answers()[position].response == item["correct"]
    # Kept no longer than needed: once stored on the server, the copy in the tab is gone.
    assert page.evaluate("window.sessionStorage.length") == 0
