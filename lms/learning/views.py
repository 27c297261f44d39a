"""Course catalogue, lessons, lesson images and job aids, as agents read them."""
from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from lms import plain_rows
from lms.catalogue_lookup import request_locale
from lms.accounts.models import Organisation
from lms.content import render_markdown
from lms.content.translations import text_or
from lms.extensions import db
from lms.learning import translated
from lms.learning.models import Course, CourseAsset, CourseVersion, CountryNote, JobAid, Quiz
from lms.learning.published import PublishedCourse, current_course, current_courses
from lms.learning.services import complete_lesson, completed_keys, next_lesson
from lms.policy import Permission, can

bp = Blueprint("learning", __name__)

PHASE_LABELS = {"before": _l("Before the call"), "during": _l("During the call"), "after": _l("After the call")}


@bp.app_template_filter("phase_label")
def phase_label(phase: str) -> str:
    """A moment of the call ("before") named in the reader's language ("Before the call")."""
    return _phase_label(phase, request_locale()) if phase in PHASE_LABELS else phase


@lru_cache(maxsize=64)
def _phase_label(phase: str, locale: Locale | None) -> str:
    # Named once per language: the course list shows a badge per phase of each course, and each
    # lazy label looked its message up again.
    return str(PHASE_LABELS[phase])


def _current_version(slug: str) -> CourseVersion:
    version = db.session.scalar(
        select(CourseVersion).join(Course, Course.current_version_id == CourseVersion.id)
        .where(Course.slug == slug, Course.archived_at.is_(None))
        .options(selectinload(CourseVersion.lessons))
    )
    if version is None:
        abort(404)
    return version


def _published_course(slug: str) -> PublishedCourse:
    """The course at its current version, as the reading pages show it (lms/learning/published.py)."""
    version = current_course(slug)
    if version is None:
        abort(404)
    return version


@bp.route("/courses")
def course_list():
    versions = current_courses()
    done = _done([v.course_id for v in versions])
    # Counted here rather than by a filter chain in the template, once per course on every list.
    finished = {v.course_id: sum(lesson.key in done[v.course_id] for lesson in v.lessons) for v in versions}
    return render_template("learning/course_list.html", versions=versions, finished_by_course=finished)


def _done(course_ids: list[int]) -> dict[int, set[str]]:
    """Finished lessons per course, for people who keep progress (auditors only read)."""
    if not can(current_user, Permission.LEARN):
        return {cid: set() for cid in course_ids}
    return completed_keys(current_user, course_ids)


@bp.route("/courses/<slug>")
def course_detail(slug: str):
    version = _published_course(slug)
    done = _done([version.course_id])[version.course_id]
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == version.quiz_slug, Quiz.archived_at.is_(None))) \
        if version.quiz_slug else None
    return render_template("learning/course_detail.html", version=version, done=done,
                           resume=next_lesson(version, done), quiz=quiz)


@bp.route("/courses/<slug>/lessons/<key>")
def lesson(slug: str, key: str):
    version = _published_course(slug)
    lessons = version.lessons
    index = version.lesson_index(key)
    if index is None:
        abort(404)
    current = lessons[index]
    done = _done([version.course_id])[version.course_id]
    notes = plain_rows.rows(_READERS_COUNTRY_NOTE, {"organisation_id": current_user.organisation_id})
    return render_template(
        "learning/lesson.html", version=version, lesson=current, body=current.html,
        number=index + 1, total=len(lessons), done=done,
        country_note=next((note for note in notes if f"{slug}/{key}" in note.lessons), None),
        previous=lessons[index - 1] if index > 0 else None,
        following=lessons[index + 1] if index + 1 < len(lessons) else None,
    )


@bp.route("/courses/<slug>/lessons/<key>/complete", methods=["POST"])
def lesson_complete(slug: str, key: str):
    """Mark the lesson as read and go on to the next one (or back to the course)."""
    version = _current_version(slug)
    lessons = version.lessons
    index = next((i for i, item in enumerate(lessons) if item.key == key), None)
    if index is None:
        abort(404)
    complete_lesson(current_user, version, lessons[index])
    db.session.commit()
    if index + 1 < len(lessons):
        return redirect(url_for("learning.lesson", slug=slug, key=lessons[index + 1].key))
    return redirect(url_for("learning.course_detail", slug=slug))


