"""Sync the content files into published versions: all of it, or nothing.

Unchanged content creates nothing; changed content creates a new immutable
version named by its content hash; content that disappeared from disk is
archived, never deleted, because attempts and certificates point at it.
Programmes are certification's: it syncs them from the same parsed tree when
`signals.content_loaded` says the files were read (lms/certification/programmes.py).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from lms import signals
from lms.audit.services import record
from lms.clock import now
from lms.content import ContentTree, Problem, read_content
from lms.content import model as spec
from lms.content.country_notes import CountryNote as NoteSpec
from lms.extensions import db
from lms.learning.models import (
    ContentTranslation, Course, CourseAsset, CourseVersion, CountryNote, JobAid, Lesson, Quiz, QuizVersion,
)

IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class ContentInvalid(Exception):
    """The content has problems; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the content")
        self.problems = problems


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)    # "course gdpr-essentials 1a2b3c4d5e6f"
    restored: list[str] = field(default_factory=list)   # pointed back at an earlier version
    archived: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)       # published in the browser; the files differ
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.restored or self.archived)

    def summary(self) -> str:
        lines = [f"Content loaded: {len(self.created)} new version(s), {len(self.restored)} restored, "
                 f"{len(self.archived)} archived, {self.unchanged} unchanged."]
        lines += [f"  new      {item}" for item in self.created]
        lines += [f"  restored {item}" for item in self.restored]
        lines += [f"  archived {item}" for item in self.archived]
        if self.kept:
            lines.append(f"Kept {len(self.kept)} item(s) as published in the browser, where the files differ "
                         "(`lms content export SLUG --out .` writes them into the files; "
                         "`lms content load --files-win` replaces them with the files):")
            lines += [f"  kept     {item}" for item in self.kept]
        return "\n".join(lines)


def load_content(root: Path, actor=None, *, files_win: bool = False) -> LoadReport:
    """Validate everything under `root`, then sync it; flush only, the caller commits.

    The files and the browser (lms/authoring) are two doors to the same content. An item
    whose current version was published in the browser is kept as it is when the files
    differ or lack it, and listed in the report, unless `files_win`: a deployment that
    loads the files must not silently undo a trainer's published work.
    """
    content = read_content(root)  # parsed once: validation and the sync read the same tree
    tree = content.tree
    problems = content.problems + _image_problems(tree)
    if problems:
        raise ContentInvalid(sorted(problems, key=lambda p: (p.path, p.line)))
    report = LoadReport()
    keep = not files_win
    _sync_courses(tree, report, keep)
    _sync_quizzes(tree, report, keep)
    _sync_job_aids(tree, report)
    _sync_country_notes(content.country_notes, report)
    _sync_translations(tree, report, keep)
    signals.content_loaded.send(actor, tree=tree, report=report, keep=keep)
    db.session.flush()
    record("content.loaded", actor=actor, created=report.created, restored=report.restored,
           archived=report.archived, kept=report.kept, unchanged=report.unchanged, files_win=files_win)
    return report


def _media_type(data: bytes) -> str | None:
    return next((kind for magic, kind in IMAGE_SIGNATURES.items() if data.startswith(magic)), None)


def _image_problems(tree: ContentTree) -> list[Problem]:
    """Images are checked by content, not by name: a renamed SVG or HTML file is refused."""
    return [
        Problem(course.path, 1, f"image '{src}' is not a PNG or JPEG file")
        for course in tree.courses.values() for src, data in course.images.items()
        if _media_type(data) is None
    ]


def sync_versioned(kind: str, model, parent_key, items: dict, new_version, report: LoadReport,
                   keep: bool) -> None:
    """Point each course, quiz or programme at the version matching its content hash.

    A hash seen before (content put back as it was) points at that old version
    again; a new hash makes a new immutable version; a slug gone from disk is archived.
    With `keep`, items whose current version was published in the browser stay as they are.
    """
    rows = {row.slug: row for row in db.session.scalars(select(model))}

    def kept(row, item) -> bool:
        current = row.current_version if row is not None and row.archived_at is None else None
        if not keep or current is None or current.published_at is None:
            return False
        if item is not None and item.content_hash == current.content_hash:
            return False  # the files have caught up with the browser
        report.kept.append(f"{kind} {row.slug} {current.content_hash[:12]}"
                           + (" (not in the files)" if item is None else " (the files differ)"))
        return True

    for slug, item in items.items():
        if not kept(rows.get(slug), item):
            _sync_one(kind, rows.get(slug) or model(slug=slug), parent_key, item, new_version, report)
    for slug, row in rows.items():
        if slug not in items and row.archived_at is None and not kept(row, None):
            row.archived_at = now()
            report.archived.append(f"{kind} {slug}")


