"""Published content. A version row is never edited: a change on disk makes a new one.

Attempts and certificates will point at the exact CourseVersion / QuizVersion
they used, so old versions stay for as long as the records that cite them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, now
from lms.extensions import db


class Course(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_version.id", use_alter=True, name="fk_course_current_version_id_course_version"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current_version: Mapped[CourseVersion | None] = relationship(foreign_keys=[current_version_id],
                                                                  post_update=True)


class CourseVersion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(Text)
    estimated_minutes: Mapped[int] = mapped_column(Integer)
    phases: Mapped[list] = mapped_column(JSON)
    quiz_slug: Mapped[str | None] = mapped_column(String(100))
    key_points: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Set when a trainer published this version in the browser (lms/authoring/drafts.publish): then a
    # load from the files keeps it as current. NULL: it came from the content files.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    material_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    course: Mapped[Course] = relationship(foreign_keys=[course_id])
    lessons: Mapped[list[Lesson]] = relationship(order_by="Lesson.position", back_populates="course_version")

    __table_args__ = (UniqueConstraint("course_id", "content_hash"),)

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


class Lesson(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(100))
    # The lesson's file name in the course folder: part of the content hash, so an export needs it.
    # None only on rows loaded before it was kept.
    file: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(10))
    minutes: Mapped[int] = mapped_column(Integer)
    references: Mapped[list] = mapped_column(JSON)
    key_points: Mapped[list] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)  # Markdown; rendered and sanitised on the way out

    course_version: Mapped[CourseVersion] = relationship(back_populates="lessons")

    __table_args__ = (UniqueConstraint("course_version_id", "key"),)


class CourseAsset(db.Model):
    """An image a lesson references, copied into the version so the version stays whole."""

    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    course_version: Mapped[CourseVersion] = relationship()

    __table_args__ = (UniqueConstraint("course_version_id", "path"),)


class Quiz(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_version.id", use_alter=True, name="fk_quiz_current_version_id_quiz_version"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current_version: Mapped[QuizVersion | None] = relationship(foreign_keys=[current_version_id],
                                                              post_update=True)


class QuizVersion(db.Model):
    """A quiz bank as published: the full parsed spec (answer keys included) as JSON."""

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Set when a trainer published this version in the browser (lms/authoring/drafts.publish): then a
    # load from the files keeps it as current. NULL: it came from the content files.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    material_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    quiz: Mapped[Quiz] = relationship(foreign_keys=[quiz_id])

    __table_args__ = (UniqueConstraint("quiz_id", "content_hash"),)


class JobAid(db.Model):
    """A quick-reference card. Not evidence, so it is updated in place (its hash says when)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(10))
    tags: Mapped[list] = mapped_column(JSON)
    references: Mapped[list] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)  # lower-cased title, tags and body
    content_hash: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CountryNote(db.Model):
    """The national rules of one country (courses/_country-notes/). Guidance, not evidence,
    so it is updated in place like a job aid."""

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), unique=True)  # ISO 3166-1 alpha-2, upper case
    title: Mapped[str] = mapped_column(String(200))
    references: Mapped[list] = mapped_column(JSON)
    lessons: Mapped[list] = mapped_column(JSON)  # "course-slug/lesson-id" of the lessons it concerns
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LessonProgress(db.Model):
    """A lesson an agent has finished, by lesson id: it carries over to new versions of the course."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    lesson_key: Mapped[str] = mapped_column(String(100))
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id"))  # the version read
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    __table_args__ = (UniqueConstraint("user_id", "course_id", "lesson_key"),)


class ContentTranslation(db.Model):
    """A course, quiz, job aid or programme's text in another language, as loaded from the files
    beside its source (lms/content/translations.py) or saved in authoring's side-by-side editor.
    A row is never edited: changed text makes a new row, so that an attempt keeps the exact words
    it was shown. `current` marks the one readers are shown, per item and language: the files'
    text, or a trainer's that the files have not caught up with (lms/learning/sync.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))      # course, quiz, job_aid, programme
    slug: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))
    translation_of: Mapped[str] = mapped_column(String(64))  # the source's content hash
    if_stale: Mapped[str] = mapped_column(String(20))  # what readers see once the source moves on
    text: Mapped[dict] = mapped_column(JSON)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Who saved it in the browser (lms/authoring/translations.py); NULL: it came from the files.
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    edited_by: Mapped[User | None] = relationship(foreign_keys=[edited_by_id])

    __table_args__ = (UniqueConstraint("kind", "slug", "language", "content_hash"),
                      Index("ix_content_translation_current", "kind", "slug", "language", "current"))