# A version is named by at least the first 12 hex digits of its content hash (lesson pages use 12).
_VERSION_PREFIX = re.compile(r"[0-9a-f]{12,64}")


@bp.route("/courses/<slug>/v/<version_hash>/<path:path>")
def asset(slug: str, version_hash: str, path: str):
    if not _VERSION_PREFIX.fullmatch(version_hash):
        abort(404)
    row = db.session.scalar(
        select(CourseAsset).join(CourseVersion, CourseVersion.id == CourseAsset.course_version_id)
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Course.slug == slug, CourseVersion.content_hash.startswith(version_hash, autoescape=True),
               CourseAsset.path == path)
    )
    if row is None:
        abort(404)
    response = Response(row.data, mimetype=row.media_type)
    # Only PNG and JPEG are ever stored; the headers keep a browser from treating them as anything else.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    return response


@bp.route("/job-aids")
def job_aid_list():
    query_text = request.args.get("q", "").strip()[:100]
    query = select(JobAid).where(JobAid.archived_at.is_(None))
    if query_text:
        words = re.findall(r"\w+", query_text.lower())
        query = query.where(*[JobAid.search_text.contains(w, autoescape=True) for w in words])
    aids = db.session.scalars(query.order_by(JobAid.title)).all()
    shown = translated.shown_many("job_aid", {aid.slug: aid.content_hash for aid in aids})
    titles = {aid.slug: aid.title for aid in aids} | translated.titles(shown)
    aids = sorted(aids, key=lambda aid: titles[aid.slug].casefold())
    return render_template("learning/job_aid_list.html", aids=aids, q=query_text, phases=PHASE_LABELS,
                           titles=titles, shown=shown)


@bp.route("/job-aids/<slug>")
def job_aid(slug: str):
    aid = db.session.scalar(select(JobAid).where(JobAid.slug == slug, JobAid.archived_at.is_(None)))
    if aid is None:
        abort(404)
    shown = translated.shown_one("job_aid", slug, aid.content_hash)
    text = translated.shown_text(shown)
    return render_template("learning/job_aid.html", aid=aid, shown=shown, title=text_or(text, "title", aid.title),
                           body=Markup(render_markdown(text_or(text, "body", aid.body))))


# The title and lessons of the national rules of the reader's organisation's country, in one
# statement (the lesson page runs it on every view; loading the organisation and then the note was two).
_READERS_COUNTRY_NOTE = (
    select(CountryNote.title, CountryNote.lessons)
    .join(Organisation, CountryNote.country == func.upper(Organisation.country))
    .where(Organisation.id == bindparam("organisation_id"), CountryNote.archived_at.is_(None)))


def _country_note(country: str) -> CountryNote | None:
    return db.session.scalar(select(CountryNote).where(
        CountryNote.country == country.upper(), CountryNote.archived_at.is_(None)))


def _render_note(note: CountryNote | None, notes_of_reader: bool):
    notes = db.session.scalars(select(CountryNote).where(CountryNote.archived_at.is_(None))
                               .order_by(CountryNote.title)).all()
    return render_template(
        "learning/country_rules.html", note=note, body=Markup(render_markdown(note.body)) if note else None,
        notes_of_reader=notes_of_reader, country=current_user.organisation.country.upper(),
        others=[other for other in notes if note is None or other.country != note.country])


@bp.route("/country-rules")
def country_rules():
    """The national rules for the country of the reader's organisation, beside the GDPR."""
    return _render_note(_country_note(current_user.organisation.country), notes_of_reader=True)


@bp.route("/country-rules/<country>")
def country_note(country: str):
    """Another country's notes: a trainer preparing a site, or an agent moving to one."""
    note = _country_note(country)
    if note is None:
        abort(404)
    return _render_note(note, notes_of_reader=note.country == current_user.organisation.country.upper())
