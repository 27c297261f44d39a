"""What an agent sees: courses, lessons, lesson images and job aids."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask

from lms.accounts.models import Role
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.conftest import csrf_token

FIXTURE = Path(__file__).resolve().parent.parent / "content" / "fixtures" / "valid"


@pytest.fixture
def agent(app: Flask, client, login_as):
    load_content(PROJECT_ROOT)
    person = factories.user(Role.AGENT)
    db.session.commit()
    login_as(person)
    return person


def test_agent_sees_the_five_courses(client, agent):
    html = client.get("/courses").get_data(as_text=True)
    for title in ("GDPR essentials", "Recording calls lawfully", "Handling requests",
                  "Security before, during and after the call", "Outsourcing partners"):
        assert title in html, title


def test_the_course_list_counts_the_lessons_each_agent_has_read(client, agent):
    detail = client.get("/courses/handling-requests").get_data(as_text=True)
    lessons = list(dict.fromkeys(re.findall(r'href="(/courses/handling-requests/lessons/[a-z0-9-]+)"', detail)))
    for lesson in lessons[:2]:
        reply = client.post(f"{lesson}/complete", data={"csrf_token": csrf_token(client, lesson)})
        assert reply.status_code == 302
    html = client.get("/courses").get_data(as_text=True)
    card = html[html.index('href="/courses/handling-requests"'):]
    card = card[:card.index("</article>")]
    assert "6 lessons" in card and "2 read" in card
    assert '<progress value="2" max="6" aria-label="2 of 6 lessons read">' in card
    assert html.count("<progress") == 1  # the courses not started show no count and no bar


def test_lesson_page_shows_progress_key_points_and_references(client, agent):
    html = client.get("/courses/handling-requests/lessons/recognising-requests").get_data(as_text=True)
    assert "Lesson 2 of 6" in html and '<progress value="2" max="6"' in html
    assert "Key points" in html and "References:" in html and "Art. 12(3)" in html
    assert 'rel="prev"' in html and "Mark as read and continue" in html


def test_unknown_course_and_lesson_are_404(client, agent):
    assert client.get("/courses/no-such-course").status_code == 404
    assert client.get("/courses/handling-requests/lessons/no-such-lesson").status_code == 404


def test_answer_keys_never_reach_the_course_pages(client, agent):
    html = client.get("/courses/recording-calls").get_data(as_text=True)
    assert "correct" not in html.lower().replace("correction", "")


def test_job_aids_are_searchable(client, agent):
    html = client.get("/job-aids?q=card+number").get_data(as_text=True)
    assert "card number on a recorded line" in html
    html = client.get("/job-aids?q=zebra+crossing").get_data(as_text=True)
    assert "No card matches" in html
    card = client.get("/job-aids/card-number-on-a-recorded-line").get_data(as_text=True)
    assert "<ol>" in card and "Art. 32" in card
    # The search box is on every page.
    assert 'role="search"' in client.get("/courses").get_data(as_text=True)


@pytest.fixture
def lesson_html(app: Flask, client, login_as, tmp_path: Path) -> str:
    """The fixture course's lesson with an image, as a signed-in agent sees it."""
    root = tmp_path / "fixture"
    shutil.copytree(FIXTURE, root)
    load_content(root)
    person = factories.user(Role.AGENT)
    db.session.commit()
    login_as(person)
    return client.get("/courses/recording-calls/lessons/telling-callers").get_data(as_text=True)


def test_lesson_images_are_served_from_the_stored_version(client, lesson_html):
    body = lesson_html[lesson_html.index('class="lesson-body"'):]
    src = re.search(r'<img[^>]+src="([^"]+)"', body)
    assert src, "the lesson's image is not on the page"
    image = client.get(src.group(1))
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image.headers["Content-Security-Policy"]


def test_asset_addresses_match_the_version_exactly_not_as_a_pattern(client, lesson_html):
    src = re.search(r'src="(/courses/recording-calls/v/([0-9a-f]+)/([^"]+))"', lesson_html)
    real, version, path = src.groups()
    assert client.get(real).status_code == 200
    # "_" and "%" were LIKE wildcards: each matched any version (found by an outside test).
    for guess in ("%25", "_", "%25" * 12, "_" * 12, "%25" + "_" * 11, version[:11] + "_", version[:6] + "%25" + "0" * 6,
                  version[:12].upper(), "0" * 12):
        assert client.get(f"/courses/recording-calls/v/{guess}/{path}").status_code == 404, guess


def test_searches_treat_underscore_and_percent_as_text(app: Flask, client, login_as):
    admin = factories.user(Role.ADMIN, name="Ada Admin")
    factories.user(Role.AGENT, name="Bea Agent", email="bea@example.org")
    db.session.commit()
    login_as(admin)
    assert "Bea Agent" in client.get("/admin/users?q=bea").get_data(as_text=True)
    for pattern in ("_", "%", "b_a"):
        assert "Bea Agent" not in client.get("/admin/users", query_string={"q": pattern}).get_data(as_text=True)
    assert "Bea Agent" not in client.get("/dashboard", query_string={"q": "%"}).get_data(as_text=True)
