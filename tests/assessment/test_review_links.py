"""The review after an attempt: explanations by default, also after a fail, and each missed
question linked to the lesson section that teaches it (the quiz item's `teaches`)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from tests.assessment.conftest import answer_all, best_form, start, worst_form
from tests.conftest import csrf_token
from tests.content.tree import copy_valid, edit

QUIZ = "quizzes/recording-calls.yaml"
# basis-first links to a heading with a citation; what-to-say to one without.
LINKS = {"verbal-sar": "telling-callers#say-it-first", "what-to-say": "telling-callers#offer-the-full-notice",
         "basis-first": "choosing-the-basis#why-a-basis-is-needed",
         "order-of-steps": "choosing-the-basis#legitimate-interests"}


def _load(tmp_path: Path, review: str | None) -> Quiz:
    """The valid fixture, with `review` as given (left out when None) and a `teaches` on every question."""
    root = copy_valid(tmp_path)
    edit(root, QUIZ, "review: after_pass\n", f"review: {review}\n" if review else "")
    for item_id, target in LINKS.items():
        edit(root, QUIZ, f"  - id: {item_id}\n", f"  - id: {item_id}\n    teaches: recording-calls/{target}\n")
    load_content(root)
    db.session.commit()
    return db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))


def _submit(client, attempt, form_for) -> str:
    answer_all(client, attempt, form_for)
    client.post(f"/attempts/{attempt.id}/submit",
                data={"csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review")})
    return client.get(f"/attempts/{attempt.id}").get_data(as_text=True)


def _reread(html: str) -> list[str]:
    return re.findall(r'<p class="reread">Reread: <a href="([^"]+)">', html)


def test_a_failed_attempt_shows_explanations_and_links_each_missed_question(app, tmp_path, agent, client,
                                                                            login_as):
    quiz = _load(tmp_path, review=None)   # no review policy written: after_submit
    login_as(agent)
    attempt = start(agent, quiz)
    drawn = [entry["item"] for entry in attempt.draw]
    # basis-first is answered right: no link for it; every other question is missed.
    html = _submit(client, attempt, lambda item, shown, previous: (
        best_form if item["id"] == "basis-first" else worst_form)(item, shown, previous))
    assert "Not passed yet" in html
    assert "Why:" in html and "Art. 12(3) runs from receipt" in html   # the explanation, after a fail
    expected = [f"/courses/recording-calls/lessons/{LINKS[item_id]}" for item_id in drawn
                if item_id in LINKS and item_id != "basis-first"]
    assert expected and _reread(html) == expected
    assert "Telling callers about recording: Say it first (Art. 13(1))" in html


def test_the_link_lands_on_the_section_heading_of_the_lesson_page(app, tmp_path, agent, client, login_as):
    _load(tmp_path, review=None)
    login_as(agent)
    page = client.get("/courses/recording-calls/lessons/choosing-the-basis").get_data(as_text=True)
    assert '<h2 id="why-a-basis-is-needed">Why a basis is needed (Art. 6(1))</h2>' in page
    assert '<h2 id="legitimate-interests">Legitimate interests</h2>' in page


def test_a_passed_attempt_has_no_links_for_questions_it_got_right(app, tmp_path, agent, client, login_as):
    quiz = _load(tmp_path, review=None)
    login_as(agent)
    html = _submit(client, start(agent, quiz), best_form)
    assert "Passed" in html and "Why:" in html and _reread(html) == []


@pytest.mark.parametrize("review", ["after_pass", "never"])
def test_without_review_the_missed_sections_are_still_listed(app, tmp_path, agent, client, login_as, review):
    quiz = _load(tmp_path, review=review)
    login_as(agent)
    html = _submit(client, start(agent, quiz), worst_form)
    assert "Why:" not in html   # the policy still hides answers and explanations
    assert "The lesson sections that teach what you missed:" in html
    # The fixture's draw takes all four questions, and every one was missed.
    listed = re.findall(r'<li><a href="/courses/recording-calls/lessons/([^"]+)">', html)
    assert sorted(listed) == sorted(LINKS.values())


def test_the_shipped_quizzes_show_explanations_after_every_attempt():
    from lms.content import parse_tree
    tree, _ = parse_tree(Path(__file__).resolve().parents[2])
    shipped = {"call-security", "gdpr-essentials", "handling-requests", "outsourcing-transfers",
               "recording-calls"}
    assert {slug: tree.quizzes[slug].review for slug in shipped} == dict.fromkeys(shipped, "after_submit")
    for slug in shipped:
        assert all(q.teaches for q in tree.quizzes[slug].questions if q.type != "call_simulation"), slug
