"""Draft services: publish one item, the same rules as content check, optimistic locking."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.authoring import drafts
from lms.authoring.models import Draft
from lms.certification.models import Programme
from lms.content import check_tree
from lms.extensions import db
from lms.learning.models import Course, CourseVersion, Quiz
from lms.learning.sync import ContentInvalid, load_content
from tests.authoring.conftest import FIXTURE, REPO

COURSE_YAML = "courses/recording-calls/course.yaml"
LESSON = "courses/recording-calls/02-telling-callers.md"


def test_open_draft_exports_the_published_version(app, content, trainer):
    draft = drafts.open_draft("course", "recording-calls", trainer)
    current = db.session.scalar(select(Course).where(Course.slug == "recording-calls")).current_version
    assert draft.base_hash == current.content_hash and draft.revision == 1
    assert set(draft.files) == {COURSE_YAML, "courses/recording-calls/01-choosing-the-basis.md", LESSON}
    assert [image.path for image in draft.images] == ["courses/recording-calls/img/headset.png"]
    assert drafts.open_draft("course", "recording-calls", trainer).id == draft.id  # one draft per item
    with pytest.raises(LookupError):
        drafts.open_draft("course", "nope", trainer)


def test_publish_makes_a_version_and_an_audit_event_and_archives_nothing(app, trainer):
    load_content(REPO)
    db.session.commit()
    draft = drafts.open_draft("course", "recording-calls", trainer)
    text = draft.files[COURSE_YAML].replace("estimated_minutes: ", "estimated_minutes: 1", 1)
    drafts.save_files(draft, {COURSE_YAML: text}, 1, trainer)
    version = drafts.publish(draft, trainer, material_change=True)
    db.session.commit()

    course = db.session.scalar(select(Course).where(Course.slug == "recording-calls"))
    assert course.current_version_id == version.id
    assert len(db.session.scalars(select(CourseVersion).where(CourseVersion.course_id == course.id)).all()) == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "content.published"))
    assert event.actor_id == trainer.id and event.target_id == str(version.id)
    assert event.data["content_hash"] == version.content_hash and event.data["material_change"] is True
    for model in (Course, Quiz, Programme):
        assert all(row.archived_at is None for row in db.session.scalars(select(model)))
    assert db.session.scalars(select(Draft)).all() == []  # the draft is closed


def test_check_draft_reports_what_content_check_reports(app, content, trainer, tmp_path):
    draft = drafts.open_draft("course", "recording-calls", trainer)
    broken_lesson = draft.files[LESSON].replace("phase: during", "phase: lunch") + "\n<script>alert(1)</script>\n"
    broken_course = draft.files[COURSE_YAML].replace("quiz: recording-calls", "quiz: no-such-quiz") + "colour: blue\n"
    drafts.save_files(draft, {LESSON: broken_lesson, COURSE_YAML: broken_course}, 1, trainer)

    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    (root / LESSON).write_text(broken_lesson, encoding="utf-8")
    (root / COURSE_YAML).write_text(broken_course, encoding="utf-8")
    expected = [str(p) for p in check_tree(root) if p.path.startswith("courses/recording-calls/")]

    found = [str(p) for p in drafts.check_draft(draft)]
    assert found == expected
    assert len(found) >= 4  # unknown field, missing quiz, bad phase, raw HTML
    with pytest.raises(ContentInvalid):
        drafts.publish(draft, trainer)
    assert drafts.find_draft("course", "recording-calls") is not None


def test_a_save_on_a_stale_revision_is_a_conflict_and_overwrites_nothing(app, content, trainer):
    other = drafts.open_draft("course", "recording-calls", trainer)
    first = other.files[COURSE_YAML].replace("Recording calls lawfully", "First trainer's title")
    drafts.save_files(other, {COURSE_YAML: first}, 1, trainer)
    with pytest.raises(drafts.DraftConflict) as raised:
        drafts.save_files(other, {COURSE_YAML: first.replace("First", "Second")}, 1, trainer)
    assert raised.value.current.revision == 2
    assert raised.value.changes[0].path == COURSE_YAML
    assert {row.text for row in raised.value.changes[0].rows if row.kind == "insert"} == {"title: First trainer's title"}
    assert db.session.get(Draft, other.id).files[COURSE_YAML] == first


def test_a_draft_only_holds_its_own_files(app, content, trainer):
    draft = drafts.open_draft("course", "recording-calls", trainer)
    for path in ("quizzes/recording-calls.yaml", "courses/other/course.yaml", "courses/recording-calls/../x.md",
                 "courses/recording-calls/img/x.png"):
        with pytest.raises(drafts.DraftError):
            drafts.save_files(draft, {path: "x"}, draft.revision, trainer)
    with pytest.raises(drafts.DraftError):
        drafts.new_draft("course", "recording-calls", trainer, {})  # taken by the published course
    with pytest.raises(drafts.DraftError):
        drafts.new_draft("course", "Bad Slug", trainer, {})


def test_a_new_course_is_checked_against_published_quizzes(app, content, trainer):
    draft = drafts.new_draft("course", "fresh", trainer, {"courses/fresh/course.yaml": "title: Fresh\n"})
    messages = [str(p) for p in drafts.check_draft(draft)]
    assert any("courses/fresh/course.yaml:1: " in m and "summary" in m for m in messages)
    assert all(m.startswith("courses/fresh/") for m in messages)  # the published content is not reported


def test_loading_the_files_keeps_what_was_published_in_the_browser(app, trainer, runner):
    """The files and the browser are two doors: a deployment's `content load` must not silently
    archive a course created in the browser or undo an edit published there."""
    load_content(REPO)
    db.session.commit()
    edited = drafts.open_draft("course", "recording-calls", trainer)
    text = edited.files[COURSE_YAML].replace("estimated_minutes: ", "estimated_minutes: 1", 1)
    drafts.save_files(edited, {COURSE_YAML: text}, 1, trainer)
    edited_version = drafts.publish(edited, trainer)
    created = drafts.new_draft("course", "browser-only", trainer, {
        path.replace("recording-calls", "browser-only"): body for path, body in
        drafts.open_draft("course", "recording-calls", trainer).files.items()})
    created_version = drafts.publish(created, trainer)
    db.session.commit()

    result = runner.invoke(args=["lms", "content", "load", str(REPO)])
    assert result.exit_code == 0, result.output
    assert "Kept 2 item(s) as published in the browser" in result.output
    assert f"kept     course recording-calls {edited_version.content_hash[:12]} (the files differ)" in result.output
    assert "kept     course browser-only" in result.output and "(not in the files)" in result.output
    db.session.expire_all()
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    assert courses["recording-calls"].current_version_id == edited_version.id
    assert courses["browser-only"].archived_at is None
    assert courses["browser-only"].current_version_id == created_version.id

    # Asked to, the files win: the edit is replaced and the browser-only course archived (never deleted).
    result = runner.invoke(args=["lms", "content", "load", str(REPO), "--files-win"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    assert courses["recording-calls"].current_version_id != edited_version.id
    assert courses["browser-only"].archived_at is not None
