"""Translations in authoring: which are out of date, the source beside its translation, and a
trainer's translation saved as a new current row.

A translation row (lms.learning.models.ContentTranslation) is never edited: saving makes a new
row marked current, made from the source published now, and names who saved it. The text is
stored as the content parser reads it from the files `translation_files` writes, so the trainer
can put those files beside the source and a later `content load` finds the same row (the same
hash) instead of undoing the save (lms/learning/sync.py keeps browser rows the files lag behind).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.audit.services import record
from lms.authoring.export import course_files, lesson_file_name, quiz_files
from lms.authoring.quiz_yaml import plain
from lms.authoring.translation_files import file_names, job_aid_file, read_back, translation_files
from lms.content.model import STALE_RULES
from lms.content.translation_fields import Field, Group, build_text, clean, fields, source_text, value_at
from lms.content.translations import SOURCE_LANGUAGE
from lms.extensions import db
from lms.learning.models import ContentTranslation, Course, CourseVersion, JobAid, Quiz, QuizVersion

KINDS = ("course", "quiz", "job_aid")  # what authoring translates (programmes: in their files)
State = Literal["current", "stale", "outdated", "missing"]


def target_languages() -> list[str]:
    """The languages content is translated into: the app's languages but the source's."""
    return [code for code in current_app.config["LANGUAGES"] if code != SOURCE_LANGUAGE]


# -- the source -----------------------------------------------------------------------------

@dataclass
class Source:
    """A course, quiz or job aid as published now: what a translation of it translates."""

    kind: str
    slug: str
    title: str
    content_hash: str
    # When the source took this text (None for a job aid: it is updated in place, without history).
    changed_at: datetime | None
    row: Any          # the Course, Quiz or JobAid row
    version: Any      # its current CourseVersion or QuizVersion (the JobAid row itself)

    @property
    def lesson_files(self) -> dict[str, str]:
        """A course's lesson id -> the lesson's file name, in reading order (other kinds: none)."""
        return {lesson.key: lesson_file_name(lesson) for lesson in self.version.lessons} \
            if self.kind == "course" else {}

    def text(self) -> dict[str, Any]:
        """The source's translatable text (lms.content.translation_fields.source_text)."""
        return _text_of(self.kind, self.version)

    def files(self) -> dict[str, str | bytes]:
        """The source's files in the content format, for checking a translation beside them."""
        if self.kind == "course":
            return course_files(self.version)
        if self.kind == "quiz":
            return quiz_files(self.version)
        aid = self.version
        return job_aid_file(aid.slug, {"title": aid.title, "phase": aid.phase, "tags": list(aid.tags),
                                       "references": list(aid.references)}, aid.body)


def _text_of(kind: str, version: Any) -> dict[str, Any]:
    if kind == "course":
        return source_text("course", {
            "title": version.title, "summary": version.summary, "audience": version.audience,
            "key_points": version.key_points,
            "lessons": [{"id": lesson.key, "title": lesson.title, "key_points": lesson.key_points,
                         "body": lesson.body} for lesson in version.lessons]})
    if kind == "quiz":
        return source_text("quiz", version.spec)
    return source_text("job_aid", {"title": version.title, "tags": version.tags, "body": version.body})


def _version_time(version: CourseVersion | QuizVersion) -> datetime:
    return version.published_at or version.created_at


def published_source(kind: str, slug: str) -> Source | None:
    """The item as published now, or None (unknown, archived or never published)."""
    if kind == "job_aid":
        aid = db.session.scalar(select(JobAid).where(JobAid.slug == slug, JobAid.archived_at.is_(None)))
        return None if aid is None else Source(kind, slug, aid.title, aid.content_hash, None, aid, aid)
    model = {"course": Course, "quiz": Quiz}[kind]
    row = db.session.scalar(select(model).options(joinedload(model.current_version))
                            .where(model.slug == slug, model.archived_at.is_(None)))
    if row is None or row.current_version is None:
        return None
    version = row.current_version
    return Source(kind, slug, version.title, version.content_hash, _version_time(version), row, version)


