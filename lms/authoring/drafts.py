"""Drafts: open, save (with an optimistic lock), check and publish one content item.

A draft holds files in the exact content format. Checking writes them into a
temporary content tree, next to the published content they may refer to, and
runs the same `check_tree` as `flask lms content check`; publishing syncs that
one item into a new immutable version named by its content hash.
Services flush; the view or command commits.
"""
from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.accounts.models import User
from lms.audit.services import record
from lms.authoring.diff import FileDiff, diff_files
from lms.authoring.export import item_models, published_item, version_files
from lms.authoring.models import KINDS, Draft, DraftImage
from lms.certification.programmes import sync_programme
from lms.clock import now
from lms.content import Problem, parse_tree, yaml_lines
from lms.content.validate import validate_tree
from lms.extensions import db
from lms.learning.sync import ContentInvalid, sync_item

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A lesson file name in a course folder, and a generated image name under img/.
_LESSON_FILE = r"[a-z0-9][a-z0-9._-]*\.md"
_IMAGE_FILE = r"(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\.(?:png|jpe?g|PNG|JPE?G)"


class DraftError(ValueError):
    """A draft cannot be made or saved as asked (bad slug, path outside the item, slug taken)."""


class DraftConflict(Exception):
    """Someone saved the draft after the revision this save was based on; nothing was written.

    `current` is the draft as it now stands; `changes` lists how it differs from
    what this save would have written, file by file.
    """

    def __init__(self, current: Draft, changes: list[FileDiff]) -> None:
        if current.updated_by is not None:
            message = _("%(name)s saved this draft (now revision %(revision)s) after you opened it.",
                        name=current.updated_by.name, revision=current.revision)
        else:
            message = _("Someone saved this draft (now revision %(revision)s) after you opened it.",
                        revision=current.revision)
        super().__init__(message)
        self.current = current
        self.changes = changes


def main_path(kind: str, slug: str) -> str:
    """The file that defines the item: course.yaml, the quiz file or the programme file."""
    return {"course": f"courses/{slug}/course.yaml", "quiz": f"quizzes/{slug}.yaml",
            "programme": f"programmes/{slug}.yaml"}[kind]


def title_of(draft: Draft) -> str:
    """The draft's title as its main file says it, for pages that name the item; else its slug."""
    try:
        data = yaml_lines.load(draft.files.get(main_path(draft.kind, draft.slug), ""))[0]
    except yaml.YAMLError:
        return draft.slug
    title = data.get("title") if isinstance(data, dict) else None
    return title.strip() if isinstance(title, str) and title.strip() else draft.slug


def owns_path(kind: str, slug: str, path: str) -> bool:
    """Whether `path` is a text file that belongs to this item (so a draft may hold it)."""
    if kind == "course":
        return path == main_path(kind, slug) or re.fullmatch(rf"courses/{slug}/{_LESSON_FILE}", path) is not None
    return path == main_path(kind, slug)


def image_path_ok(slug: str, path: str) -> bool:
    """Whether `path` is an image path inside the course's folder (no '..', no odd characters)."""
    return re.fullmatch(rf"courses/{slug}/{_IMAGE_FILE}", path) is not None


def _problem_is_ours(draft: Draft, path: str) -> bool:
    if draft.kind == "course":
        return path == f"courses/{draft.slug}" or path.startswith(f"courses/{draft.slug}/")
    return path == main_path(draft.kind, draft.slug)


def check_kind_and_slug(kind: str, slug: str) -> None:
    if kind not in KINDS:
        raise DraftError(_("Unknown kind of content: %(kind)s.", kind=repr(kind)))
    if not SLUG.match(slug) or len(slug) > 100:
        raise DraftError(_("A slug uses lowercase letters, digits and hyphens, starting with a letter or digit."))
    if slug == "new":  # /authoring/<kind>/new is the page that creates one
        raise DraftError(_("'new' cannot be a slug; choose another."))


