"""Agents read and are assessed in their language when the content has a translation (#19).

The shipped content is loaded as `make run` loads it: gdpr-essentials and the job aids have
French, Spanish, Portuguese and Arabic translations beside their sources; the other courses have none.
"""
from __future__ import annotations

import re

import yaml
from sqlalchemy import select

from lms.assessment import services
from lms.assessment.models import Attempt
from lms.config import PROJECT_ROOT
from lms.content.markdown import section_anchors
from lms.extensions import db
from lms.learning.models import ContentTranslation, Course, Quiz
from lms.learning.sync import load_content
from tests import factories
from tests.assessment.conftest import best_form
from tests.conftest import csrf_token


def _pt(path: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / path).read_text(encoding="utf-8"))


def test_every_shipped_translation_is_loaded_and_current(courses):
    rows = db.session.scalars(select(ContentTranslation).where(ContentTranslation.current.is_(True))).all()
    by_kind = {(row.kind, row.language) for row in rows}
    for language in ("fr", "es", "pt", "ar"):
        assert {("course", language), ("quiz", language), ("job_aid", language)} <= by_kind
    assert sum(row.kind == "job_aid" and row.language == "fr" for row in rows) == 23


def test_a_portuguese_agent_reads_gdpr_essentials_in_portuguese_with_the_sources_section_links(
        client, login_as, courses, agent_speaking):
    login_as(agent_speaking("pt"))
    title = _pt("courses/gdpr-essentials/course.pt.yaml")["title"]

    listing = client.get("/courses").get_data(as_text=True)
    assert title in listing and "GDPR essentials for contact centres" not in listing

    lesson = client.get("/courses/gdpr-essentials/lessons/principles").get_data(as_text=True)
    assert "Seis princípios" in lesson or "princípios" in lesson
    assert "Six principles you use on every call" not in lesson
    # A quiz item's "reread" link names the source's section id: the Portuguese headings carry it.
    source = db.session.scalar(select(Course).where(Course.slug == "gdpr-essentials")).current_version
    principles = next(each for each in source.lessons if each.key == "principles")
    for anchor in section_anchors(principles.body):
        assert f'id="{anchor}"' in lesson
    assert "language-notice" not in lesson  # it is in the reader's language: nothing to explain


def test_a_course_without_a_translation_says_so_and_marks_its_language(client, login_as, courses, agent_speaking):
    login_as(agent_speaking("pt"))
    page = client.get("/courses/handling-requests").get_data(as_text=True)
    assert "Este conteúdo ainda não está traduzido para a sua língua" in page
    assert re.search(r'<h1 dir="auto" lang="en">', page)


def test_the_attempt_stays_in_its_language_and_grades_like_the_source(client, login_as, courses, agent_speaking):
    agent = agent_speaking("ar")
    login_as(agent)
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "gdpr-essentials"))
    token = csrf_token(client, "/quizzes/gdpr-essentials")
    client.post("/quizzes/gdpr-essentials/start", data={"csrf_token": token})
    attempt = db.session.scalars(select(Attempt).where(Attempt.user_id == agent.id)).one()
    assert attempt.language == "ar" and attempt.translation_id is not None
    arabic = _pt("quizzes/gdpr-essentials.ar.yaml")["questions"]
    first = attempt.draw[0]["item"]
    page = client.get(f"/attempts/{attempt.id}/questions/1").get_data(as_text=True)
    assert " ".join(arabic[first]["prompt"].split())[:40] in " ".join(page.split())

    # The agent switches the interface to French mid-attempt: the questions stay in Arabic, and they are told.
    agent.language = "fr"
    db.session.commit()
    page = client.get(f"/attempts/{attempt.id}/questions/1").get_data(as_text=True)
    assert " ".join(arabic[first]["prompt"].split())[:40] in " ".join(page.split())
    assert "Cette tentative est en arabe" in page

    source = services.published(attempt.quiz_version).items
    for position, entry in enumerate(attempt.draw, start=1):
        client.post(f"/attempts/{attempt.id}/questions/{position}",
                    data={**best_form(source[entry["item"]], entry["shown"]), "action": "next", "csrf_token": token})
    client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": token})
    db.session.refresh(attempt)
    assert attempt.percent == 100.0 and attempt.passed
    assert quiz.current_version_id == attempt.quiz_version_id


def test_a_stale_translation_shows_the_source_unless_the_trainer_kept_it(client, login_as, courses, agent_speaking):
    agent = agent_speaking("fr")
    login_as(agent)
    row = db.session.scalar(select(ContentTranslation).where(
        ContentTranslation.kind == "course", ContentTranslation.slug == "gdpr-essentials",
        ContentTranslation.language == "fr", ContentTranslation.current.is_(True)))
    french_title = row.text["title"]
    row.current = False
    stale = factories.translation("course", "gdpr-essentials", "fr", row.text, translation_of="0" * 64)
    db.session.commit()

    page = client.get("/courses/gdpr-essentials").get_data(as_text=True)
    assert "GDPR essentials for contact centres" in page and french_title not in page
    assert "La traduction dans votre langue est en cours de mise à jour" in page

    stale.current = False
    factories.translation("course", "gdpr-essentials", "fr", row.text, translation_of="0" * 64,
                          if_stale="translation")
    db.session.commit()
    page = client.get("/courses/gdpr-essentials").get_data(as_text=True)
    assert french_title in page and "L’original anglais a changé depuis cette traduction" in page


def test_job_aids_are_found_and_read_in_the_agents_language(client, login_as, courses, agent_speaking):
    login_as(agent_speaking("fr"))
    french = (PROJECT_ROOT / "courses/_job-aids/stop-calling-me.fr.md").read_text(encoding="utf-8")
    title = yaml.safe_load(french.split("---\n")[1])["title"]

    found = client.get("/job-aids?q=démarchage").get_data(as_text=True)
    assert "/job-aids/stop-calling-me" in found
    page = client.get("/job-aids/stop-calling-me").get_data(as_text=True)
    assert title.replace("’", "&#39;") in page or title in page or "Arrêtez de m" in page
    assert "Stop the sales pitch at once" not in page


def test_a_translation_removed_from_the_files_is_no_longer_shown(app, courses, tmp_path):
    import shutil

    root = tmp_path / "content"
    for folder in ("courses", "quizzes", "programmes"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    for path in root.glob("courses/gdpr-essentials/*.es.*"):
        path.unlink()
    report = load_content(root)
    db.session.commit()
    assert "course gdpr-essentials in es" in report.archived
    assert db.session.scalar(select(ContentTranslation.current).where(
        ContentTranslation.kind == "course", ContentTranslation.language == "es")) is False


def test_the_agents_home_names_what_to_do_in_their_language(client, login_as, courses, agent_speaking):
    from lms.certification import services as certification

    agent = agent_speaking("pt")
    programme = factories.programme("essentials", requirements=[{"course": "gdpr-essentials"},
                                                                {"quiz": "gdpr-essentials", "min_score": 80}])
    certification.assign(None, programme, organisation_id=agent.organisation_id, due_days=14)
    db.session.commit()
    login_as(agent)

    home = " ".join(client.get("/").get_data(as_text=True).split())

    title = _pt("courses/gdpr-essentials/course.pt.yaml")["title"]
    quiz_title = _pt("quizzes/gdpr-essentials.pt.yaml")["title"]
    assert f"Curso:</span> {title}" in home and f"Questionário:</span> {quiz_title}" in home
    assert "GDPR essentials for contact centres" not in home
    assert "· Agente" in home  # the role in the header is in their language too
