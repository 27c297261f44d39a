"""The programme form: a programme draft's title, validity, recertification window and the
courses and quizzes it requires, written into programmes/<slug>.yaml.

A save writes the whole file through `drafts.save_files` with the revision the form was based
on, then runs content check on the draft and shows its problems beside the fields. The file
itself stays open to editing as text (authoring.file_edit), linked under Advanced.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from lms.authoring import drafts
from lms.authoring.programme_form import (
    available_choices, dump_programme, load_programme, programme_form, show_problems,
)
from lms.authoring.views import bp, draft_or_404, revision_of
from lms.extensions import db


@bp.route("/programme/<slug>", methods=["GET", "POST"])
def programme_edit(slug: str):
    """The form of a programme draft; a save writes the file, then shows what content check says."""
    draft = draft_or_404("programme", slug)
    path = drafts.main_path("programme", slug)
    stored = load_programme(draft.files.get(path))
    if stored is None:
        flash(_("The programme file is not a YAML mapping the form can show: edit it as text."), "warning")
        return redirect(url_for("authoring.file_edit", kind="programme", slug=slug))
    form = programme_form(available_choices())
    conflict, moved, status = None, False, 200
    problems = None
    if request.method == "GET":
        form.from_data(stored)
        form.revision.data = str(draft.revision)
        problems = drafts.check_draft(draft)
    elif request.form.get("move"):
        # Reordering redraws the page from what was posted; the trainer saves when it looks right.
        form.move(request.form["move"])
        moved = True
    elif form.validate_on_submit():
        try:
            drafts.save_files(draft, {path: dump_programme(form.to_data(stored))}, revision_of(form), current_user)
        except drafts.DraftConflict as exc:
            conflict, status = exc, 409
            form.revision.data = str(exc.current.revision)
        else:
            problems = drafts.check_draft(draft)
            db.session.commit()
            if not problems:
                flash(_("Programme saved to the draft. Content check finds no problems."), "success")
                return redirect(url_for("authoring.programme_edit", slug=slug))
            flash(ngettext("Saved to the draft, but content check finds %(num)d problem: it is shown beside "
                           "its field. Publishing waits until it is fixed.",
                           "Saved to the draft, but content check finds %(num)d problems: each is shown beside "
                           "its field. Publishing waits until they are fixed.", len(problems)), "warning")
            form.revision.data = str(draft.revision)
    else:
        status = 422
    general = show_problems(form, draft.files.get(path, ""), problems) if problems else []
    return render_template("authoring/programme_form.html", draft=draft, form=form, rows=form.rows(),
                           general=general, problems=problems or [], conflict=conflict, moved=moved, path=path,
                           title=drafts.title_of(draft)), status