def _sync_one(kind: str, row, parent_key, item, new_version, report: LoadReport):
    """Point one course, quiz or programme row at the version of `item`'s hash; return that version."""
    version_model = parent_key.class_
    db.session.add(row)
    digest = item.content_hash
    version = db.session.scalar(select(version_model).where(
        parent_key == row.id, version_model.content_hash == digest)) if row.id else None
    label = f"{kind} {row.slug} {digest[:12]}"
    if version is None:
        version = new_version(row, item)
        db.session.add(version)
        report.created.append(label)
    elif row.current_version_id != version.id or row.archived_at is not None:
        report.restored.append(label)
    else:
        report.unchanged += 1
    row.current_version = version
    row.archived_at = None
    return version


def sync_item(kind: str, item) -> tuple[object, LoadReport]:
    """Sync ONE validated course or quiz (authoring's publish); flush only.

    Unlike `load_content` nothing else is touched: no other item is archived,
    whatever is or is not on disk. Returns the item's current version and what happened.
    (Programmes: lms.certification.programmes.sync_programme.)
    """
    model, parent_key, new_version = {
        "course": (Course, CourseVersion.course_id, _new_course_version),
        "quiz": (Quiz, QuizVersion.quiz_id, _new_quiz_version),
    }[kind]
    return sync_single(kind, model, parent_key, item, new_version)


def sync_single(kind: str, model, parent_key, item, new_version) -> tuple[object, LoadReport]:
    """`sync_item` for any versioned kind: its row model, version key and version builder."""
    report = LoadReport()
    row = db.session.scalar(select(model).where(model.slug == item.slug)) or model(slug=item.slug)
    version = _sync_one(kind, row, parent_key, item, new_version, report)
    db.session.flush()
    return version, report


def _sync_courses(tree: ContentTree, report: LoadReport, keep: bool) -> None:
    sync_versioned("course", Course, CourseVersion.course_id, tree.courses, _new_course_version, report, keep)


def _new_course_version(row: Course, course: spec.Course) -> CourseVersion:
    version = CourseVersion(
        course=row, content_hash=course.content_hash, title=course.title, summary=course.summary,
        audience=course.audience, estimated_minutes=course.estimated_minutes, phases=list(course.phases),
        quiz_slug=course.quiz, key_points=list(course.key_points),
    )
    db.session.add(version)
    for position, lesson in enumerate(course.lessons, start=1):
        db.session.add(Lesson(
            course_version=version, position=position, key=lesson.id, file=lesson.file, title=lesson.title,
            phase=lesson.phase, minutes=lesson.minutes, references=list(lesson.references),
            key_points=list(lesson.key_points), body=lesson.body,
        ))
    for path, data in course.images.items():
        db.session.add(CourseAsset(course_version=version, path=path, media_type=_media_type(data),
                                   sha256=hashlib.sha256(data).hexdigest(), data=data))
    return version


def _sync_quizzes(tree: ContentTree, report: LoadReport, keep: bool) -> None:
    sync_versioned("quiz", Quiz, QuizVersion.quiz_id, tree.quizzes, _new_quiz_version, report, keep)


def _new_quiz_version(row: Quiz, quiz: spec.Quiz) -> QuizVersion:
    return QuizVersion(quiz=row, content_hash=quiz.content_hash, title=quiz.title, spec=dict(quiz.source))


def _job_aid_search_text(tree: ContentTree, slug: str, aid: spec.JobAid) -> str:
    """The words a search finds the aid by: its own, and every translation's, so that an agent
    finds the card in the language they type in."""
    words = [aid.title, *aid.tags, aid.body]
    for (kind, of, _), translation in sorted(tree.translations.items()):
        if kind == "job_aid" and of == slug:
            text = translation.text
            words += [value for value in (text.get("title"), text.get("body")) if isinstance(value, str)]
            words += [tag for tag in text.get("tags") or [] if isinstance(tag, str)]
    return " ".join(words).lower()