def earlier_text(source: Source, content_hash: str) -> dict[str, Any] | None:
    """The source's text in its version with `content_hash` (a stale translation's original), or
    None when the database does not hold it (job aids keep no earlier text)."""
    if source.kind == "job_aid":
        return None
    version_model, parent = {"course": (CourseVersion, CourseVersion.course_id),
                             "quiz": (QuizVersion, QuizVersion.quiz_id)}[source.kind]
    version = db.session.scalar(select(version_model).where(parent == source.row.id,
                                                            version_model.content_hash == content_hash))
    return None if version is None else _text_of(source.kind, version)


def current_translation(kind: str, slug: str, language: str) -> ContentTranslation | None:
    """The translation readers in `language` are shown now (stale or not), or None."""
    return db.session.scalar(select(ContentTranslation).options(joinedload(ContentTranslation.edited_by)).where(
        ContentTranslation.kind == kind, ContentTranslation.slug == slug,
        ContentTranslation.language == language, ContentTranslation.current.is_(True)))


def state_of(row: Any, source_hash: str) -> State:
    """Up to date, out of date (readers see the source), shown as outdated, or missing."""
    if row is None:
        return "missing"
    if row.translation_of == source_hash:
        return "current"
    return "outdated" if row.if_stale == "translation" else "stale"


# -- the overview ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    language: str
    state: State
    since: datetime | None  # when the source changed, for a translation that is out of date


@dataclass(frozen=True)
class OverviewRow:
    kind: str
    slug: str
    title: str
    cells: list[Cell]


def _sources(kind: str) -> list[tuple[str, str, str, datetime | None]]:
    """(slug, title, content hash, since when) of every published item of a kind: one query."""
    if kind == "job_aid":
        aids = db.session.execute(select(JobAid.slug, JobAid.title, JobAid.content_hash)
                                  .where(JobAid.archived_at.is_(None)).order_by(JobAid.title)).all()
        return [(aid.slug, aid.title, aid.content_hash, None) for aid in aids]
    model, version_model = {"course": (Course, CourseVersion), "quiz": (Quiz, QuizVersion)}[kind]
    rows = db.session.execute(
        select(model.slug, version_model.title, version_model.content_hash, version_model.created_at,
               version_model.published_at)
        .join(version_model, version_model.id == model.current_version_id)
        .where(model.archived_at.is_(None)).order_by(version_model.title)).all()
    return [(row.slug, row.title, row.content_hash, row.published_at or row.created_at) for row in rows]


def overview(languages: list[str]) -> dict[str, list[OverviewRow]]:
    """Each published course, quiz and job aid with the state of its translation into each
    language, by kind: two queries per kind, however many items."""
    sections: dict[str, list[OverviewRow]] = {}
    for kind in KINDS:
        items = _sources(kind)
        translated = {(row.slug, row.language): row for row in db.session.execute(
            select(ContentTranslation.slug, ContentTranslation.language, ContentTranslation.translation_of,
                   ContentTranslation.if_stale)
            .where(ContentTranslation.kind == kind, ContentTranslation.current.is_(True),
                   ContentTranslation.language.in_(languages)))}
        rows = []
        for slug, title, digest, since in items:
            cells = []
            for language in languages:
                state = state_of(translated.get((slug, language)), digest)
                cells.append(Cell(language, state, since if state in ("stale", "outdated") else None))
            rows.append(OverviewRow(kind, slug, title, cells))
        sections[kind] = rows
    return sections


# -- the editor -----------------------------------------------------------------------------

@dataclass(frozen=True)
class EditorRow:
    """One field of the side-by-side editor."""

    field: Field
    value: str             # the translation's text (or what was typed)
    changed: bool          # the source's text changed since the translation was made from it
    before: str | None     # the source's text then; None when it is new in the source


def editor_groups(source_fields: list[Field], values: Mapping[str, str],
                  earlier: Mapping[str, Any] | None) -> list[tuple[Group, list[EditorRow]]]:
    """The editor's rows under their headings, in reading order. With `earlier` (the source the
    translation was made from), each row says whether the source's text changed since."""
    groups: list[tuple[Group, list[EditorRow]]] = []
    for each in source_fields:
        before = value_at(earlier, each) if earlier is not None else None
        row = EditorRow(each, values.get(each.name, ""), earlier is not None and before != each.source, before)
        if not groups or groups[-1][0] != each.group:
            groups.append((each.group, []))
        groups[-1][1].append(row)
    return groups


