"""The course editor: course form, lesson forms with a Markdown editor, images, previews.

The forms read and write the draft's files (course.yaml and the lesson files), so
what a trainer types here is what `content check` and `content load` read.
Markdown previews are rendered by the server's own sanitiser, never in the browser.
"""
from __future__ import annotations

from typing import Any

import yaml
from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from lms.authoring import drafts
from lms.authoring.export import dump_yaml, lesson_text
from lms.authoring.forms import CourseForm, ImageForm, LessonForm, NewCourseForm, lines, slug_from, slug_or_error
from lms.authoring.images import ImageRefused, add_image
from lms.authoring.models import Draft, DraftImage
from lms.authoring.views import bp, draft_or_404, revision_of
from lms.content import render_markdown
from lms.content.model import PHASES
from lms.checked_yaml.yaml_lines import load as load_yaml
from lms.extensions import db
from lms.learning.models import Quiz

MAX_PREVIEW_CHARS = 200_000


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _mapping(text: str | None) -> dict | None:
    """Parsed YAML mapping, or None when the text is not one (the YAML editor then takes over)."""
    if text is None:
        return None
    try:
        data, _ = load_yaml(text)
    except yaml.YAMLError:
        return None
    return _plain(data) if isinstance(data, dict) else None


def split_lesson(text: str) -> tuple[dict | None, str]:
    """(front matter, body) of a lesson file, split as the content parser splits it."""
    parts = text.split("\n")
    if not parts or parts[0].rstrip() != "---":
        return None, text
    close = next((i for i in range(1, len(parts)) if parts[i].rstrip() == "---"), None)
    if close is None:
        return None, text
    return _mapping("\n".join(parts[1:close])), "\n".join(parts[close + 1:])


def _course_path(slug: str) -> str:
    return drafts.main_path("course", slug)


def course_data(draft: Draft) -> dict | None:
    return _mapping(draft.files.get(_course_path(draft.slug)))


def lesson_files(draft: Draft, data: dict | None) -> list[str]:
    """The lessons course.yaml lists (strings only), in reading order."""
    listed = (data or {}).get("lessons")
    return [name for name in listed if isinstance(name, str)] if isinstance(listed, list) else []


def _quiz_choices(current: str | None) -> list[tuple[str, str]]:
    """The published quizzes by title (a trainer knows them by it), valued by slug as the file says."""
    quizzes = db.session.scalars(select(Quiz).where(Quiz.archived_at.is_(None)).order_by(Quiz.slug))
    titles = {quiz.slug: quiz.current_version.title if quiz.current_version else quiz.slug for quiz in quizzes}
    if current and current not in titles:
        titles[current] = current  # kept as written; content check says if it does not exist
    return [("", _("No quiz"))] + sorted(titles.items(), key=lambda choice: choice[1].lower())


def _course_yaml(form: CourseForm, lessons: list[str]) -> str:
    data: dict[str, Any] = {
        "title": form.title.data.strip(), "summary": form.summary.data.strip(),
        "audience": form.audience.data.strip(), "estimated_minutes": form.estimated_minutes.data,
        "phases": [phase for phase in PHASES if phase in form.phases.data], "lessons": lessons,
    }
    if form.quiz.data:
        data["quiz"] = form.quiz.data
    data["key_points"] = lines(form.key_points.data)
    return dump_yaml(data)


def _fill_course_form(form: CourseForm, data: dict) -> None:
    for name in ("title", "summary", "audience", "estimated_minutes"):
        getattr(form, name).data = data.get(name)
    phases = data.get("phases")
    form.phases.data = [p for p in phases if isinstance(p, str)] if isinstance(phases, list) else []
    form.quiz.data = data.get("quiz") or ""
    points = data.get("key_points")
    form.key_points.data = "\n".join(str(p) for p in points) if isinstance(points, list) else ""


@bp.route("/course/new", methods=["GET", "POST"])
def course_new():
    form = NewCourseForm()
    form.quiz.choices = _quiz_choices(None)
    slug = slug_or_error(form) if form.validate_on_submit() else None
    if slug is not None:
        try:
            drafts.new_draft("course", slug, current_user, {_course_path(slug): _course_yaml(form, [])})
        except drafts.DraftError as exc:
            form.slug.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Course draft created. Now add its first lesson."), "success")
            return redirect(url_for("authoring.lesson_new", slug=slug))
    return render_template("authoring/course_form.html", form=form, draft=None, lessons=[])