def _sync_job_aids(tree: ContentTree, report: LoadReport) -> None:
    rows = {a.slug: a for a in db.session.scalars(select(JobAid))}
    for slug, aid in tree.job_aids.items():
        row = rows.get(slug)
        search_text = _job_aid_search_text(tree, slug, aid)
        if row is not None and row.content_hash == aid.content_hash and row.archived_at is None:
            row.search_text = search_text  # a translation may have come or changed
            report.unchanged += 1
            continue
        row = row or JobAid(slug=slug)
        row.title, row.phase, row.tags = aid.title, aid.phase, list(aid.tags)
        row.references, row.body, row.content_hash = list(aid.references), aid.body, aid.content_hash
        row.search_text = search_text
        row.archived_at = None
        db.session.add(row)
        report.created.append(f"job aid {slug} {aid.content_hash[:12]}")
    for slug, row in rows.items():
        if slug not in tree.job_aids and row.archived_at is None:
            row.archived_at = now()
            report.archived.append(f"job aid {slug}")


def _sync_country_notes(notes: dict[str, NoteSpec], report: LoadReport) -> None:
    """Country notes are guidance, not evidence: like job aids, updated in place."""
    rows = {n.country: n for n in db.session.scalars(select(CountryNote))}
    for country, note in notes.items():
        row = rows.get(country)
        if row is not None and row.content_hash == note.content_hash and row.archived_at is None:
            report.unchanged += 1
            continue
        row = row or CountryNote(country=country)
        row.title, row.references, row.lessons = note.title, list(note.references), list(note.lessons)
        row.body, row.content_hash, row.archived_at = note.body, note.content_hash, None
        db.session.add(row)
        report.created.append(f"country note {country} {note.content_hash[:12]}")
    for country, row in rows.items():
        if country not in notes and row.archived_at is None:
            row.archived_at = now()
            report.archived.append(f"country note {country}")



def _sync_translations(tree: ContentTree, report: LoadReport, keep: bool) -> None:
    """Keep each translation's text as a row, like a version: new text makes a new row (an
    attempt names the row it was shown) and `current` marks what readers are shown. A
    translation gone from the files is no longer current; its rows stay for the attempts.

    A trainer may save a translation in the browser (lms/authoring/translations.py). With `keep`,
    that row stays current while the files hold a translation loaded before it, or none: a
    deployment that loads the files must not silently undo the trainer's work. New text in the
    files (a hash never loaded) always wins, and so do the files with `files_win`."""
    rows = db.session.execute(select(ContentTranslation.id, ContentTranslation.kind, ContentTranslation.slug,
                                     ContentTranslation.language, ContentTranslation.content_hash,
                                     ContentTranslation.current, ContentTranslation.created_at,
                                     ContentTranslation.edited_by_id)).all()
    by_hash = {(row.kind, row.slug, row.language, row.content_hash): row for row in rows}
    shown = {(row.kind, row.slug, row.language): row for row in rows if row.current}
    current_ids: set[int] = set()

    def kept(key: tuple[str, str, str], files_row) -> bool:
        """Whether the browser's row for `key` stays current over `files_row` (None: the files have none)."""
        browser = shown.get(key)
        if not keep or browser is None or browser.edited_by_id is None:
            return False
        if files_row is not None and (files_row.id == browser.id or
                                      (files_row.created_at, files_row.id) > (browser.created_at, browser.id)):
            return False  # the files hold the browser's text, or one loaded after it
        current_ids.add(browser.id)
        report.kept.append(f"{key[0].replace('_', ' ')} {key[1]} in {key[2]} {browser.content_hash[:12]}"
                           + (" (not in the files)" if files_row is None else " (the files differ)"))
        return True

    for (kind, slug, language), translation in sorted(tree.translations.items()):
        label = f"{kind.replace('_', ' ')} {slug} in {language} {translation.content_hash[:12]}"
        row = by_hash.get((kind, slug, language, translation.content_hash))
        if row is None:
            added = ContentTranslation(kind=kind, slug=slug, language=language,
                                       content_hash=translation.content_hash,
                                       translation_of=translation.translation_of,
                                       if_stale=translation.if_stale, text=translation.text, current=True)
            db.session.add(added)
            db.session.flush()
            current_ids.add(added.id)
            report.created.append(label)
            continue
        if kept((kind, slug, language), row):
            continue
        current_ids.add(row.id)
        if row.current:
            report.unchanged += 1
        else:
            report.restored.append(label)
    for key in sorted(shown.keys() - tree.translations.keys()):
        if not kept(key, None):
            report.archived.append(f"{key[0].replace('_', ' ')} {key[1]} in {key[2]}")
    retired = [row.id for row in rows if row.current and row.id not in current_ids]
    restored = [row.id for row in rows if not row.current and row.id in current_ids]
    if retired:
        db.session.execute(update(ContentTranslation).where(ContentTranslation.id.in_(retired)).values(current=False))
    if restored:
        db.session.execute(update(ContentTranslation).where(ContentTranslation.id.in_(restored)).values(current=True))