def translation_values(source_fields: list[Field], text: Mapping[str, Any] | None) -> dict[str, str]:
    """A translation's text as the editor's values, by field name."""
    return {each.name: value_at(text, each) or "" for each in source_fields} if text else {}


# -- saving -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What a save did: the row now current, or why nothing was saved."""

    row: ContentTranslation | None = None
    unchanged: bool = False                               # the text was already the current one
    errors: dict[str, str] = field(default_factory=dict)  # field name -> what is wrong with it
    problems: list[str] = field(default_factory=list)     # what is wrong, not tied to one field
    conflict: Literal["source", "translation"] | None = None


def save_translation(source: Source, language: str, values: Mapping[str, str], if_stale: str, actor: User,
                     *, seen_source: str, seen_translation: int | None) -> Outcome:
    """Validate the submitted text and store it as the current translation; flush only.

    `values` holds each field's text by name. Every field must be filled (a saved translation is
    made from the source published now, so it translates all of it), and the files it makes must
    pass `check_translations` (a lesson keeps the source's headings). `seen_source` and
    `seen_translation` are the source's hash and the current row's id the form was shown with:
    when either moved on meanwhile, nothing is saved and `conflict` says which.
    """
    source_fields = fields(source.kind, source.text())
    cleaned = {each.name: clean(each, values.get(each.name, "")) for each in source_fields}
    outcome = Outcome(errors={each.name: _("Translate this text.") for each in source_fields
                              if not cleaned[each.name]})
    if if_stale not in STALE_RULES:
        outcome.errors["if_stale"] = _("Choose what readers see once the source changes.")
    current = current_translation(source.kind, source.slug, language)
    if seen_source != source.content_hash:
        outcome.conflict = "source"
    elif seen_translation != (current.id if current else None):
        outcome.conflict = "translation"
    if outcome.errors or outcome.conflict:
        return outcome

    files = translation_files(source.kind, source.slug, language, translation_of=source.content_hash,
                              if_stale=if_stale, text=build_text(source_fields, cleaned),
                              lesson_files=source.lesson_files)
    parsed, problems = read_back(source.kind, source.slug, language, files, source.files())
    # A lesson file's problem (its headings) belongs to the lesson's text.
    lesson_of = dict(zip(file_names(source.kind, source.slug, language, source.lesson_files)[1:],
                         source.lesson_files))
    for problem in problems:
        if problem.path in lesson_of:
            outcome.errors.setdefault(f"lessons/{lesson_of[problem.path]}/body", problem.message)
        else:
            outcome.problems.append(problem.message)
    if parsed is None and not outcome.problems:
        outcome.problems.append(_("The translation could not be read back as a file."))
    if outcome.errors or outcome.problems:
        return outcome

    outcome.row = _store(source, language, parsed.content_hash, if_stale, plain(parsed.text), actor)
    outcome.unchanged = current is not None and outcome.row.id == current.id
    if not outcome.unchanged:
        record("translation.saved", actor=actor, target=outcome.row, kind=source.kind, slug=source.slug,
               language=language, content_hash=outcome.row.content_hash, translation_of=source.content_hash)
    return outcome


def _store(source: Source, language: str, content_hash: str, if_stale: str, text: dict,
           actor: User) -> ContentTranslation:
    """The row for this text made current: a new row, or the one that already holds the same text
    (rows are never edited, and a hash names one text)."""
    key = (ContentTranslation.kind == source.kind, ContentTranslation.slug == source.slug,
           ContentTranslation.language == language)
    row = db.session.scalar(select(ContentTranslation).where(*key, ContentTranslation.content_hash == content_hash))
    if row is None:
        row = ContentTranslation(kind=source.kind, slug=source.slug, language=language, content_hash=content_hash,
                                 translation_of=source.content_hash, if_stale=if_stale, text=text,
                                 current=True, edited_by=actor)
        db.session.add(row)
        db.session.flush()
    db.session.execute(update(ContentTranslation).where(*key, ContentTranslation.id != row.id,
                                                        ContentTranslation.current.is_(True)).values(current=False))
    row.current = True
    db.session.flush()
    return row


def download_files(source: Source, row: ContentTranslation) -> dict[str, str]:
    """A translation's files, by path relative to the content root, to put beside the source."""
    return translation_files(source.kind, source.slug, row.language, translation_of=row.translation_of,
                             if_stale=row.if_stale, text=row.text, lesson_files=source.lesson_files)