@bp.route("/course/<slug>", methods=["GET", "POST"])
def course_edit(slug: str):
    draft = draft_or_404("course", slug)
    data = course_data(draft)
    if data is None:
        flash(_("%(file)s is not a YAML mapping the form can show: edit it as text.", file="course.yaml"), "warning")
        return redirect(url_for("authoring.file_edit", kind="course", slug=slug))
    form = CourseForm()
    form.quiz.choices = _quiz_choices(data.get("quiz"))
    conflict = None
    if form.validate_on_submit():
        try:
            drafts.save_files(draft, {_course_path(slug): _course_yaml(form, lesson_files(draft, data))},
                              revision_of(form), current_user)
        except drafts.DraftConflict as exc:
            conflict = exc
            form.revision.data = str(exc.current.revision)
        else:
            db.session.commit()
            flash(_("Course saved."), "success")
            return redirect(url_for("authoring.course_edit", slug=slug))
    elif request.method == "GET":
        _fill_course_form(form, data)
        form.revision.data = str(draft.revision)
    lessons = []
    for name in lesson_files(draft, data):
        text = draft.files.get(f"courses/{slug}/{name}")
        front = split_lesson(text)[0] if text is not None else None
        lessons.append({"file": name, "exists": text is not None,
                        "title": (front or {}).get("title") or name, "phase": (front or {}).get("phase")})
    return render_template("authoring/course_form.html", form=form, draft=draft, lessons=lessons,
                           conflict=conflict)


def _lesson_path(slug: str, file: str) -> str:
    path = f"courses/{slug}/{file}"
    if not drafts.owns_path("course", slug, path) or path == _course_path(slug):
        abort(404)
    return path


def _fill_lesson_form(form: LessonForm, front: dict, body: str) -> None:
    for name in ("id", "title", "phase", "minutes"):
        getattr(form, name).data = front.get(name)
    for name in ("references", "key_points"):
        value = front.get(name)
        getattr(form, name).data = "\n".join(str(v) for v in value) if isinstance(value, list) else (value or "")
    form.body.data = body


def _lesson_id(form: LessonForm, stored: Any) -> str | None:
    """Fill in the lesson id when the trainer left it empty (it sits under Advanced): the stored
    one for an existing lesson, so results keep following it, else one made from the title."""
    if not form.id.data:
        form.id.data = stored if isinstance(stored, str) and stored else slug_from(form.title.data)
    if not form.id.data:
        form.id.errors = [*form.id.errors,
                          _("The title has no Latin letters or digits to make the lesson id from: give one here.")]
    return form.id.data or None


def _lesson_text(form: LessonForm) -> str:
    front = {"id": form.id.data.strip(), "title": form.title.data.strip(), "phase": form.phase.data,
             "minutes": form.minutes.data, "references": lines(form.references.data),
             "key_points": lines(form.key_points.data)}
    return lesson_text(front, form.body.data.replace("\r\n", "\n"))


def _render_lesson_page(draft: Draft, form: LessonForm, file: str | None, conflict=None):
    return render_template("authoring/lesson_form.html", draft=draft, form=form, file=file, conflict=conflict,
                           image_form=ImageForm(), images=[i for i in draft.images],
                           course_title=drafts.title_of(draft))


@bp.route("/course/<slug>/lessons/new", methods=["GET", "POST"])
def lesson_new(slug: str):
    draft = draft_or_404("course", slug)
    data = course_data(draft)
    if data is None:
        return redirect(url_for("authoring.course_edit", slug=slug))
    form = LessonForm()
    conflict = None
    if form.validate_on_submit() and _lesson_id(form, None):
        listed = lesson_files(draft, data)
        number = len(listed) + 1
        while f"courses/{slug}/{number:02d}-{form.id.data}.md" in draft.files:
            number += 1
        file = f"{number:02d}-{form.id.data}.md"
        data["lessons"] = listed + [file]
        try:
            drafts.save_files(draft, {_course_path(slug): dump_yaml(data),
                                      _lesson_path(slug, file): _lesson_text(form)}, revision_of(form), current_user)
        except drafts.DraftConflict as exc:
            conflict = exc
            form.revision.data = str(exc.current.revision)
        else:
            db.session.commit()
            flash(_("Lesson added."), "success")
            return redirect(url_for("authoring.lesson_edit", slug=slug, file=file))
    elif request.method == "GET":
        form.revision.data = str(draft.revision)
        form.body.data = "## First section (Art. 5(1))\n\n"
    return _render_lesson_page(draft, form, None, conflict)


@bp.route("/course/<slug>/lessons/<file>", methods=["GET", "POST"])
def lesson_edit(slug: str, file: str):
    draft = draft_or_404("course", slug)
    path = _lesson_path(slug, file)
    if path not in draft.files:
        abort(404)
    form = LessonForm()
    conflict = None
    if form.validate_on_submit() and _lesson_id(form, (split_lesson(draft.files[path])[0] or {}).get("id")):
        try:
            drafts.save_files(draft, {path: _lesson_text(form)}, revision_of(form), current_user)
        except drafts.DraftConflict as exc:
            conflict = exc
            form.revision.data = str(exc.current.revision)
        else:
            db.session.commit()
            flash(_("Lesson saved."), "success")
            return redirect(url_for("authoring.lesson_edit", slug=slug, file=file))
    elif request.method == "GET":
        front, body = split_lesson(draft.files[path])
        if front is None:
            flash(_("This lesson's front matter is not valid YAML the form can show: edit the file as text."), "warning")
            return redirect(url_for("authoring.file_edit", kind="course", slug=slug, path=path))
        _fill_lesson_form(form, front, body)
        form.revision.data = str(draft.revision)
    return _render_lesson_page(draft, form, file, conflict)


