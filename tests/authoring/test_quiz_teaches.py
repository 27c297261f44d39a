"""A quiz draft is checked next to the published courses, so its items' `teaches` links resolve."""
from __future__ import annotations

from lms.authoring import drafts
from lms.extensions import db
from lms.learning.sync import load_content
from tests.authoring.conftest import REPO

QUIZ = "quizzes/recording-calls.yaml"
LINK = "teaches: recording-calls/payment-cards#if-a-code-was-captured-anyway\n"


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
