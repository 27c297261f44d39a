"""A question type registered only here works through the attempt flow end to end (#20): its
own template on the question page, the autosave, grading, its review on the result page, item
analysis, the person's copy of their data and the xAPI statement, with no change outside it.

The type is "say it": the agent writes what they would say, graded by the keywords it holds.
Its items are published straight as a quiz version: `content check` and the quiz editor do not
take plug-in types yet (tests/test_question_type_plugins.py lists the code that still names the
built-in ones).
"""
from __future__ import annotations

import json

import pytest
from flask import Blueprint
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment import services
from lms.assessment.analysis import analyse
from lms.assessment.models import Attempt
from lms.extensions import db
from lms.learning.models import Quiz, QuizVersion
from lms.learning.sync import load_content
from lms.privacy.access import person_data
from lms.question_types import REGISTRY, Grade, QuestionType, ResponseError
from lms.xapi import statements
from tests import factories
from tests.assessment.conftest import FIXTURE
from tests.conftest import csrf_token


class SayIt(QuestionType):
    """What would you say: free text, earning a share of the points per keyword it contains."""

    name, label, xapi_interaction = "say_it", "Say it in your own words", "fill-in"
    yaml_keys = ("prompt", "keywords")

    def prepare(self, item, rng):
        return {}

    def parse(self, item, shown, form, previous):
        text = " ".join(form.get("text", "").split())
        if len(text) > 500:
            raise ResponseError("Keep it under 500 characters.")
        return text

    def grade(self, item, response, quiz):
        said = (response or "").lower()
        found = [word for word in item["keywords"] if word in said]
        return Grade(round(item.get("points", 1) * len(found) / len(item["keywords"]), 4), item.get("points", 1))

    def display(self, item, shown, response):
        return {"text": response or ""}

    def review(self, item, response):
        return {"found": [word for word in item["keywords"] if word in (response or "").lower()]}


QUESTION = """<label for="say">{{ item.prompt }}</label>
<textarea id="say" name="text">{{ view.text }}</textarea>"""
REVIEW = """<p class="prompt">{{ item.prompt }}</p><blockquote id="said">{{ response }}</blockquote>
<p id="found">Keywords used: {{ review.found|join(", ") }}</p>"""
ITEM = {"id": "say-recording", "type": "say_it", "phase": "during", "difficulty": "easy", "points": 2,
        "prompt": "The caller asks whether the call is recorded. What do you say?",
        "keywords": ["recorded", "object"], "explanation": "Say it is recorded and that they may object (Art. 21).",
        "references": ["Art. 21"]}


@pytest.fixture
def say_it_quiz(app, tmp_path, monkeypatch) -> Quiz:
    monkeypatch.setitem(REGISTRY, "say_it", SayIt())
    (tmp_path / "say_it").mkdir()
    (tmp_path / "say_it" / "question.html").write_text(QUESTION)
    (tmp_path / "say_it" / "review.html").write_text(REVIEW)
    app.register_blueprint(Blueprint("say_it_templates", __name__, template_folder=str(tmp_path)))
    load_content(FIXTURE)
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    spec = {**quiz.current_version.spec, "questions": [ITEM], "draw": [{"phase": "during", "count": 1}],
            "pass_mark": 50}
    version = QuizVersion(quiz=quiz, content_hash="say-it-" + "0" * 57, title=quiz.current_version.title, spec=spec)
    db.session.add(version)
    db.session.flush()
    quiz.current_version = version
    db.session.commit()
    return quiz


def test_a_type_registered_here_is_shown_saved_graded_reviewed_and_reported(app, say_it_quiz, client, login_as):
    agent = factories.user(Role.AGENT)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(agent)
    page = "/quizzes/recording-calls"
    assert client.post(f"{page}/start", data={"csrf_token": csrf_token(client, page)}).status_code == 302
    attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == agent.id))
    question = f"/attempts/{attempt.id}/questions/1"

    shown = client.get(question).get_data(as_text=True)
    assert '<textarea id="say" name="text"></textarea>' in shown
    assert "Say it in your own words" in shown
    assert 'data-autosave-url="/attempts/' in shown  # not stepwise: autosaved like a choice

    saved = client.post(f"/attempts/{attempt.id}/answers/1",
                        data={"csrf_token": csrf_token(client, question), "text": "Yes, it is  recorded."})
    assert saved.get_json() == {"saved": True, "error": None, "answered": 1, "total": 1}
    assert '<textarea id="say" name="text">Yes, it is recorded.</textarea>' in client.get(question).get_data(as_text=True)
    refused = client.post(question, data={"csrf_token": csrf_token(client, question), "text": "x" * 501,
                                          "action": "next"})
    assert refused.status_code == 422 and "Keep it under 500 characters." in refused.get_data(as_text=True)

    review = f"/attempts/{attempt.id}/review"
    assert client.post(f"/attempts/{attempt.id}/submit",
                       data={"csrf_token": csrf_token(client, review)}).status_code == 302
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert (attempt.percent, attempt.passed) == (50.0, True)  # one keyword of two: 1 of 2 points
    result = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert '<blockquote id="said">Yes, it is recorded.</blockquote>' in result
    assert '<p id="found">Keywords used: recorded</p>' in result

    data = person_data(agent, requested_by=agent, config=app.config)
    [answer] = [a for entry in data["attempts"] for a in entry["answers"]]
    assert (answer["type"], answer["your_answer"], answer["earned"]) == ("say_it", "Yes, it is recorded.", 1.0)

    [unit] = analyse(trainer, say_it_quiz).questions
    assert (unit.item["id"], unit.options, unit.figures(None).facility) == ("say-recording", [], 0.5)

    grade = services.compute_grade(attempt, attempt.quiz_version).items[1]
    statement = statements.question_answered({"mbox": "mailto:a@example.com"}, "recording-calls", attempt, 1,
                                             ITEM, "Yes, it is recorded.", grade)
    assert statement["object"]["definition"]["interactionType"] == "fill-in"
    assert "choices" not in statement["object"]["definition"]
    assert statement["result"]["response"] == "Yes, it is recorded."
    assert json.dumps(statement)  # a plain JSON document