def _lesson_list_change(slug: str, file: str, change) -> Response:
    """Apply `change(list) -> list` to course.yaml's lessons, guarded by the posted revision."""
    draft = draft_or_404("course", slug)
    data = course_data(draft)
    if data is None:
        abort(404)
    listed = lesson_files(draft, data)
    if file not in listed:
        abort(404)
    data["lessons"] = change(listed)
    files: dict[str, str | None] = {_course_path(slug): dump_yaml(data)}
    if file not in data["lessons"]:
        files[_lesson_path(slug, file)] = None
    try:
        drafts.save_files(draft, files, int(request.form.get("revision", -1)), current_user)
    except drafts.DraftConflict as exc:
        flash(_("Nothing changed: %(reason)s Look again and retry.", reason=exc), "error")
    except ValueError:
        abort(400)
    else:
        db.session.commit()
    return redirect(url_for("authoring.course_edit", slug=slug))


@bp.route("/course/<slug>/lessons/<file>/delete", methods=["POST"])
def lesson_delete(slug: str, file: str):
    return _lesson_list_change(slug, file, lambda listed: [name for name in listed if name != file])


@bp.route("/course/<slug>/lessons/<file>/move", methods=["POST"])
def lesson_move(slug: str, file: str):
    """Move a lesson one place up (or down with direction=down) in the reading order."""
    def move(listed: list[str]) -> list[str]:
        i = listed.index(file)
        j = i + 1 if request.form.get("direction") == "down" else i - 1
        if 0 <= j < len(listed):
            listed[i], listed[j] = listed[j], listed[i]
        return listed
    return _lesson_list_change(slug, file, move)


def _image_url(slug: str):
    def url(src: str) -> str:
        return url_for("authoring.draft_image", slug=slug, path=src)
    return url


@bp.route("/course/<slug>/preview-markdown", methods=["POST"])
def markdown_preview(slug: str):
    """The editor's live preview: Markdown rendered and sanitised by the server (render_markdown)."""
    draft_or_404("course", slug)
    markdown = request.form.get("markdown", "")[:MAX_PREVIEW_CHARS]
    return jsonify(html=render_markdown(markdown, image_url=_image_url(slug)))


@bp.route("/course/<slug>/images", methods=["POST"])
def image_upload(slug: str):
    """Add an image to the draft; the editor inserts the Markdown that shows it."""
    draft = draft_or_404("course", slug)
    form = ImageForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    back = url_for("authoring.lesson_edit", slug=slug, file=request.form.get("file", "")) \
        if request.form.get("file") else url_for("authoring.course_edit", slug=slug)
    error = None
    if not form.validate_on_submit():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        try:
            row = add_image(draft, form.image.data.read(), current_user)
        except ImageRefused as exc:
            error = str(exc)
    if error:
        if wants_json:
            return jsonify(error=error), 400
        flash(_("The image was not added: %(reason)s", reason=error), "error")
        return redirect(back)
    db.session.commit()
    src = row.path.removeprefix(f"courses/{slug}/")
    markdown = f"![{form.alt.data.strip().replace(']', '')}]({src})"
    if wants_json:
        return jsonify(path=src, markdown=markdown, url=_image_url(slug)(src))
    flash(_("Image added. Put this line in the lesson where it belongs: %(markdown)s", markdown=markdown), "success")
    return redirect(back)


@bp.route("/course/<slug>/files/<path:path>")
def draft_image(slug: str, path: str):
    """A draft's image, served so that a browser can only ever show it as a picture."""
    draft = draft_or_404("course", slug)
    row = db.session.scalar(select(DraftImage).where(DraftImage.draft_id == draft.id,
                                                     DraftImage.path == f"courses/{slug}/{path}"))
    if row is None:
        abort(404)
    response = Response(row.data, mimetype=row.media_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.private = True
    return response


@bp.route("/course/<slug>/preview")
@bp.route("/course/<slug>/preview/<key>")
def draft_preview(slug: str, key: str | None = None):
    """The draft as an agent would read it; nothing here records progress."""
    draft = draft_or_404("course", slug)
    course = drafts.parsed_draft(draft)
    if course is None:
        flash(_("The draft cannot be read as a course yet; here is what content check says."), "warning")
        return redirect(url_for("authoring.publish", kind="course", slug=slug))
    lessons = list(course.lessons)
    index = next((i for i, lesson in enumerate(lessons) if lesson.id == key), None) if key else None
    if key and index is None:
        abort(404)
    lesson = lessons[index] if index is not None else None
    body = Markup(render_markdown(lesson.body, image_url=_image_url(slug))) if lesson else None
    return render_template("authoring/preview.html", draft=draft, course=course, lessons=lessons, lesson=lesson,
                           body=body, index=index)
