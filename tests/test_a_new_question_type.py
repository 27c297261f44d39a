"""A question type registered only here works end to end (#20): `content check` holds its items
to the type's own rules, the loader publishes them, and the attempt flow shows its template,
autosaves, grades and reviews it; item analysis, the person's copy of their data and the xAPI
statement read it too. Nothing outside the type changes.

The type is "say it": the agent writes what they would say, graded by the keywords it holds.
A trainer writes one in the quiz editor, with the fields and the template of its own editor.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from flask import Blueprint
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from lms.accounts.models import Role
from lms.assessment import services
from lms.assessment.analysis import analyse
from lms.assessment.models import Attempt
from lms.authoring.models import Draft
from lms.authoring.quiz_yaml import load_quiz
from lms.checked_yaml.fields import Fields, list_of, text_value
from lms.checked_yaml.lenient import text, texts
from lms.content.validate import check_content
from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from lms.privacy.access import person_data
from lms.question_types import REGISTRY, Grade, QuestionType, ResponseError
from lms.question_types.base import Question
from lms.question_types.editor import TypeEditor, fail, typed_text
from lms.xapi import statements
from tests import factories
from tests.assessment.conftest import FIXTURE
from tests.authoring.test_quiz_editor import form_data
from tests.conftest import csrf_token


@dataclass(frozen=True, kw_only=True)
class SayItQuestion(Question):
    prompt: str
    keywords: tuple[str, ...]


class SayItEditor(TypeEditor):
    label, new_heading, template = "Say it", "New say-it question", "say_it/editor.html"
    keys = ("prompt", "keywords")

    prompt = TextAreaField("Prompt", validators=[InputRequired()])
    keywords = TextAreaField("Keywords, one per line", validators=[InputRequired()])

    def load(self, item):
        self.prompt.data, self.keywords.data = item.get("prompt"), "\n".join(item.get("keywords") or [])

    def dump(self, item):
        return {"prompt": typed_text(self.prompt.data),
                "keywords": [line.strip() for line in (self.keywords.data or "").splitlines() if line.strip()]}

    def check(self):
        return self.keywords.data == (self.keywords.data or "").lower() or fail(self.keywords, "Lower case only.")


class SayIt(QuestionType):
    """What would you say: free text, earning a share of the points per keyword it contains."""

    name, label, xapi_interaction = "say_it", "Say it in your own words", "fill-in"
    editor = SayItEditor
    yaml_keys = ("prompt", "keywords")
    fields: Fields = {"prompt": (True, text_value), "keywords": (True, list_of(text_value, unique=True))}

    def check(self, report, label, item, pass_mark):
        for index, word in enumerate(item.get("keywords") or []):
            if isinstance(word, str) and word != word.lower():
                report.add(item["keywords"].line_of(index), f"{label}: keyword '{word}' must be in lower case")

    def build(self, data, common):
        return SayItQuestion(type=self.name, prompt=text(data, "prompt"), keywords=texts(data, "keywords"), **common)

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
EDITOR = """{% from "_macros/forms.html" import field %}{{ field(form.prompt) }}{{ field(form.keywords) }}"""
ITEM = {"id": "say-recording", "type": "say_it", "phase": "during", "difficulty": "easy", "points": 2,
        "prompt": "The caller asks whether the call is recorded. What do you say?",
        "keywords": ["recorded", "object"], "explanation": "Say it is recorded and that they may object (Art. 21).",
        "references": ["Art. 21"]}


def _content_with(tmp_path: Path, items: list[dict]) -> Path:
    """The test content, its recording quiz holding `items` (drawn one at a time)."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    path = root / "quizzes" / "recording-calls.yaml"
    quiz = yaml.safe_load(path.read_text())
    quiz.update(questions=items, draw=[{"phase": "during", "count": 1}], pass_mark=50)
    path.write_text(yaml.safe_dump(json.loads(json.dumps(quiz)), sort_keys=False))  # no YAML aliases
    return root


