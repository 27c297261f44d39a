"""A quiz draft is checked next to the published courses, so its items' `teaches` links resolve."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.authoring import drafts
from lms.authoring.models import Draft
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.authoring.conftest import FIXTURE, REPO
from tests.authoring.test_quiz_editor import BASE, _draft_data, form_data

QUIZ = "quizzes/recording-calls.yaml"
LINK = "teaches: recording-calls/payment-cards#if-a-code-was-captured-anyway\n"


@pytest.fixture
def editor(app, login_as):
    """A signed-in trainer, with the fixture course and quiz published."""
    person = factories.user(Role.TRAINER)
    load_content(FIXTURE)
    db.session.commit()
    login_as(person)
    return person


def test_a_shipped_quiz_opened_in_the_browser_checks_clean(app, trainer):
    load_content(REPO)
    db.session.commit()
    draft = drafts.open_draft("quiz", "recording-calls", trainer)
    assert LINK in draft.files[QUIZ]
    assert drafts.check_draft(draft) == []


def test_a_draft_linking_to_a_missing_section_is_refused(app, trainer):
    load_content(REPO)
    db.session.commit()
    draft = drafts.open_draft("quiz", "recording-calls", trainer)
    text = draft.files[QUIZ].replace(LINK, "teaches: recording-calls/payment-cards#no-such-section\n")
    drafts.save_files(draft, {QUIZ: text}, 1, trainer)
    [problem] = drafts.check_draft(draft)
    assert problem.path == QUIZ and problem.message.startswith(
        "question 'rec-after-03': 'teaches': lesson 'recording-calls/payment-cards' has no section "
        "'#no-such-section' (its sections: why-card-codes-must-never-be-recorded, ")


def test_the_question_editor_sets_and_clears_the_link(client, editor):
    page = f"{BASE}/questions/verbal-sar"
    data = form_data(client.get(page).get_data(as_text=True), "prompt")
    assert data["teaches"] == ""
    data["teaches"] = "recording-calls/telling-callers#say-it-first"
    assert client.post(page, data=data).status_code == 302
    item = _draft_data()["questions"][0]
    assert item["teaches"] == "recording-calls/telling-callers#say-it-first"
    assert list(item)[-3:] == ["explanation", "references", "teaches"]   # in the documented order
    draft = db.session.scalar(select(Draft).where(Draft.slug == "recording-calls"))
    assert drafts.check_draft(draft) == []

    data = form_data(client.get(page).get_data(as_text=True), "prompt")
    assert data["teaches"] == "recording-calls/telling-callers#say-it-first"
    data["teaches"] = ""
    assert client.post(page, data=data).status_code == 302
    assert "teaches" not in _draft_data()["questions"][0]


def test_the_question_editor_refuses_a_malformed_link(client, editor):
    page = f"{BASE}/questions/verbal-sar"
    data = form_data(client.get(page).get_data(as_text=True), "prompt")
    data["teaches"] = "telling-callers, the first section"
    response = client.post(page, data=data)
    assert response.status_code == 422
    assert "Write course/lesson-id#section" in response.get_data(as_text=True)
