"""Loading content: versions by hash, idempotent, archived not deleted, all or nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.audit.models import AuditEvent
from lms.config import PROJECT_ROOT
from lms.content import check_tree, parse_tree
from lms.extensions import db
from lms.learning.models import (  # noqa: I001
    ContentTranslation,
    Course, CountryNote, CourseAsset, CourseVersion, JobAid, Lesson, Quiz, QuizVersion,
)
from lms.learning.sync import ContentInvalid, load_content

FIXTURE = Path(__file__).resolve().parent.parent / "content" / "fixtures" / "valid"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the real content that a test may change."""
    root = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "courses", root / "courses")
    shutil.copytree(PROJECT_ROOT / "quizzes", root / "quizzes")
    return root


def test_the_real_curriculum_is_valid_and_complete():
    assert check_tree(PROJECT_ROOT) == []
    content, _ = parse_tree(PROJECT_ROOT)
    assert len(content.courses) == 6
    assert all(3 <= len(c.lessons) <= 6 for c in content.courses.values())
    items = [q for quiz in content.quizzes.values() for q in quiz.questions]
    questions = [q for q in items if q.type != "call_simulation"]
    simulations = [q for q in items if q.type == "call_simulation"]
    assert len(questions) >= 72
    for phase in ("before", "during", "after"):
        assert sum(q.phase == phase for q in questions) >= 20, phase
    assert all("Art." in q.explanation for q in items)
    assert len(simulations) >= 3
    assert len(content.job_aids) >= 10
    for course in content.courses.values():
        assert course.quiz in content.quizzes, course.slug
        for lesson in course.lessons:
            sections = lesson.body.split("\n## ")[1:]
            assert sections and all("Art." in s for s in sections), lesson.path


def test_load_is_idempotent_and_audited(app: Flask):
    first = load_content(PROJECT_ROOT)
    db.session.commit()
    # courses, quizzes, job aids, country notes, programmes, translations
    assert len(first.created) == 6 + 6 + _count(JobAid) + _count(CountryNote) + 3 + _count(ContentTranslation)
    versions = (_count(CourseVersion), _count(QuizVersion), _count(Lesson))
    second = load_content(PROJECT_ROOT)
    db.session.commit()
    assert second.created == [] and second.unchanged == len(first.created)
    assert (_count(CourseVersion), _count(QuizVersion), _count(Lesson)) == versions
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "content.loaded")).all()
    assert len(events) == 2 and len(events[0].data["created"]) == len(first.created)


def test_a_change_makes_a_new_version_and_keeps_the_old(app: Flask, tree: Path):
    load_content(tree)
    db.session.commit()
    course = db.session.scalar(select(Course).where(Course.slug == "recording-calls"))
    old = course.current_version
    lesson_file = next((tree / "courses" / "recording-calls").glob("02-*.md"))
    lesson_file.write_text(lesson_file.read_text() + "\nOne more sentence for agents (Art. 13).\n")
    report = load_content(tree)
    db.session.commit()
    assert report.created == [f"course recording-calls {course.current_version.content_hash[:12]}"]
    assert course.current_version.id != old.id and old.content_hash != course.current_version.content_hash
    assert db.session.get(CourseVersion, old.id).lessons  # the old version is whole
    # Going back to the old text points at the old version again instead of making a third.
    lesson_file.write_text(lesson_file.read_text().replace("\nOne more sentence for agents (Art. 13).\n", ""))
    report = load_content(tree)
    db.session.commit()
    assert report.restored == [f"course recording-calls {old.content_hash[:12]}"]
    assert course.current_version_id == old.id
    assert _count(CourseVersion) == 7  # one per course, and the changed one's second


def test_a_removed_course_is_archived_not_deleted(app: Flask, tree: Path, client, login_as):
    from lms.accounts.models import Role
    from tests import factories

    load_content(tree)
    db.session.commit()
    shutil.rmtree(tree / "courses" / "outsourcing-transfers")
    (tree / "quizzes" / "outsourcing-transfers.yaml").unlink()
    # Country notes link to the course's lessons, and a link to a missing lesson is an error.
    shutil.rmtree(tree / "courses" / "_country-notes")
    report = load_content(tree)
    db.session.commit()
    assert set(report.archived) - {a for a in report.archived if a.startswith("country note ")} \
        == {"course outsourcing-transfers", "quiz outsourcing-transfers"}
    course = db.session.scalar(select(Course).where(Course.slug == "outsourcing-transfers"))
    assert course.archived_at is not None and course.current_version.lessons
    person = factories.user(Role.AGENT)
    db.session.commit()
    login_as(person)
    assert client.get("/courses/outsourcing-transfers").status_code == 404
    assert "Outsourcing partners" not in client.get("/courses").get_data(as_text=True)


def test_one_bad_file_loads_nothing_and_says_why(app: Flask, tree: Path, runner):
    quiz = tree / "quizzes" / "call-security.yaml"
    quiz.write_text(quiz.read_text().replace("pass_mark: 80", "pass_mark: 80\ncolour: blue", 1))
    with pytest.raises(ContentInvalid) as caught:
        load_content(tree)
    db.session.rollback()
    assert any(p.path == "quizzes/call-security.yaml" and "colour" in p.message for p in caught.value.problems)
    assert _count(CourseVersion) == 0 and _count(QuizVersion) == 0
    result = runner.invoke(args=["lms", "content", "load", str(tree)])
    assert result.exit_code == 1 and "Nothing was loaded" in result.output
    assert "quizzes/call-security.yaml:" in result.output


def test_content_check_cli(app: Flask, tree: Path, runner):
    ok = runner.invoke(args=["lms", "content", "check", str(tree)])
    assert ok.exit_code == 0, ok.output
    lesson = next((tree / "courses" / "call-security").glob("01-*.md"))
    lesson.write_text(lesson.read_text() + "\n<script>alert(1)</script>\n")
    bad = runner.invoke(args=["lms", "content", "check", str(tree)])
    assert bad.exit_code == 1
    assert f"courses/call-security/{lesson.name}:" in bad.output


def test_images_are_stored_with_the_version_and_checked_by_content(app: Flask, tmp_path: Path):
    root = tmp_path / "fixture"
    shutil.copytree(FIXTURE, root)
    load_content(root)
    db.session.commit()
    asset = db.session.scalars(select(CourseAsset)).first()
    assert asset is not None and asset.media_type == "image/png"
    png = next(root.glob("courses/*/img/*.png"))
    png.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    with pytest.raises(ContentInvalid) as caught:
        load_content(root)
    assert any("not a PNG or JPEG" in p.message for p in caught.value.problems)
