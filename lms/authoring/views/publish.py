"""Check and publish a draft, version history, diffs between versions, and ZIP export."""
from __future__ import annotations

import posixpath
from datetime import datetime, time, timezone

import yaml
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.services import record
from lms.authoring import drafts
from lms.authoring.diff import diff_files
from lms.authoring.export import (
    published_item, version_by_hash, version_files, versions_of, zip_files,
)
from lms.authoring.forms import PublishForm
from lms.authoring.models import KINDS, Draft
from lms.authoring.programme_form import field_problems
from lms.authoring.views import EDITORS, KIND_LABELS, bp, draft_or_404, editor_url
from lms.certification.services import CertificationError, require_recertification
from lms.clock import now
from lms.content import Problem
from lms.content.markdown import image_sources, parse_tokens
from lms.checked_yaml.yaml_lines import load as load_yaml
from lms.extensions import db
from lms.i18n import date_local
from lms.learning.sync import ContentInvalid
from lms.policy import Permission, can

COURSE_FIELDS = ("title", "summary", "audience", "estimated_minutes", "phases", "lessons", "quiz", "key_points")
LESSON_FIELDS = ("id", "title", "phase", "minutes", "references", "key_points")


def draft_files(draft: Draft) -> dict[str, str | bytes]:
    """A draft's text files and the images its lessons show, keyed like an export.

    An uploaded image no lesson uses is left out, as the parser leaves it out of
    the published version.
    """
    used: set[str] = set()
    for path, text in draft.files.items():
        if path.endswith(".md"):
            body = text.split("\n---\n", 1)[-1]
            used |= {posixpath.normpath(f"{posixpath.dirname(path)}/{src}")
                     for _, src in image_sources(parse_tokens(body))}
    return {**draft.files, **{image.path: image.data for image in draft.images if image.path in used}}


def _key_at(yaml_text: str, line: int) -> str | None:
    """The top-level key written on `line`, or the last one before it."""
    try:
        data, _ = load_yaml(yaml_text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    before = [(key_line, key) for key, key_line in data.key_lines.items() if key_line <= line]
    return max(before)[1] if before else None


def problem_link(draft: Draft, problem: Problem) -> str:
    """Where to fix a problem: the form field it concerns when there is one, else the file's text."""
    slug, path = draft.slug, problem.path
    text = draft.files.get(path)
    if draft.kind == "course" and text is not None and problem.line:
        if path == drafts.main_path("course", slug):
            key = _key_at(text, problem.line)
            if key in COURSE_FIELDS:
                return url_for("authoring.course_edit", slug=slug, _anchor=key)
        else:
            file = path.rsplit("/", 1)[1]
            parts = text.split("\n")
            close = next((i for i in range(1, len(parts)) if parts[i].rstrip() == "---"), None)
            if parts[0].rstrip() == "---" and close is not None:
                if problem.line > close + 1:
                    return url_for("authoring.lesson_edit", slug=slug, file=file, _anchor="body")
                key = _key_at("\n" + "\n".join(parts[1:close]), problem.line)
                if key in LESSON_FIELDS:
                    return url_for("authoring.lesson_edit", slug=slug, file=file, _anchor=key)
    if draft.kind == "programme" and text is not None and path == drafts.main_path("programme", slug):
        fields = field_problems(text, [problem])[0]
        if fields:
            return url_for("authoring.programme_edit", slug=slug, _anchor=next(iter(fields)))
        return url_for("authoring.file_edit", kind="programme", slug=slug, _anchor="text")  # no field shows it
    if EDITORS.get(draft.kind) != "authoring.file_edit" and path == drafts.main_path(draft.kind, slug):
        return editor_url(draft.kind, slug)
    if drafts.owns_path(draft.kind, slug, path) and path in draft.files:
        return url_for("authoring.file_edit", kind=draft.kind, slug=slug, path=path, _anchor="text")
    return editor_url(draft.kind, slug)


def _published_message(kind: str, title: str) -> str:
    """What the trainer is told once an item is published, a whole sentence for each kind."""
    if kind == "course":
        return _("The course “%(title)s” is published: agents see this version now.", title=title)
    if kind == "quiz":
        return _("The quiz “%(title)s” is published: agents take this version from now on.", title=title)
    return _("The programme “%(title)s” is published.", title=title)


def published_page(kind: str, slug: str) -> str:
    """Where a trainer lands after publishing: the item as agents now see it (the course or the
    quiz page), when the publisher may open it and it is live; else (a programme, which agents
    see only through their assignments) its version history."""
    item = published_item(kind, slug)
    live = item is not None and item.current_version is not None and item.archived_at is None
    if live and kind == "course" and can(current_user, Permission.READ_CONTENT):
        return url_for("learning.course_detail", slug=slug)
    if live and kind == "quiz" and can(current_user, Permission.LEARN):
        return url_for("assessment.quiz", slug=slug)
    return url_for("authoring.history", kind=kind, slug=slug)


def _end_of_day(day) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=timezone.utc)


