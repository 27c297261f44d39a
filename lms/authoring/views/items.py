"""The authoring list, drafts opened and discarded (after a confirmation), raw files, new programmes, and import."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.authoring import drafts
from lms.authoring.diff import diff_files
from lms.authoring.export import item_models, published_item, version_files
from lms.authoring.forms import DiscardForm, FileForm, ImportForm, NewProgrammeForm, slug_or_error
from lms.authoring.imports import UploadError, import_files, read_zip, single_yaml_path
from lms.authoring.models import KINDS, Draft
from lms.authoring.views import KIND_LABELS, bp, draft_or_404, editor_url, revision_of
from lms.authoring.views.publish import draft_files
from lms.extensions import db

PROGRAMME_SKELETON = """title: {title}
description: >
  Who it is for and what it takes, in plain words.
validity_months: 12
recertification_window_days: 60
grace_days: 14
requirements:
  - course: {course}
"""


@bp.route("/")
def index():
    """Every course, quiz and programme with its draft state, and the ways to start one."""
    open_drafts = {(d.kind, d.slug): d for d in db.session.scalars(select(Draft))}
    sections = []
    for kind in KINDS:
        model, _ = item_models(kind)
        rows = []
        published = {item.slug: item for item in db.session.scalars(select(model).order_by(model.slug))}
        for slug in sorted(published.keys() | {s for k, s in open_drafts if k == kind}):
            item, draft = published.get(slug), open_drafts.get((kind, slug))
            title = item.current_version.title if item and item.current_version else \
                drafts.title_of(draft) if draft else slug
            rows.append({"slug": slug, "item": item, "draft": draft, "title": title})
        sections.append((kind, rows))
    return render_template("authoring/index.html", sections=sections, import_form=ImportForm(),
                           programme_form=NewProgrammeForm(), labels=KIND_LABELS)


@bp.route("/<any(course,quiz,programme):kind>/<slug>/open", methods=["POST"])
def draft_open(kind: str, slug: str):
    """Start (or go back to) the draft of a published item."""
    try:
        drafts.open_draft(kind, slug, current_user)
        db.session.commit()
    except (LookupError, drafts.DraftError):
        abort(404)
    except IntegrityError:
        db.session.rollback()  # another trainer opened it at the same moment: theirs is the draft
    return redirect(editor_url(kind, slug))


@bp.route("/<any(course,quiz,programme):kind>/<slug>/discard", methods=["GET", "POST"])
def draft_discard(kind: str, slug: str):
    """What discarding the draft loses (its changes from the published version); the POST discards."""
    draft = draft_or_404(kind, slug)
    title = drafts.title_of(draft)
    form = DiscardForm()
    if form.validate_on_submit():
        drafts.discard(draft, current_user)
        db.session.commit()
        flash(_("The draft of “%(title)s” was discarded. The published version is unchanged.", title=title), "success")
        return redirect(url_for("authoring.index"))
    item = published_item(kind, slug)
    current = item.current_version if item is not None else None
    changes = diff_files(version_files(kind, current), draft_files(draft)) if current is not None else []
    return render_template("authoring/draft_discard.html", draft=draft, title=title, form=form, current=current,
                           changes=changes, held=len(draft.files) + len(draft.images))


def _yaml_text(text: str) -> str:
    """A title as a YAML scalar on one line (quoted, so a colon or a '#' in it stays text)."""
    return json.dumps(text, ensure_ascii=False)


@bp.route("/programme/new", methods=["GET", "POST"])
def programme_new():
    form = NewProgrammeForm()
    slug = slug_or_error(form) if form.validate_on_submit() else None
    if slug is not None:
        course = next(iter(db.session.scalars(select(item_models("course")[0].slug).limit(1))), "course-slug")
        try:
            drafts.new_draft("programme", slug, current_user, {
                drafts.main_path("programme", slug): PROGRAMME_SKELETON.format(
                    title=_yaml_text(form.title.data.strip()), course=course)})
        except drafts.DraftError as exc:
            form.slug.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Programme draft created. Now choose what it requires."), "success")
            return redirect(editor_url("programme", slug))
    return render_template("authoring/programme_new.html", form=form)


@bp.route("/<any(course,quiz,programme):kind>/<slug>/file", methods=["GET", "POST"])
def file_edit(kind: str, slug: str):
    """One draft file as text: the YAML of a programme or quiz, or any text file of a course."""
    draft = draft_or_404(kind, slug)
    path = request.args.get("path") or drafts.main_path(kind, slug)
    if not drafts.owns_path(kind, slug, path):
        abort(404)
    form = FileForm()
    conflict = None
    if form.validate_on_submit():
        try:
            drafts.save_files(draft, {path: form.text.data}, revision_of(form), current_user)
        except drafts.DraftConflict as exc:
            conflict = exc
            form.revision.data = str(exc.current.revision)
        else:
            db.session.commit()
            flash(_("File saved."), "success")
            return redirect(url_for("authoring.file_edit", kind=kind, slug=slug, path=path))
    elif request.method == "GET":
        form.text.data = draft.files.get(path, "")
        form.revision.data = str(draft.revision)
    problems = [p for p in drafts.check_draft(draft) if p.path == path] if request.method == "GET" else []
    return render_template("authoring/file_edit.html", draft=draft, path=path, form=form, conflict=conflict,
                           problems=problems, labels=KIND_LABELS, title=drafts.title_of(draft))


@bp.route("/import", methods=["POST"])
def import_upload():
    """A ZIP of content files, or one quiz or programme YAML, into a new draft; then its check."""
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a ZIP or YAML file to import."), "error")
        return redirect(url_for("authoring.index"))
    upload = form.upload.data
    data = upload.read()
    name = upload.filename or ""
    try:
        if name.lower().endswith((".yaml", ".yml")):
            files = {single_yaml_path(name, data): data}
        else:
            files = read_zip(data)
        draft = import_files(files, current_user)
    except (UploadError, drafts.DraftError) as exc:
        db.session.rollback()
        flash(_("Nothing was imported: %(reason)s", reason=exc), "error")
        return index(), 400  # the same page, with the reason, and a status scripts can read
    db.session.commit()
    flash(ngettext("Imported %(num)d file into a new draft. Here is what content check says about it.",
                   "Imported %(num)d files into a new draft. Here is what content check says about it.",
                   len(files)), "success")
    return redirect(url_for("authoring.publish", kind=draft.kind, slug=draft.slug))

