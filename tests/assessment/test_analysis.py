"""Item analysis and regrading, as a trainer sees them."""
from __future__ import annotations

import re
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


def _fix_the_key(app, quiz, tmp_path: Path) -> Attempt:
    """An attempt graded 100%, then a "fixed" key of one of its questions published: it keeps its grade."""
    attempt = _take(app, quiz, factories.organisation(), best_form)
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.passed
    drawn = {entry["item"] for entry in attempt.draw}
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
    return attempt


REGRADE = "/analysis/quizzes/recording-calls/regrade"


def _regrade_form(client, **changes) -> dict:
    """What the confirmation page's form sends back: its CSRF token and version, and a reason."""
    html = client.get(REGRADE).get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1),
            "version": re.search(r'name="version"[^>]*value="([^"]+)"', html).group(1),
            "reason": "verbal-sar had option b as its key; the answer is a."}
    return data | changes


def test_a_key_fix_changes_nothing_until_regrade(app, quiz, tmp_path: Path, runner, client, login_as):
    attempt = _fix_the_key(app, quiz, tmp_path)
    dry = runner.invoke(args=["lms", "attempts", "regrade", "recording-calls"])
    assert "1 attempt(s) would change" in dry.output and "Nothing was changed" in dry.output
    no_reason = runner.invoke(args=["lms", "attempts", "regrade", "recording-calls", "--apply"])
    assert no_reason.exit_code == 2 and "--apply needs --reason" in no_reason.output
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).percent == 100.0
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    page = client.get("/analysis/quizzes/recording-calls").get_data(as_text=True)
    assert "1 attempt would change score" in page  # singular: the page counts with the language's plurals
    # The page's button is a link to the confirmation, not a form that regrades.
    assert f'href="{REGRADE}" role="button">Regrade 1 attempt with the current key…</a>' in page
    assert f'action="{REGRADE}"' not in page
    version = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls")).current_version.content_hash[:12]
    confirm = client.get(REGRADE).get_data(as_text=True)
    assert f'the current version (<span class="mono">{version}</span>). 1 attempt changes score.' in confirm
    new_percent = services.compute_grade(attempt, quiz.current_version).percent
    assert f"#{attempt.id}" in confirm and f"{new_percent}% " in confirm
    assert 'name="reason"' in confirm and "Keep the current grades" in confirm

    response = client.post(REGRADE, data=_regrade_form(client))
    assert response.status_code == 302 and response.location.endswith("/analysis/quizzes/recording-calls")
    flashed = client.get(response.location).get_data(as_text=True)
    assert f"Regraded with version {version}: 1 attempt changed score" in flashed
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.percent == new_percent < 100 and attempt.regraded_at is not None
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    assert attempt.graded_version_id == quiz.current_version_id != attempt.quiz_version_id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attempts.regraded")).one()
    assert event.data["changed"][0]["attempt"] == attempt.id and event.actor_id == trainer.id
    assert event.data["reason"] == "verbal-sar had option b as its key; the answer is a."
    # An auditor reads the reason in the log's sentence.
    auditor = factories.user(Role.AUDITOR)
    db.session.commit()
    reader = app.test_client()
    login(reader, auditor.email, factories.PASSWORD)
    log = reader.get("/audit/").get_data(as_text=True)
    assert (f"{trainer.name} regraded the quiz recording-calls (1 attempt changed): "
            "“verbal-sar had option b as its key; the answer is a.”") in log
    # Nothing is left to regrade: the confirmation says so and offers no button.
    again = client.get(REGRADE).get_data(as_text=True)
    assert "Regrading now would change nothing" in again and 'name="reason"' not in again


def test_a_regrade_needs_a_reason_and_keeps_what_was_typed(app, quiz, tmp_path: Path, client, login_as):
    attempt = _fix_the_key(app, quiz, tmp_path)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    for blank in ("", "   \n "):
        page = client.post(REGRADE, data=_regrade_form(client, reason=blank))
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'id="reason-error" class="field-error">Give the reason for regrading.' in html
        assert 'aria-invalid="true"' in html and 'class="error-summary"' in html
    too_long = "The key of verbal-sar was wrong. " * 40
    html = client.post(REGRADE, data=_regrade_form(client, reason=too_long)).get_data(as_text=True)
    assert "Field cannot be longer than 1000 characters." in html and too_long.strip() in html
    # A version published after the page was shown: nothing happens, the reason stays in the box.
    html = client.post(REGRADE, data=_regrade_form(client, version="0123456789ab", reason="Wrong key")) \
        .get_data(as_text=True)
    assert "A new version of the quiz was published after you opened this page" in html
    assert re.search(r"<textarea[^>]*name=\"reason\"[^>]*>\s*Wrong key</textarea>", html)
    # Without its CSRF token, a POST is refused.
    form = _regrade_form(client)
    del form["csrf_token"]
    assert client.post(REGRADE, data=form).status_code == 400
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).percent == 100.0
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attempts.regraded")).all()


def test_only_trainers_and_admins_regrade(app, quiz, tmp_path: Path, client):
    attempt = _fix_the_key(app, quiz, tmp_path)
    people = {role: factories.user(role) for role in (Role.TRAINER, Role.AGENT, Role.AUDITOR, Role.PARTNER_ADMIN)}
    db.session.commit()
    login(client, people.pop(Role.TRAINER).email, factories.PASSWORD)
    form = _regrade_form(client)
    for person in people.values():
        other = app.test_client()
        login(other, person.email, factories.PASSWORD)
        assert other.get(REGRADE).status_code == 403
        assert other.post(REGRADE, data=form | {"csrf_token": csrf_token(other, "/account/security")}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).percent == 100.0