@bp.route("/<any(course,quiz,programme):kind>/<slug>/publish", methods=["GET", "POST"])
def publish(kind: str, slug: str):
    """Content check of the draft, what changed since the published version, and the publish button."""
    draft = draft_or_404(kind, slug)
    item = published_item(kind, slug)
    current = item.current_version if item else None
    form = PublishForm()
    problems = drafts.check_draft(draft)
    title = drafts.title_of(draft)
    if form.validate_on_submit():
        material = bool(form.material_change.data)
        if material and kind == "course" and not form.required_by.data:
            form.required_by.errors = [_("Give the date by which holders must recertify.")]
        elif material and kind == "course" and _end_of_day(form.required_by.data) <= now():
            form.required_by.errors = [_("The date must be in the future.")]
        elif problems:
            flash(_("Nothing was published: fix the problems below first."), "error")
        else:
            try:
                version = drafts.publish(draft, current_user, material_change=material)
            except ContentInvalid as exc:
                problems = exc.problems
            else:
                messages = [_published_message(kind, title)]
                if material and kind == "course":
                    try:
                        affected = require_recertification(
                            current_user, slug, _end_of_day(form.required_by.data),
                            form.reason.data.strip() or f"Material change to the course {slug}")
                    except CertificationError as exc:
                        messages.append(_("No recertification was required: %(reason)s", reason=exc))
                    else:
                        messages.append(ngettext(
                            "%(num)d certified agent must recertify by %(date)s.",
                            "%(num)d certified agents must recertify by %(date)s.",
                            affected, date=date_local(form.required_by.data)))
                db.session.commit()
                flash(" ".join(messages), "success")
                return redirect(published_page(kind, slug))
    changes = diff_files(version_files(kind, current) if current else {}, draft_files(draft))
    moved = current is not None and draft.base_hash is not None and current.content_hash != draft.base_hash
    return render_template("authoring/publish.html", draft=draft, kind=kind, form=form, problems=problems,
                           links={p: problem_link(draft, p) for p in problems}, changes=changes,
                           current=current, moved=moved, labels=KIND_LABELS, title=title,
                           current_number=len(versions_of(kind, item)) if current else None)


def version_numbers(versions: list) -> dict[int, int]:
    """Each version's number as trainers count them, 1 for the first (versions come newest first);
    the content hash that identifies a version stays under Advanced."""
    return {version.id: len(versions) - index for index, version in enumerate(versions)}


def _item_or_404(kind: str, slug: str):
    if kind not in KINDS:
        abort(404)
    item = published_item(kind, slug)
    if item is None:
        abort(404)
    return item


@bp.route("/<any(course,quiz,programme):kind>/<slug>/versions")
def history(kind: str, slug: str):
    """Every published version, newest first, with who published it (or that it came from the files)."""
    item = _item_or_404(kind, slug)
    versions = versions_of(kind, item)
    publishers = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_({v.published_by_id for v in versions if v.published_by_id})))}
    return render_template("authoring/history.html", kind=kind, item=item, versions=versions,
                           numbers=version_numbers(versions), publishers=publishers,
                           draft=drafts.find_draft(kind, slug), labels=KIND_LABELS)


@bp.route("/<any(course,quiz,programme):kind>/<slug>/diff")
def diff(kind: str, slug: str):
    """A line diff between two versions (from= and to= are content hashes; to=draft for the draft)."""
    item = _item_or_404(kind, slug)
    versions = versions_of(kind, item)
    if not versions:
        abort(404)
    new_arg = request.args.get("to", "")
    old_arg = request.args.get("from", "")
    numbers = version_numbers(versions)
    if new_arg == "draft":
        draft = draft_or_404(kind, slug)
        new, new_label = draft_files(draft), _("the draft (revision %(revision)s)", revision=draft.revision)
        new_hash = None
    else:
        new_version = version_by_hash(kind, item, new_arg) if new_arg else versions[0]
        if new_version is None:
            abort(404)
        new, new_label = version_files(kind, new_version), _("version %(number)s", number=numbers[new_version.id])
        new_hash = new_version.content_hash
    if old_arg:
        old_version = version_by_hash(kind, item, old_arg)
        if old_version is None:
            abort(404)
    else:
        old_version = versions[1] if len(versions) > 1 and new_arg != "draft" else versions[0]
    old = version_files(kind, old_version)
    return render_template("authoring/diff.html", kind=kind, item=item, versions=versions,
                           changes=diff_files(old, new),
                           old_label=_("version %(number)s", number=numbers[old_version.id]),
                           new_label=new_label, old_hash=old_version.content_hash, new_hash=new_hash,
                           old_arg=old_version.content_hash[:12],
                           new_arg=new_arg or versions[0].content_hash[:12], labels=KIND_LABELS)


@bp.route("/<any(course,quiz,programme):kind>/<slug>/export.zip")
def export_zip(kind: str, slug: str):
    """A published version (the current one unless ?version=<hash>) as a ZIP in the content format."""
    item = _item_or_404(kind, slug)
    wanted = request.args.get("version")
    version = version_by_hash(kind, item, wanted) if wanted else item.current_version
    if version is None:
        abort(404)
    data = zip_files(version_files(kind, version))
    record("content.exported", actor=current_user, target=version, kind=kind, slug=slug,
           content_hash=version.content_hash)
    db.session.commit()
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}-{slug}-{version.content_hash[:12]}.zip"'
    return response
