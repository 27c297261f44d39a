"""What the pages agents read most cost, and that the shortcuts behind them show the truth (#17).

bench/pages.py measures their speed; here their SQL statements are counted (through
SQLAlchemy and on the driver's cursor) so that they cannot quietly grow back, and the
per-process caches are shown to follow what is current: a new version of a course, an
archived course, the app mounted under a path.
"""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.certification import services as certification
from lms.extensions import db
from lms.learning.models import Course
from lms.learning.sync import load_content
from tests import factories
from tests.conftest import csrf_token
from tests.evidence.test_certificate_download import statements

FIXTURE = Path(__file__).resolve().parent / "content" / "fixtures" / "valid"
LESSON = "/courses/recording-calls/lessons/choosing-the-basis"


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture
def agent_client(app: Flask, client: FlaskClient, login_as, content_root: Path) -> FlaskClient:
    """A signed-in agent, after a first page (which puts the CSRF secret into the session)."""
    load_content(content_root)
    factories.organisation()  # an organisation besides the agent's own, as in any deployment
    person = factories.user(Role.AGENT)
    db.session.commit()
    login_as(person)
    assert client.get("/").status_code == 200
    return client


def counted(client: FlaskClient, path: str, status: int = 200) -> tuple[list[str], str]:
    """The statements a second request for `path` runs (the first warms the caches), and its page."""
    assert client.get(path).status_code == status
    with statements() as seen:
        response = client.get(path)
        html = response.get_data(as_text=True)
    assert response.status_code == status, html[:300]
    return seen, html


def reads_lessons(seen: list[str]) -> bool:
    return any(re.search(r"\b(FROM|JOIN) lesson\b", sql) for sql in seen)


def test_a_signed_in_404_reads_only_the_session(agent_client):
    seen, html = counted(agent_client, "/no-such-page", 404)
    assert "Page not found" in html and "Sign out" in html  # the agent is signed in on it
    assert len(seen) == 1, seen  # the session and its user, in one statement


def test_the_course_list_reads_no_lesson_rows_after_the_first_time(agent_client):
    seen, html = counted(agent_client, "/courses")
    assert "Recording calls lawfully" in html and "2 lessons" in html
    assert not reads_lessons(seen), seen
    assert len(seen) == 3, seen  # the session, the current versions, the agent's reading


def test_the_lesson_page_renders_its_markdown_once_per_version(agent_client, content_root):
    seen, html = counted(agent_client, LESSON)
    assert ">Why a basis is needed (Art. 6(1))</h2>" in html and "Recital 47" in html
    assert '<td align="right">' in html  # the Markdown table, rendered and sanitised as before
    assert not reads_lessons(seen), seen
    assert len(seen) == 4, seen  # the session, the current version, the agent's reading, the country's note

    # A changed lesson is a new version: the page shows it at once, and only it.
    path = content_root / "courses" / "recording-calls" / "01-choosing-the-basis.md"
    path.write_text(path.read_text().replace("Why a basis is needed", "Why every recording needs a basis"))
    load_content(content_root)
    db.session.commit()
    html = agent_client.get(LESSON).get_data(as_text=True)
    assert "Why every recording needs a basis" in html and "Why a basis is needed" not in html
    cached = agent_client.application.extensions["lms.published_courses"]
    assert [key[2] for key in cached].count("recording-calls") == 1  # the earlier version is forgotten


def test_an_archived_course_is_gone_at_once(agent_client):
    assert agent_client.get(LESSON).status_code == 200
    course = db.session.query(Course).filter_by(slug="recording-calls").one()
    course.archived_at = datetime.now(timezone.utc)
    db.session.commit()
    assert agent_client.get(LESSON).status_code == 404
    assert agent_client.get("/courses/recording-calls").status_code == 404
    assert "Recording calls lawfully" not in agent_client.get("/courses").get_data(as_text=True)


def test_the_quiz_question_page_runs_three_statements(agent_client):
    token = csrf_token(agent_client, "/quizzes/recording-calls")
    start = agent_client.post("/quizzes/recording-calls/start", data={"csrf_token": token})
    question = re.search(r"/attempts/\d+/questions/1$", start.headers["Location"])
    assert question, start.headers["Location"]
    seen, html = counted(agent_client, question.group(0))
    assert "Question 1 of" in html and 'name="csrf_token"' in html
    assert len(seen) == 3, seen  # the session, the attempt with its quiz version, its answers


def test_layout_addresses_follow_the_mount_point(agent_client):
    """The layout's fixed addresses are kept per process, but per mount point (SCRIPT_NAME)."""
    at_root = agent_client.get("/courses").get_data(as_text=True)
    mounted = agent_client.get("/courses", base_url="http://localhost/academy").get_data(as_text=True)
    assert 'href="/static/css/app.css"' in at_root and 'href="/courses"' in at_root
    assert 'href="/academy/static/css/app.css"' in mounted and 'href="/academy/courses"' in mounted
    assert 'href="/static/css/app.css"' not in mounted



def test_the_agent_home_reads_each_programmes_requirements_in_two_statements(agent_client):
    agent = db.session.scalar(select(User).where(User.role == Role.AGENT))
    certification.assign(None, factories.programme(), organisation_id=agent.organisation_id, due_days=14)
    db.session.commit()
    seen, html = counted(agent_client, "/")
    assert "Recorded lines certification" in html and "0 of 2 requirements done" in html
    # The session, the status of each enrolment, the enrolments with their programmes, the
    # courses with their lessons and reading, the quizzes with their attempts, the awards.
    assert len(seen) == 6, seen
    assert sum("lesson_progress" in sql for sql in seen) == 1 and sum("FROM attempt" in sql or "JOIN attempt" in sql
                                                                       for sql in seen) == 1, seen