def _check_paths(draft: Draft, paths) -> None:
    bad = [p for p in paths if not owns_path(draft.kind, draft.slug, p)]
    if bad:
        raise DraftError(_("Not a file of this draft: %(files)s", files=", ".join(sorted(bad))))


def find_draft(kind: str, slug: str) -> Draft | None:
    """The draft of this item, if someone has one open."""
    return db.session.scalar(select(Draft).where(Draft.kind == kind, Draft.slug == slug))


def open_draft(kind: str, slug: str, actor: User) -> Draft:
    """The item's draft: the existing one, or a new one exported from the published version.

    Raises LookupError when there is neither a draft nor a published item.
    """
    check_kind_and_slug(kind, slug)
    draft = find_draft(kind, slug)
    if draft is not None:
        return draft
    item = published_item(kind, slug)
    if item is None or item.current_version is None:
        raise LookupError(f"No {kind} {slug!r} to edit.")
    files = version_files(kind, item.current_version)
    draft = Draft(kind=kind, slug=slug, revision=1, base_hash=item.current_version.content_hash,
                  files={p: d for p, d in files.items() if isinstance(d, str)},
                  created_by_id=actor.id, updated_by_id=actor.id, created_at=now(), updated_at=now())
    db.session.add(draft)
    from lms.authoring.images import media_type_of, sha256_of

    for path, data in files.items():
        if isinstance(data, bytes):
            draft.images.append(DraftImage(path=path, media_type=media_type_of(data) or "application/octet-stream",
                                           sha256=sha256_of(data), data=data))
    db.session.flush()
    record("draft.opened", actor=actor, target=draft, kind=kind, slug=slug, base_hash=draft.base_hash)
    return draft


def _taken_message(kind: str, slug: str) -> str:
    if kind == "course":
        return _("There is already a course called '%(slug)s'.", slug=slug)
    if kind == "quiz":
        return _("There is already a quiz called '%(slug)s'.", slug=slug)
    return _("There is already a programme called '%(slug)s'.", slug=slug)


def new_draft(kind: str, slug: str, actor: User, files: dict[str, str]) -> Draft:
    """A draft of a new item; DraftError when the slug is taken by a draft or a published item."""
    check_kind_and_slug(kind, slug)
    if find_draft(kind, slug) is not None or published_item(kind, slug) is not None:
        raise DraftError(_taken_message(kind, slug))
    draft = Draft(kind=kind, slug=slug, revision=1, base_hash=None, files={},
                  created_by_id=actor.id, updated_by_id=actor.id, created_at=now(), updated_at=now())
    _check_paths(draft, files)
    draft.files = {path: _normalise(text) for path, text in files.items()}
    db.session.add(draft)
    db.session.flush()
    record("draft.created", actor=actor, target=draft, kind=kind, slug=slug)
    return draft


def _normalise(text: str) -> str:
    # Browsers send textarea lines with CRLF; files on disk are read with LF (see the parser).
    return text.replace("\r\n", "\n").replace("\r", "\n")


