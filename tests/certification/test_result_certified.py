"""The pass that completes a programme says so on its result page, with the certificate (#19)."""
from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment.models import Attempt
from lms.certification import services
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz


def _agent_who_passed(content, *, read_course: bool):
    agent = factories.user(Role.AGENT)
    services.assign(None, make_programme(), organisation_id=agent.organisation_id, due_days=14)
    if read_course:
        _read_course(agent)
    db.session.commit()
    _take_quiz(agent, content, best_form)
    db.session.commit()
    return agent, db.session.scalars(select(Attempt).where(Attempt.user_id == agent.id)).one()


def test_the_pass_that_completes_the_programme_says_you_are_certified(client, login_as, content, at):
    agent, attempt = _agent_who_passed(content, read_course=True)
    login_as(agent)

    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)

    assert "You are certified" in page
    award = services.awards_earned_by(agent, attempt=attempt)[0]
    assert f'href="/awards/{award.id}/certificate.pdf"' in page


def test_a_pass_that_completes_nothing_yet_does_not(client, login_as, content, at):
    agent, attempt = _agent_who_passed(content, read_course=False)  # the course is still unread
    login_as(agent)

    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)

    assert attempt.passed and "You are certified" not in page


def test_scores_are_rounded_for_reading(client, login_as, content, at):
    agent, attempt = _agent_who_passed(content, read_course=False)
    attempt.earned, attempt.possible, attempt.percent = 6.916666, 12.0, 57.6388
    db.session.commit()
    login_as(agent)

    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)

    assert "6.9 of 12 points" in page and "57.6%" in page and "6.91" not in page


def test_the_home_page_labels_a_course_and_its_quiz_apart(client, login_as, content, at):
    agent = factories.user(Role.AGENT)
    services.assign(None, make_programme(), organisation_id=agent.organisation_id, due_days=14)
    db.session.commit()
    login_as(agent)

    page = client.get("/").get_data(as_text=True)

    lines = [" ".join(line.split()) for line in page.split("<li>") if 'class="kind"' in line]
    assert any("Course:</span> Recording calls" in line for line in lines), lines
    assert any("Quiz:</span> Recording calls" in line for line in lines), lines
