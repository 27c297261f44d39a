"""The authoring pages under /authoring, on one blueprint defined here.

Each module of this package adds its routes to `bp` when it is imported, and this package
imports them all below: items (the list, drafts, raw files, new programmes, import), course
(the course editor), programme (the programme form), quiz (the quiz and call-simulation editor
and the preview), publish (publishing, history, diff and export) and translations (which are
out of date, and the side-by-side editor).
"""
from __future__ import annotations

from types import MappingProxyType

from flask import Blueprint, abort, url_for
from flask_babel import lazy_gettext as _l

from lms.authoring import drafts
from lms.authoring.models import KINDS, Draft

bp = Blueprint("authoring", __name__, url_prefix="/authoring")

# The page where a draft of each kind is edited (takes `slug`); file_edit takes `kind`, `slug` too.
EDITORS = MappingProxyType({"course": "authoring.course_edit", "quiz": "authoring.quiz_edit",
                            "programme": "authoring.programme_edit"})
KIND_LABELS = {"course": _l("Course"), "quiz": _l("Quiz"), "programme": _l("Programme")}


def editor_url(kind: str, slug: str) -> str:
    """Where the draft of this item is edited."""
    endpoint = EDITORS.get(kind, "authoring.file_edit")
    if endpoint == "authoring.file_edit":
        return url_for(endpoint, kind=kind, slug=slug)
    return url_for(endpoint, slug=slug)


def draft_or_404(kind: str, slug: str) -> Draft:
    if kind not in KINDS:
        abort(404)
    draft = drafts.find_draft(kind, slug)
    if draft is None:
        abort(404)
    return draft


def revision_of(form) -> int:
    """The revision a submitted form was based on (-1 when missing or garbled: always a conflict)."""
    try:
        return int(form.revision.data)
    except (TypeError, ValueError):
        return -1


@bp.app_template_global("authoring_editor_url")
def _editor_url_global(kind: str, slug: str) -> str:
    return editor_url(kind, slug)


# The route modules register themselves on bp; imported last, as they import bp from here.
from lms.authoring.views import course, items, programme, publish, quiz, translations  # noqa: E402,F401
