"""Translations: which are out of date, the side-by-side editor, and a translation's files."""
from __future__ import annotations

from pathlib import PurePosixPath

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from lms.audit.services import record
from lms.authoring.export import zip_files
from lms.authoring.translations import (
    current_translation, download_files, earlier_text, editor_groups, overview, published_source,
    save_translation, state_of, target_languages, translation_values,
)
from lms.authoring.translation_files import file_names
from lms.authoring.views import bp
from lms.content.translation_fields import Field, Group, fields
from lms.extensions import db

KIND_PATH = "<any(course,quiz,job_aid):kind>"


# What each text field is called on the page (key points and parts are numbered, below).
FIELD_LABELS = {
    "title": _l("Title"), "summary": _l("Summary"), "audience": _l("Audience"), "description": _l("Description"),
    "prompt": _l("Prompt"), "explanation": _l("Explanation"),
    "feedback_true": _l("Feedback for an agent who answers True"),
    "feedback_false": _l("Feedback for an agent who answers False"),
    "scenario": _l("Scenario"), "caller": _l("What the caller says"), "feedback": _l("Feedback"),
    "critical": _l("Critical failure: the reason the agent is told"), "tags": _l("Search words, one per line"),
}


def field_label(field: Field) -> str:
    """What a field is called on the page: "Option 2, Feedback", "Key point 3"."""
    if field.key == "key_points":
        name = _("Key point %(number)s", number=field.number)
    elif field.key == "text":
        name = _("Answer text") if field.parts[-1].kind == "option" else _("Reply text")
    elif field.key == "body":
        name = _("Lesson text (Markdown)") if field.group.kind == "lesson" else _("Text (Markdown)")
    else:
        name = str(FIELD_LABELS[field.key])
    parts = [_("Option %(number)s", number=part.number) if part.kind == "option" else
             _("Node %(number)s", number=part.number) if part.kind == "node" else
             _("Reply %(number)s", number=part.number) for part in field.parts]
    return ", ".join([*parts, name])


def group_heading(group: Group) -> str:
    """The heading of a group of fields: the item itself, a lesson or a question."""
    if group.kind == "lesson":
        return _("Lesson %(number)s", number=group.number)
    if group.kind == "question":
        return _("Question %(number)s", number=group.number)
    return {"course": _("Course"), "quiz": _("Quiz"), "job_aid": _("Job aid")}[group.kind]


@bp.route("/translations")
def translations():
    """Every course, quiz and job aid, and whether its translation into each language is up to date."""
    languages = target_languages()
    sections = overview(languages)
    cells = [cell for rows in sections.values() for row in rows for cell in row.cells]
    counts = {state: sum(cell.state == state for cell in cells) for state in ("stale", "outdated", "missing")}
    return render_template("authoring/translation_list.html", sections=sections, languages=languages,
                           counts=counts)


def _source_or_404(kind: str, slug: str, language: str):
    source = published_source(kind, slug) if language in target_languages() else None
    if source is None:
        abort(404)
    return source


def _seen_translation() -> int | None:
    """The current row's id the form was shown with (none: there was no translation)."""
    seen = request.form.get("translation_id", "")
    return int(seen) if seen.isdigit() else None


@bp.route(f"/translations/{KIND_PATH}/<slug>/<language>", methods=["GET", "POST"])
def translation_edit(kind: str, slug: str, language: str):
    """The source beside its translation into `language`, one row per field; saving makes the
    translation current."""
    source = _source_or_404(kind, slug, language)
    row = current_translation(kind, slug, language)
    source_fields = fields(kind, source.text())
    values = translation_values(source_fields, row.text if row else None)
    if_stale = row.if_stale if row else "source"
    outcome = None
    status = 200
    if request.method == "POST":
        values = {each.name: request.form.get(each.name, "") for each in source_fields}
        if_stale = request.form.get("if_stale", "")
        outcome = save_translation(source, language, values, if_stale, current_user,
                                   seen_source=request.form.get("source_hash", ""),
                                   seen_translation=_seen_translation())
        if outcome.row is not None:
            db.session.commit()
            flash(_("Nothing changed: this is already the translation readers see.") if outcome.unchanged else
                  _("Translation saved. Readers in this language see it now; download its files to keep "
                    "them with the source."), "success")
            return redirect(url_for("authoring.translation_edit", kind=kind, slug=slug, language=language))
        status = 409 if outcome.conflict else 422  # nothing was written
    state = state_of(row, source.content_hash)
    # Mark what changed in the source since the translation was made: from the version it names.
    earlier = earlier_text(source, row.translation_of) if row is not None and state != "current" else None
    groups = editor_groups(source_fields, values, earlier)
    changed = [each for _group, rows in groups for each in rows if each.changed]
    files = file_names(kind, slug, language, source.lesson_files)
    return render_template(
        "authoring/translation_edit.html", source=source, language=language, row=row, state=state,
        groups=groups, changed=changed, earlier_found=earlier is not None, outcome=outcome,
        if_stale=if_stale, files=files, field_label=field_label, group_heading=group_heading), status


@bp.route(f"/translations/{KIND_PATH}/<slug>/<language>/files")
def translation_download(kind: str, slug: str, language: str):
    """The current translation as the files to put beside its source: one file, or for a course a
    ZIP of course.<language>.yaml and its lesson files (paths from the content root)."""
    source = _source_or_404(kind, slug, language)
    row = current_translation(kind, slug, language)
    if row is None:
        abort(404)
    files = download_files(source, row)
    record("translation.exported", actor=current_user, target=row, kind=kind, slug=slug, language=language,
           content_hash=row.content_hash)
    db.session.commit()
    if kind == "course":
        data, name, mimetype = zip_files(files), f"{slug}.{language}.zip", "application/zip"
    else:
        [(path, text)] = files.items()
        data, name, mimetype = text.encode("utf-8"), PurePosixPath(path).name, "text/plain; charset=utf-8"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

