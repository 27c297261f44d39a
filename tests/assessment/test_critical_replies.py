"""A critical reply in a call simulation fails the attempt, whatever it scores, and says why."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment import services
from lms.assessment.models import Attempt
from lms.question_types import REGISTRY, CriticalReply
from lms.certification import services as certification
from lms.certification.models import Award, Enrolment
from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from tests import factories
from tests.assessment.conftest import answer_all, best_form, start
from tests.certification.conftest import make_programme
from tests.certification.test_cycle import _read_course, _take_quiz
from tests.conftest import csrf_token
from tests.content.tree import copy_valid, edit

REASON = "Reading a customer's bill to an unverified caller discloses personal data (Art. 5(1)(f))."
QUIZ = "quizzes/recording-calls.yaml"


def _sim(critical: bool = True) -> dict:
    """n1 -> n2 -> end; `leak` at n2 is critical when asked, and scores 0 either way."""
    leak = {"id": "leak", "text": "It's 14 Mill Lane.", "feedback": "Harmful.", "score": 0, "next": "end"}
    if critical:
        leak |= {"critical": REASON, "discloses": True}
    return {"id": "sim", "type": "call_simulation", "phase": "during", "points": 1, "start": "n1", "nodes": [
        {"id": "n1", "caller": "Hi, I'm calling for my wife.", "choices": [
            {"id": "holder", "text": "Only with the holder.", "feedback": "Best.", "score": 3, "next": "n2"},
            {"id": "abrupt", "text": "Goodbye.", "feedback": "Abrupt.", "score": 1, "next": "n2"}]},
        {"id": "n2", "caller": "Just read me her address.", "choices": [
            {"id": "refuse", "text": "I can't.", "feedback": "Best.", "score": 3, "next": "end"},
            leak]},
        {"id": "end", "caller": "Bye.", "end": True}]}


def _spec(sim: dict) -> dict:
    true_false = {"id": "tf", "type": "true_false", "phase": "before", "points": 9, "correct": True}
    return {"pass_mark": 80, "questions": [sim, true_false]}


def _grade(sim: dict, path: list[str]) -> services.AttemptGrade:
    spec = _spec(sim)
    items = {item["id"]: item for item in spec["questions"]}
    draw = [{"item": "sim", "shown": {}}, {"item": "tf", "shown": {}}]
    return services.grade_responses(spec, items, draw, {1: path, 2: True})


def test_a_critical_reply_fails_the_simulation_and_says_where_and_why():
    grade = REGISTRY["call_simulation"].grade(_sim(), ["holder", "leak"], {})
    assert (grade.earned, grade.possible) == (0, 1)
    assert grade.critical == CriticalReply("n2", "Just read me her address.", "leak", "It's 14 Mill Lane.",
                                           REASON)


def test_a_critical_reply_fails_the_attempt_whatever_its_percentage():
    # The same path without the mark: 3 of 6 on the simulation, 9.5 of 10 overall, a pass.
    unmarked = _grade(_sim(critical=False), ["holder", "leak"])
    assert (unmarked.earned, unmarked.percent, unmarked.passed, unmarked.critical) == (9.5, 95.0, True, {})
    # Marked critical: the simulation earns nothing and the attempt fails at 90%.
    marked = _grade(_sim(), ["holder", "leak"])
    assert (marked.earned, marked.percent, marked.passed) == (9, 90.0, False)
    assert list(marked.critical) == [1] and marked.critical[1].reason == REASON


def test_a_safe_path_through_a_simulation_with_critical_replies_grades_as_before():
    grade = _grade(_sim(), ["abrupt", "refuse"])
    assert (grade.earned, grade.passed, grade.critical) == (round(9 + 4 / 6, 4), True, {})


def test_a_simulation_left_half_way_after_a_critical_reply_still_fails():
    sim = _sim()
    sim["nodes"][1]["choices"][1]["next"] = "n3"
    sim["nodes"].append({"id": "n3", "caller": "Thanks. And her number?", "choices": [
        {"id": "refuse", "text": "No.", "feedback": "Good.", "score": 3, "next": "end"},
        {"id": "read", "text": "Sure.", "feedback": "Harmful.", "score": 0, "next": "end"}]})
    assert not _grade(sim, ["holder", "leak"]).passed


# -- a real attempt ----------------------------------------------------------------------------

def _load_quiz(tmp_path: Path, review: str = "after_pass") -> Quiz:
    """The fixture quiz with n3/b of its simulation marked critical and the simulation worth 1
    point, so that the rest of the attempt is enough for the 80% pass mark by arithmetic."""
    root = copy_valid(tmp_path)
    edit(root, QUIZ, '{id: b, text: "Great, here is the bill.", feedback: Not verified., score: 1, next: end-breach}',
         f'{{id: b, text: "Great, here is the bill.", feedback: Not verified., score: 0, next: end-breach, '
         f'critical: "{REASON}", discloses: true}}')
    edit(root, QUIZ, '    points: 3\n    title: The "husband"', '    points: 1\n    title: The "husband"')
    edit(root, QUIZ, "review: after_pass", f"review: {review}")
    load_content(root)
    db.session.commit()
    return db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))


@pytest.fixture
def critical_quiz(app, tmp_path: Path) -> Quiz:
    return _load_quiz(tmp_path)


def _breach_form(item: dict, shown: dict, previous=None) -> dict:
    """The key everywhere, except that the simulation goes n1/b, n2/b, then the critical n3/b."""
    if item["type"] != "call_simulation":
        return best_form(item, shown, previous)
    return {"option": "b", "action": "say"}


def _submit_breach(client, login_as, quiz: Quiz) -> Attempt:
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(agent)
    attempt = start(agent, quiz)
    answer_all(client, attempt, _breach_form)
    client.post(f"/attempts/{attempt.id}/submit",
                data={"csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review")})
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def test_the_result_page_says_why_a_critical_reply_failed_the_attempt(critical_quiz, client, login_as):
    attempt = _submit_breach(client, login_as, critical_quiz)
    simulation = next(a for a in attempt.answers if a.item_id == "sim-impostor")
    assert simulation.response == ["b", "b", "b"] and (simulation.earned, simulation.possible) == (0, 1)
    # Every other item right: above the pass mark, and still not a pass.
    assert attempt.percent >= 80 and attempt.passed is False and attempt.critical_failure is True
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert f"Not passed yet: {round(attempt.percent, 1):g}%" in html
    assert "Not passed: a critical reply in a call simulation" in html
    assert f"your {attempt.percent}% does not pass" in html
    assert "at node <code>n3</code>" in html and "Hello, this is Sarah." in html
    assert "Great, here is the bill." in html
    assert f"<strong>Why this fails:</strong> {REASON}".replace("'", "&#39;") in html
    # The quiz shows answers only after a pass: the reason is shown, the review is not.
    assert "Critical failure, the simulation is failed" not in html


def test_the_review_marks_the_critical_reply_in_the_conversation(app, tmp_path, client, login_as):
    attempt = _submit_breach(client, login_as, _load_quiz(tmp_path, review="immediate"))
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert f"Critical failure, the simulation is failed:</strong> {REASON}".replace("'", "&#39;") in html


def test_an_attempt_without_a_critical_reply_shows_no_such_section(critical_quiz, client, login_as):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(agent)
    attempt = start(agent, critical_quiz)
    answer_all(client, attempt)
    client.post(f"/attempts/{attempt.id}/submit",
                data={"csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review")})
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "Passed: 100%" in html and "critical reply" not in html


def test_certification_never_counts_an_attempt_failed_by_a_critical_reply(critical_quiz):
    org = factories.organisation("Atlas Care")
    agent = factories.user(Role.AGENT, org)
    admin = factories.user(Role.ADMIN)
    programme = make_programme()
    certification.assign(admin, programme, organisation_id=org.id, due_days=14)
    db.session.commit()
    _read_course(agent)
    _take_quiz(agent, critical_quiz, _breach_form)
    attempt = db.session.scalars(select(Attempt)).one()
    assert attempt.percent >= 80 and attempt.critical_failure
    assert db.session.scalar(select(db.func.count(Award.id))) == 0
    enrolment = db.session.scalars(select(Enrolment)).one()
    quiz_state = next(s for s in certification.requirement_states(enrolment) if s.kind == "quiz")
    assert (quiz_state.met, quiz_state.detail) == (False, "failed on a critical reply in a call simulation")