@pytest.fixture
def say_it(app, tmp_path, monkeypatch) -> None:
    """The type in the registry, its templates where the app finds them."""
    monkeypatch.setitem(REGISTRY, "say_it", SayIt())
    (tmp_path / "say_it").mkdir()
    (tmp_path / "say_it" / "question.html").write_text(QUESTION)
    (tmp_path / "say_it" / "review.html").write_text(REVIEW)
    (tmp_path / "say_it" / "editor.html").write_text(EDITOR)
    app.register_blueprint(Blueprint("say_it_templates", __name__, template_folder=str(tmp_path)))


@pytest.fixture
def say_it_quiz(say_it, tmp_path) -> Quiz:
    load_content(_content_with(tmp_path, [ITEM]))
    db.session.commit()
    return db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))


def test_content_check_knows_a_type_only_once_it_is_registered(app, tmp_path, monkeypatch):
    root = _content_with(tmp_path, [ITEM])
    assert [str(problem) for problem in check_content(root)[0]] == [
        "quizzes/recording-calls.yaml:11: draw rule 1: asks for 1 'during' item but the bank has only 0",
        "quizzes/recording-calls.yaml:15: question 'say-recording': 'type' must be one of single_choice, "
        "multiple_response, true_false, ordering, call_simulation, got 'say_it'",
    ]
    monkeypatch.setitem(REGISTRY, "say_it", SayIt())
    assert check_content(root)[0] == []


def test_content_check_holds_the_items_to_the_types_own_rules(say_it, tmp_path):
    bad = {**ITEM, "keywords": ["recorded", "Object", "recorded"]}
    del bad["prompt"]
    root = _content_with(tmp_path, [bad, {**ITEM, "id": "say-more", "colour": "blue"}])
    messages = sorted(problem.message for problem in check_content(root)[0])
    assert messages == [
        "question 'say-more': unknown field 'colour' (allowed: id, type, phase, difficulty, points, explanation, "
        "references, teaches, prompt, keywords)",
        "question 'say-recording': 'keywords' lists 'recorded' twice",
        "question 'say-recording': keyword 'Object' must be in lower case",
        "question 'say-recording': missing required field 'prompt'",
    ]


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



def test_a_trainer_writes_one_in_the_quiz_editor(say_it_quiz, client, login_as):
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    base = "/authoring/quizzes/recording-calls"
    listed = client.get(base).get_data(as_text=True)
    assert f'href="{base}/questions/new/say_it">Say it</a>' in listed
    assert "The caller asks whether the call is recorded." in listed  # the item's summary

    page = f"{base}/questions/new/say_it"
    shown = client.get(page).get_data(as_text=True)
    assert "New say-it question" in shown and 'name="keywords"' in shown
    data = form_data(shown, "keywords")
    data.update({"id": "say-erasure", "phase": "after", "difficulty": "medium", "prompt": "They want it all deleted.",
                 "keywords": "Erase\nmonth", "explanation": "Without undue delay, within a month (Art. 12(3)).",
                 "references": "Art. 17\nArt. 12(3)"})
    refused = client.post(page, data=data)
    assert refused.status_code == 422
    assert "Lower case only." in refused.get_data(as_text=True)
    assert "They want it all deleted." in refused.get_data(as_text=True)  # what was typed stays

    data["keywords"] = "erase\nmonth"
    assert client.post(page, data=data).status_code == 302
    db.session.expire_all()
    draft = db.session.scalar(select(Draft).where(Draft.slug == "recording-calls"))
    saved = {q["id"]: q for q in load_quiz(draft.files["quizzes/recording-calls.yaml"])["questions"]}
    assert saved["say-erasure"] == {
        "id": "say-erasure", "type": "say_it", "phase": "after", "difficulty": "medium",
        "prompt": "They want it all deleted.", "keywords": ["erase", "month"],
        "explanation": "Without undue delay, within a month (Art. 12(3)).", "references": ["Art. 17", "Art. 12(3)"]}
    edit = client.get(f"{base}/questions/say-erasure").get_data(as_text=True)
    assert form_data(edit, "keywords")["keywords"] == "erase\nmonth"
