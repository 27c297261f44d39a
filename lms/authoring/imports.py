"""Import content files (an exported ZIP, or one YAML file) into a new draft."""
from __future__ import annotations

import io
import lzma
import posixpath
import re
import zipfile
import zlib

import yaml
from flask_babel import gettext as _

from lms.accounts.models import User
from lms.audit.services import record
from lms.authoring.drafts import (
    DraftError, check_kind_and_slug, find_draft, image_path_ok, main_path, owns_path,
)
from lms.authoring.export import published_item
from lms.authoring.images import ImageRefused, add_imported_image
from lms.authoring.models import Draft
from lms.clock import now
from lms.checked_yaml.yaml_lines import error_line, error_message, load as load_yaml
from lms.extensions import db

_ITEM = re.compile(r"^(?:courses/(?P<course>[^/]+)/.+|quizzes/(?P<quiz>[^/]+)\.yaml|programmes/(?P<programme>[^/]+)\.yaml)$")
ROOTS = ("courses", "quizzes", "programmes")
# A ZIP upload is read into memory: bound what it may expand to.
MAX_ZIP_FILES = 200
MAX_ZIP_BYTES = 20 * 1024 * 1024


class UploadError(ValueError):
    """An uploaded file is not a content ZIP or YAML file we can read."""


# What zipfile raises on a damaged or crafted archive (a bad CRC, a broken deflate stream, an
# offset before the file's start, an undecodable name, an unsupported method or version).
_ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, ValueError, OSError)


def read_zip(data: bytes) -> dict[str, bytes]:
    """The files in an uploaded ZIP (folders skipped), refusing bombs, odd paths and damage."""
    try:
        return _read_members(zipfile.ZipFile(io.BytesIO(data)))
    except UploadError:
        raise  # already says what is wrong (and is a ValueError, which _ZIP_DAMAGE holds)
    except _ZIP_DAMAGE:
        raise UploadError(_("The ZIP file is damaged or uses a compression we cannot read: "
                            "zip the folder again with your computer's own tool.")) from None


def _read_members(archive: zipfile.ZipFile) -> dict[str, bytes]:
    # Folders end in '/' (ZipInfo.is_dir fails on the empty name a crafted ZIP can hold).
    members = [info for info in archive.infolist() if not info.filename.endswith("/")]
    if len(members) > MAX_ZIP_FILES:
        raise UploadError(_("The ZIP holds more than %(count)s files.", count=MAX_ZIP_FILES))
    # zipfile never inflates a member past its stated size (it fails the CRC instead), so the
    # stated sizes bound the memory this takes.
    if sum(info.file_size for info in members) > MAX_ZIP_BYTES:
        raise UploadError(_("The ZIP expands to more than %(megabytes)s MB.", megabytes=MAX_ZIP_BYTES // (1024 * 1024)))
    files: dict[str, bytes] = {}
    for info in members:
        name = info.filename
        if name.startswith("__MACOSX/") or posixpath.basename(name).startswith("."):
            continue  # metadata some archivers add
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise UploadError(_("The ZIP holds a file outside its folder: %(file)s", file=name))
        if info.flag_bits & 0x1:
            raise UploadError(_("%(file)s is encrypted: zip the folder again without a password.", file=name))
        if name in files:
            # Only the last copy would be kept, unseen by whoever checked the first.
            raise UploadError(_("The ZIP holds %(file)s twice.", file=name))
        files[name] = archive.read(info)
    return files


def single_yaml_path(file_name: str, data: bytes) -> str:
    """Where one uploaded YAML file belongs: a programme when it lists requirements, else a quiz."""
    slug = file_name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    try:
        parsed = load_yaml(data.decode("utf-8-sig", errors="replace"))[0]
    except yaml.YAMLError:
        parsed = None  # the draft's check reports the YAML error at its line
    kind = "programmes" if isinstance(parsed, dict) and "requirements" in parsed else "quizzes"
    return f"{kind}/{slug}.yaml"


def _strip_common_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    # A ZIP made by zipping a folder puts everything under that folder's name.
    firsts = {path.split("/", 1)[0] for path in files}
    if len(firsts) == 1 and not firsts & set(ROOTS) and all("/" in path for path in files):
        return {path.split("/", 1)[1]: data for path, data in files.items()}
    return files


def _check_yaml_structure(path: str, data: bytes) -> None:
    """Refuse a YAML file the loader cannot read at all (nesting bombs, aliases) with its line.

    Other YAML mistakes still make a draft, whose check lists them by line; these would only
    fail again on every check, and one of them is built to exhaust the parser.
    """
    try:
        load_yaml(data.decode("utf-8-sig", errors="replace"))
    except yaml.composer.ComposerError as error:
        raise UploadError(f"{path}:{error_line(error)}: {error_message(error)}") from None
    except yaml.YAMLError:
        return  # an ordinary mistake: the draft's check reports it


def import_files(files: dict[str, bytes], actor: User) -> Draft:
    """A new draft holding exactly these files of ONE course, quiz or programme.

    Images are checked and re-encoded as uploads are (authoring.images.clean_image).
    Raises UploadError or DraftError.
    """
    files = _strip_common_folder(files)
    items = set()
    for path in files:
        match = _ITEM.match(path)
        if match is None:
            raise UploadError(_("%(file)s is not a content file (courses/…, quizzes/….yaml, programmes/….yaml).", file=path))
        items |= {(kind, slug) for kind, slug in match.groupdict().items() if slug}
    if not items:
        raise UploadError(_("The upload holds no content files."))
    if len(items) != 1:
        raise UploadError(_("Import one course, quiz or programme at a time; this upload holds %(items)s.",
                            items=", ".join(f"{k} {s}" for k, s in sorted(items))))
    (kind, slug), = items
    check_kind_and_slug(kind, slug)
    if find_draft(kind, slug) is not None:
        raise DraftError(_("A draft of %(kind)s %(slug)s is already open: publish or discard it first.", kind=kind, slug=slug))
    item = published_item(kind, slug)
    draft = Draft(kind=kind, slug=slug, revision=1, files={},
                  base_hash=item.current_version.content_hash if item and item.current_version else None,
                  created_by_id=actor.id, updated_by_id=actor.id, created_at=now(), updated_at=now())
    texts: dict[str, str] = {}
    for path, data in sorted(files.items()):
        if path.endswith(".yaml"):
            _check_yaml_structure(path, data)
        if kind == "course" and path.lower().endswith((".png", ".jpg", ".jpeg")):
            if not image_path_ok(slug, path):
                raise UploadError(_("%(file)s: image names use letters, digits, '.', '_' and '-'.", file=path))
            try:
                add_imported_image(draft, path, data)
            except ImageRefused as exc:
                raise UploadError(f"{path}: {exc}") from None
            continue
        if not owns_path(kind, slug, path):
            raise UploadError(_("%(file)s is not a file of %(kind)s %(slug)s (lesson files are named like 01-intro.md).",
                                file=path, kind=kind, slug=slug))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadError(_("%(file)s is not UTF-8 text.", file=path)) from None
        texts[path] = text.replace("\r\n", "\n").replace("\r", "\n")
    if main_path(kind, slug) not in texts:
        raise UploadError(_("The upload has no %(file)s.", file=main_path(kind, slug)))
    draft.files = texts
    db.session.add(draft)
    db.session.flush()
    record("content.imported", actor=actor, target=draft, kind=kind, slug=slug, files=sorted(files))
    return draft
