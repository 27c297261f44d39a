"""Agents read the interface in their own language (lms/i18n.py, translations/agent)."""
from __future__ import annotations

import random

import pytest
from flask import Flask
from flask_babel import force_locale, ngettext
from sqlalchemy import select

from lms.assessment import services
from lms.extensions import db
from lms.learning.models import Quiz
from tests.conftest import login
from tests.factories import PASSWORD


def test_a_portuguese_agent_reads_the_courses_and_a_question_in_portuguese(client, login_as, courses, agent_speaking):
    agent = agent_speaking("pt")
    login_as(agent)
    html = client.get("/courses").get_data(as_text=True)
    assert '<html lang="pt"' in html and "<h1>Cursos</h1>" in html and "lições" in html
    assert "<h1>Courses</h1>" not in html
    # The plural follows the count of lessons, not the count read (0 would take the singular in pt).
    assert "0 de 6 lições lidas" in client.get("/courses/handling-requests").get_data(as_text=True)

    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    attempt = services.start_attempt(agent, quiz, random.Random(7))
    db.session.commit()
    page = client.get(f"/attempts/{attempt.id}/questions/1").get_data(as_text=True)
    assert "Pergunta 1 de" in page and "Rever todas as respostas" in page
    assert "Review all answers" not in page


def test_an_arabic_agent_gets_right_to_left_and_an_arabic_heading(client, login_as, courses, agent_speaking):
    login_as(agent_speaking("ar"))
    html = client.get("/courses").get_data(as_text=True)
    assert 'dir="rtl"' in html and "<h1>الدورات</h1>" in html


def test_each_reader_sees_the_phase_badges_in_their_language(app: Flask, courses, agent_speaking):
    pages = {}
    for language in ("pt", "en", "es", "pt"):  # one process, languages interleaved
        client = app.test_client()
        assert login(client, agent_speaking(language).email, PASSWORD).status_code == 302
        pages.setdefault(language, []).append(client.get("/courses").get_data(as_text=True))
    assert all('class="badge phase-before">Antes da chamada<' in page for page in pages["pt"])
    assert 'class="badge phase-before">Before the call<' in pages["en"][0]
    assert 'class="badge phase-before">Antes de la llamada<' in pages["es"][0]
    assert "Before the call" not in pages["pt"][1]


@pytest.mark.parametrize(("language", "one", "two"), [("en", "1 lesson", "2 lessons"), ("fr", "1 leçon", "2 leçons")])
def test_lesson_counts_take_the_plural_of_the_language(app: Flask, language, one, two):
    with app.test_request_context(), force_locale(language):
        counted = [ngettext("%(count)s lesson", "%(count)s lessons", n, count=n) for n in (1, 2)]
    assert counted == [one, two]
