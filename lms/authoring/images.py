"""Lesson images: PNG and JPEG only, checked by content, re-encoded, stored under generated names."""
from __future__ import annotations

import hashlib
import io
import secrets
import warnings

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.services import record
from lms.authoring.models import Draft, DraftImage
from lms.extensions import db
from lms.learning.models import Course, CourseAsset, CourseVersion

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_DIMENSION = 4000          # pixels, either side
MAX_PIXELS = 12_000_000       # refused before decoding: a small file can claim a huge canvas
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


class ImageRefused(ValueError):
    """The upload is not an image we accept; the message says why, for the trainer."""


def media_type_of(data: bytes) -> str | None:
    """image/png or image/jpeg from the file's first bytes, else None."""
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_image(data: bytes) -> tuple[str, Image.Image]:
    """(media type, decoded image) of a PNG or JPEG; ImageRefused for anything else.

    The first bytes must say PNG or JPEG and Pillow must agree and decode the
    whole picture: a renamed text file, a GIF or a truncated file is refused.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(_("The image is larger than %(megabytes)s MB.", megabytes=MAX_IMAGE_BYTES // (1024 * 1024)))
    media_type = media_type_of(data)
    if media_type is None:
        raise ImageRefused(_("Only PNG and JPEG images can be used (this file is neither)."))
    try:
        with warnings.catch_warnings():
            # Pillow warns (and we run with warnings as errors) on decompression bombs.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != FORMATS[media_type]:
                raise ImageRefused(_("The file's contents do not match a PNG or JPEG image."))
            width, height = image.size
            if width > MAX_DIMENSION or height > MAX_DIMENSION or width * height > MAX_PIXELS:
                raise ImageRefused(_("The image is %(width)s×%(height)s pixels; at most %(most)s×%(most)s is allowed.",
                                     width=width, height=height, most=MAX_DIMENSION))
            image.load()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise ImageRefused(_("The image could not be read: the file is damaged or not a PNG or JPEG.")) from None
    return media_type, image


def reencode(media_type: str, image: Image.Image) -> bytes:
    """The picture written afresh from its pixels alone, whatever it carried.

    A new image is built from the decoded pixels, so nothing of the file survives but the
    picture: no EXIF (GPS included), XMP, ICC profile, JPEG comment, PNG text chunk, or bytes
    after the image's end. Pillow would otherwise carry some of these over from `image.info`
    (a JPEG's comment, a PNG's ICC profile). EXIF orientation is applied first, so a phone
    photo still stands the right way up once its EXIF is gone.
    """
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I"):
        # 16-bit greyscale (PNG): converting it straight to 8 bits clips every grey to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if media_type == "image/png":
        mode = image.mode if image.mode in ("RGB", "RGBA", "L", "LA") else "RGBA"
    else:
        mode = image.mode if image.mode in ("RGB", "L") else "RGB"
    pixels = image.convert(mode)
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if media_type == "image/png":
        fresh.save(out, "PNG", optimize=True)
    else:
        fresh.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def clean_image(data: bytes) -> tuple[str, bytes]:
    """(media type, clean bytes): the one path every image takes into the app, uploaded or imported.

    ImageRefused when the bytes are not a PNG or JPEG we accept (see verify_image).
    """
    media_type, image = verify_image(data)
    return media_type, reencode(media_type, image)


def add_image(draft: Draft, data: bytes, actor: User) -> DraftImage:
    """Check and re-encode an uploaded image and store it in a course draft under a generated name.

    The draft's revision does not move: an image is added beside the text, so a
    trainer who uploads while editing a lesson does not conflict with themselves.
    """
    if draft.kind != "course":
        raise ImageRefused(_("Only courses have images."))
    media_type, clean = clean_image(data)
    extension = "png" if media_type == "image/png" else "jpg"
    row = DraftImage(path=f"courses/{draft.slug}/img/{secrets.token_hex(8)}.{extension}",
                     media_type=media_type, sha256=sha256_of(clean), data=clean)
    draft.images.append(row)
    db.session.flush()
    record("draft.image_added", actor=actor, target=draft, path=row.path, sha256=row.sha256)
    return row


def add_imported_image(draft: Draft, path: str, data: bytes) -> DraftImage:
    """Store an image from an imported ZIP under its own path, cleaned like an upload.

    The one exception: bytes this course already publishes (an export coming back) are
    kept as they are, so an exported course imports to the same content hash. Those bytes
    are served already, and `content check` refuses published images that carry metadata.
    """
    digest = sha256_of(data)
    if digest in _published_image_hashes(draft.slug):
        media_type = verify_image(data)[0]
        clean = data
    else:
        media_type, clean = clean_image(data)
        digest = sha256_of(clean)
    row = DraftImage(path=path, media_type=media_type, sha256=digest, data=clean)
    draft.images.append(row)
    return row


def _published_image_hashes(course_slug: str) -> set[str]:
    return set(db.session.scalars(
        select(CourseAsset.sha256).join(CourseVersion, CourseVersion.id == CourseAsset.course_version_id)
        .join(Course, Course.id == CourseVersion.course_id).where(Course.slug == course_slug)))