def save_files(draft: Draft, files: dict[str, str | None], expected_revision: int, actor: User, *,
               replace: bool = False) -> Draft:
    """Write files into the draft; a None value removes that file. `replace` drops every other file.

    Raises DraftConflict (writing nothing) when the draft is no longer at
    `expected_revision`, the revision the editor's form was based on.
    """
    _check_paths(draft, files)
    new_files = {} if replace else dict(draft.files)
    for path, text in files.items():
        if text is None:
            new_files.pop(path, None)
        else:
            new_files[path] = _normalise(text)
    if draft.revision != expected_revision:
        raise DraftConflict(draft, diff_files(new_files, draft.files))
    # Conditional on the revision, so of two saves racing from the same revision only one lands.
    saved = db.session.execute(
        update(Draft).where(Draft.id == draft.id, Draft.revision == expected_revision)
        .values(files=new_files, revision=expected_revision + 1, updated_by_id=actor.id, updated_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(draft)
    if saved != 1:
        raise DraftConflict(draft, diff_files(new_files, draft.files))
    return draft


def discard(draft: Draft, actor: User) -> None:
    """Throw a draft away (the published version, if any, is untouched)."""
    record("draft.discarded", actor=actor, target=draft, kind=draft.kind, slug=draft.slug)
    db.session.delete(draft)
    db.session.flush()


def _context_files(draft: Draft) -> dict[str, str | bytes]:
    """Published files the draft's item may refer to: quizzes for a course; courses and quizzes
    for a programme (a course.yaml is enough for a programme to find the course); courses with
    their lessons for a quiz (its items' `teaches` name lesson sections)."""
    files: dict[str, str | bytes] = {}
    kinds = {"course": ["quiz"], "programme": ["course", "quiz"], "quiz": ["course"]}[draft.kind]
    for kind in kinds:
        model = item_models(kind)[0]
        for item in db.session.scalars(select(model).where(model.archived_at.is_(None))):
            if item.current_version is None or (kind == draft.kind and item.slug == draft.slug):
                continue
            if kind == "course" and draft.kind == "programme":
                path = main_path("course", item.slug)
                files[path] = version_files(kind, item.current_version)[path]
            else:
                files.update(version_files(kind, item.current_version))
    return files


@contextmanager
def draft_tree(draft: Draft) -> Iterator[Path]:
    """A temporary content root holding the draft's files and images and what they refer to."""
    with tempfile.TemporaryDirectory(prefix="lms-draft-") as tmp:
        root = Path(tmp)
        for folder in ("courses", "quizzes", "programmes"):
            (root / folder).mkdir()
        files: dict[str, str | bytes] = _context_files(draft)
        files.update(draft.files)
        files.update({image.path: image.data for image in draft.images})
        for path, data in files.items():
            target = root / path
            # Paths were checked when saved; this keeps a bad row from writing outside the root.
            if not target.resolve().is_relative_to(root.resolve()):
                raise DraftError(f"Path outside the content root: {path}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        yield root


def _checked(draft: Draft, root: Path):
    """(parsed item or None, problems of this item), exactly as content check sees them."""
    tree, problems = parse_tree(root)
    problems += validate_tree(tree)
    ours = [p for p in problems if _problem_is_ours(draft, p.path)]
    collection = {"course": tree.courses, "quiz": tree.quizzes, "programme": tree.programmes}[draft.kind]
    item = collection.get(draft.slug)
    if item is None and not ours:
        ours.append(Problem(main_path(draft.kind, draft.slug), 0, "missing: the draft has no such file"))
    return item, sorted(ours, key=lambda p: (p.path, p.line))


def check_draft(draft: Draft) -> list[Problem]:
    """The problems `content check` would report for this draft's files, as path:line: message."""
    with draft_tree(draft) as root:
        return _checked(draft, root)[1]


def parsed_draft(draft: Draft):
    """The draft's item parsed into the content model (a model.Course, Quiz or Programme), or None."""
    with draft_tree(draft) as root:
        return _checked(draft, root)[0]


def publish(draft: Draft, actor: User | None, *, material_change: bool = False):
    """Check the draft, then publish that one item and remove the draft; returns its version.

    Raises ContentInvalid with the problems when the check fails (nothing is
    written). Nothing else is archived or touched. Content identical to a
    published version points the item at that version again. The audit event
    "content.published" says who published which hash, and whether the trainer
    marked it as a material change (recertification is a separate, explicit step).
    """
    with draft_tree(draft) as root:
        item, problems = _checked(draft, root)
    if problems:
        raise ContentInvalid(problems)
    version, report = sync_programme(item) if draft.kind == "programme" else sync_item(draft.kind, item)
    # On the version itself, not only in the audit log: loading the files keeps it as current.
    version.published_at, version.published_by_id = now(), getattr(actor, "id", None)
    version.material_change = material_change
    record("content.published", actor=actor, target=version, kind=draft.kind, slug=draft.slug,
           content_hash=version.content_hash, base_hash=draft.base_hash, created=bool(report.created),
           material_change=material_change)
    db.session.delete(draft)
    db.session.flush()
    return version
