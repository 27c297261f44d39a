"""Published course versions as the reading pages show them, built once per process.

A course version is never edited (a change on disk or in the browser makes a new one, named by
the hash of its content), so what its lessons render to cannot change either. The course list,
a course's page and a lesson page were reading every lesson row of the version, JSON columns and
Markdown bodies included, and rendering the lesson's Markdown, on every request: most of their
time (bench/README.md, "#17 pages"). Here a version is read and its lessons rendered the first
time a process shows it; afterwards a page asks the database only which versions are current,
in one small query, so that a newly published or archived course shows at once.

The objects carry the attribute names of the ORM rows (`version.course.slug`, `lesson.key`,
`version.lessons`), so that templates and services read either. Each is in one language: the
reader's, when the course has a translation to show them (lms/learning/translated.py), with the
translated lessons' sections keeping the source's ids.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app, request, url_for
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from lms import plain_rows
from lms.content import render_markdown
from lms.content.markdown import section_anchors
from lms.content.translations import text_or
from lms.extensions import db
from lms.learning import translated
from lms.learning.models import Course, CourseVersion


@dataclass(frozen=True)
class CourseRef:
    """The course a version belongs to, as `version.course` on the ORM row."""

    id: int
    slug: str


@dataclass(frozen=True)
class PublishedLesson:
    """One lesson of a published version, with its Markdown already rendered and sanitised."""

    key: str
    title: str
    phase: str
    minutes: int
    references: tuple[str, ...]
    key_points: tuple[str, ...]
    html: Markup


@dataclass(frozen=True)
class PublishedCourse:
    """One published course version: what the reading pages show of it."""

    id: int  # the version's id
    course_id: int
    course: CourseRef
    content_hash: str
    title: str
    summary: str
    audience: str
    estimated_minutes: int
    phases: tuple[str, ...]
    quiz_slug: str | None
    key_points: tuple[str, ...]
    lessons: tuple[PublishedLesson, ...]
    language: str = translated.SOURCE.language  # of the text shown
    notice: translated.Notice | None = None     # see translated.Shown

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    def lesson_index(self, key: str) -> int | None:
        """The 0-based position of the lesson with this key, or None."""
        return next((i for i, lesson in enumerate(self.lessons) if lesson.key == key), None)


# The current version of every course that is not archived: ids and hashes only.
_CURRENT = (select(Course.id, Course.slug, CourseVersion.id.label("version_id"), CourseVersion.content_hash)
            .join(CourseVersion, CourseVersion.id == Course.current_version_id)
            .where(Course.archived_at.is_(None)))


_CURRENT_ONE = _CURRENT.where(Course.slug == bindparam("slug"))


def current_courses() -> list[PublishedCourse]:
    """Every course that is not archived, at its current version, by title, in the reader's language."""
    return sorted(_published(plain_rows.rows(_CURRENT)), key=lambda course: course.title)


def current_course(slug: str) -> PublishedCourse | None:
    """The course with this slug at its current version, or None if there is none (or it is
    archived), in the reader's language."""
    courses = _published(plain_rows.rows(_CURRENT_ONE, {"slug": slug}))
    return courses[0] if courses else None


def _published(rows: Sequence) -> list[PublishedCourse]:
    """The PublishedCourse of each (course id, slug, version id, hash) row: from this process's
    cache, or read and rendered now. Keyed by what the rendered page depends on: the version and
    its hash, the course's slug and the app's URL prefix (both in the image addresses), and the
    translation shown."""
    cache: dict[tuple, PublishedCourse] = current_app.extensions.setdefault("lms.published_courses", {})
    shown = translated.shown_many("course", {row.slug: row.content_hash for row in rows})
    courses = []
    for row in rows:
        how = shown[row.slug]
        key = (row.version_id, row.content_hash, row.slug, request.script_root, how)
        course = cache.get(key)
        if course is None:
            # A course's earlier versions (and translations) are shown no more: forget them, so
            # that the cache holds the current ones only, however often trainers publish.
            for stale in [k for k in list(cache) if k[2] == row.slug and k[3] == key[3]
                          and (k[0], k[1]) != (row.version_id, row.content_hash)]:
                cache.pop(stale, None)
            course = cache[key] = _build(row.version_id, how)
        courses.append(course)
    return courses


def _build(version_id: int, shown: translated.Shown) -> PublishedCourse:
    version = db.session.scalar(select(CourseVersion).where(CourseVersion.id == version_id)
                                .options(selectinload(CourseVersion.lessons), selectinload(CourseVersion.course)))
    slug, short_hash = version.course.slug, version.short_hash

    def image_url(path: str) -> str:
        return url_for("learning.asset", slug=slug, version_hash=short_hash, path=path)

    text = translated.shown_text(shown)
    lesson_texts = text.get("lessons") or {}

    def lesson_of(lesson) -> PublishedLesson:
        mine = lesson_texts.get(lesson.key) or {}
        body = text_or(mine, "body", lesson.body)
        anchors = section_anchors(lesson.body) if body is not lesson.body else None
        return PublishedLesson(
            key=lesson.key, title=text_or(mine, "title", lesson.title), phase=lesson.phase,
            minutes=lesson.minutes, references=tuple(lesson.references),
            key_points=text_or(mine, "key_points", lesson.key_points),
            html=Markup(render_markdown(body, image_url=image_url, anchors=anchors)))

    return PublishedCourse(
        id=version.id, course_id=version.course_id, course=CourseRef(version.course_id, slug),
        content_hash=version.content_hash, title=text_or(text, "title", version.title),
        summary=text_or(text, "summary", version.summary), audience=text_or(text, "audience", version.audience),
        estimated_minutes=version.estimated_minutes, phases=tuple(version.phases), quiz_slug=version.quiz_slug,
        key_points=text_or(text, "key_points", version.key_points),
        lessons=tuple(lesson_of(lesson) for lesson in version.lessons),
        language=shown.language, notice=shown.notice)
