"""Item analysis and regrading, as a trainer sees them."""
from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment import services
from lms.assessment.models import Attempt
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from tests import factories
from tests.assessment.conftest import FIXTURE, answer_all, best_form, start, worst_form
from tests.conftest import csrf_token, login


def _take(app, quiz, org, form_for):
    person = factories.user(Role.AGENT, org)
    db.session.commit()
    client = app.test_client()
    login(client, person.email, factories.PASSWORD)
    attempt = start(person, quiz)
    answer_all(client, attempt, form_for)
    client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": csrf_token(client, f"/attempts/{attempt.id}/review")})
    return attempt


def test_item_analysis_by_organisation(app, quiz, client, login_as):
    lisbon, atlas = factories.organisation("Lisboa CS"), factories.organisation("Atlas Care")
    _take(app, quiz, lisbon, best_form)
    _take(app, quiz, atlas, worst_form)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    html = client.get("/analysis/quizzes/recording-calls").get_data(as_text=True)
    assert "2 finished attempts" in html
    assert "Lisboa CS: 100% of 1" in html and "Atlas Care: 0% of 1" in html
    assert "Tell them to put it in writing first.: 50% <small>(1)</small>" in html  # verbal-sar's wrong option, Atlas's pick
    assert "Call simulation decisions" in html
    chart = client.get("/analysis/quizzes/recording-calls/phases.svg")
    assert chart.mimetype == "image/svg+xml" and "Lisboa CS" in chart.get_data(as_text=True)
    assert "<script" not in chart.get_data(as_text=True)


def test_a_key_fix_changes_nothing_until_regrade(app, quiz, tmp_path: Path, runner, client, login_as):
    org = factories.organisation()
    attempt = _take(app, quiz, org, best_form)
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.passed
    drawn = {entry["item"] for entry in attempt.draw}
    # A trainer "fixes" the key of a drawn single-choice question and publishes the new version.
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    quiz_file = root / "quizzes" / "recording-calls.yaml"
    assert "verbal-sar" in drawn
    quiz_file.write_text(quiz_file.read_text().replace("    correct: b\n", "    correct: a\n", 1))
    load_content(root)
    db.session.commit()
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.passed and attempt.percent == 100.0  # past attempts keep their grade
    dry = runner.invoke(args=["lms", "attempts", "regrade", "recording-calls"])
    assert "1 attempt(s) would change" in dry.output and "Nothing was changed" in dry.output
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).percent == 100.0
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    page = client.get("/analysis/quizzes/recording-calls").get_data(as_text=True)
    assert "1 attempt would change score" in page  # singular: the page counts with the language's plurals
    client.post("/analysis/quizzes/recording-calls/regrade",
                data={"csrf_token": csrf_token(client, "/analysis/quizzes/recording-calls")})
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.percent < 100 and attempt.regraded_at is not None
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    assert attempt.graded_version_id == quiz.current_version_id != attempt.quiz_version_id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attempts.regraded")).one()
    assert event.data["changed"][0]["attempt"] == attempt.id and event.actor_id == trainer.id
