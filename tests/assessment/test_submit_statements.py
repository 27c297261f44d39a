"""Submitting an attempt: what it reads and writes (issue #13's performance work).

The attempt is graded and recorded as before; the statements are counted so that they
cannot quietly grow back (it ran twelve: the attempt was read again after winning the
update and after the commit, and finished_at had an UPDATE of its own).
"""
from __future__ import annotations

from sqlalchemy import select

from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.audit.models import AuditEvent
from lms.extensions import db
from tests.assessment.conftest import answer_all, best_form, start
from tests.conftest import csrf_token
from tests.evidence.test_certificate_download import statements


def test_submit_grades_records_and_runs_a_fixed_number_of_statements(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    attempt_id = attempt.id
    answer_all(client, attempt, best_form)
    token = csrf_token(client, f"/attempts/{attempt_id}/review")
    with statements() as seen:
        response = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token},
                               headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json() == {"submitted": True, "result": f"/attempts/{attempt_id}"}
    # Signing in; the attempt; the conditional update; its answers; the grade (attempt, then
    # answers); the quiz's slug and the organisation's xAPI identity, and the attempt's xAPI
    # statements in one INSERT (lms/xapi/outbox.py); the agent's enrolments; the audit event (two
    # statements on SQLite).
    assert len(seen) <= 11, "\n".join(seen)
    assert sum(sql.lstrip().upper().startswith("SELECT") for sql in seen) == 5, "\n".join(seen)
    db.session.expire_all()
    stored = db.session.get(Attempt, attempt_id)
    assert stored.status is AttemptStatus.SUBMITTED and stored.finished_at is not None and stored.passed
    assert stored.percent == 100.0 and stored.graded_version_id == stored.quiz_version_id
    answers = db.session.scalars(select(Answer).where(Answer.attempt_id == attempt_id)).all()
    assert answers and all(answer.earned is not None and answer.possible for answer in answers)
    submitted = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attempt.submitted")).one()
    assert (submitted.actor_id, submitted.target_type, submitted.target_id, submitted.data) == (
        agent.id, "attempt", str(attempt_id), {"percent": 100.0, "passed": True})
    assert submitted.actor_label == agent.email


def test_a_second_submit_changes_nothing_and_says_so(app, quiz, agent, client, login_as):
    login_as(agent)
    attempt = start(agent, quiz)
    attempt_id = attempt.id
    answer_all(client, attempt, best_form)
    token = csrf_token(client, f"/attempts/{attempt_id}/review")
    first = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token},
                        headers={"Accept": "application/json"})
    again = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token},
                        headers={"Accept": "application/json"})
    assert first.status_code == 200 and again.status_code == 409
    assert again.get_json() == {"submitted": False, "error": "This attempt was already submitted."}
    assert db.session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "attempt.submitted")
                             .order_by(AuditEvent.seq.desc()).offset(1)) is None  # one event
