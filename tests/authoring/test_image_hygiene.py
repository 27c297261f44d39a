"""Every image that reaches the app, uploaded or imported, is re-encoded and keeps no metadata."""
from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from lms.authoring import drafts
from lms.authoring.models import DraftImage
from lms.extensions import db
from tests.authoring.conftest import form_token

LESSON_URL = "/authoring/course/recording-calls/lessons/02-telling-callers.md"
GPS_LATITUDE = (38.0, 43.0, 12.5)


def _jpeg_with_gps_and_comment() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"                                  # Make
    exif[0x8825] = {1: "N", 2: GPS_LATITUDE, 3: "W", 4: (9.0, 8.0, 3.0)}  # GPSInfo
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, "JPEG", exif=exif.tobytes(), comment=b"home address here")
    return out.getvalue()


def _jpeg_with_icc_and_xmp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 90, 20)).save(out, "JPEG", icc_profile=b"CameraProfile by Jane Doe",
                                                   xmp=b"<x:xmpmeta>Jane Doe's kitchen</x:xmpmeta>")
    return out.getvalue()


def _png_with_text_and_html() -> bytes:
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "Jane Doe, 12 Home Street")
    meta.add_text("Comment", "compressed " * 20, zip=True)   # zTXt
    meta.add_itxt("Location", "Lisbon, third floor")          # iTXt
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (200, 30, 30, 255)).save(out, "PNG", pnginfo=meta)
    return out.getvalue() + b"<html><script>alert(document.cookie)</script></html>"


def _png_16_bit_grey() -> bytes:
    """A 16-bit greyscale PNG of one mid grey (0x8080), with an ICC profile chunk."""
    out = io.BytesIO()
    Image.new("I;16", (40, 30), 0x8080).save(out, "PNG", icc_profile=b"GreyProfile by Jane Doe")
    return out.getvalue()


HOSTILE = {
    "gps.jpg": (_jpeg_with_gps_and_comment(), (b"PhoneMaker", b"home address here", b"Exif")),
    "icc.jpg": (_jpeg_with_icc_and_xmp(), (b"ICC_PROFILE", b"Jane Doe", b"xmpmeta")),
    "html.png": (_png_with_text_and_html(), (b"<script>", b"Jane Doe", b"tEXt", b"zTXt", b"iTXt", b"Lisbon")),
    "grey16.png": (_png_16_bit_grey(), (b"iCCP",)),
}


def _assert_clean(stored: bytes, original: bytes, leftovers: tuple[bytes, ...]) -> None:
    for leftover in leftovers:
        assert leftover not in stored, leftover
    picture = Image.open(io.BytesIO(stored))
    assert picture.size == Image.open(io.BytesIO(original)).size
    assert not picture.getexif() and "comment" not in picture.info and "icc_profile" not in picture.info
    # Nothing after the image's end.
    assert stored.endswith(b"\xff\xd9") if picture.format == "JPEG" else stored.endswith(b"IEND\xaeB`\x82")
    # The picture itself is kept: 16-bit grey comes out as its 8-bit grey, not clipped to white.
    source = Image.open(io.BytesIO(original))
    expected = 0x80 if source.mode == "I;16" else source.convert(picture.mode).getpixel((20, 15))
    assert picture.getpixel((20, 15)) == pytest.approx(expected, abs=3)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_browser_upload_keeps_no_metadata_and_nothing_after_the_image(app, content, author, name):
    original, leftovers = HOSTILE[name]
    assert author.post("/authoring/course/recording-calls/open",
                       data={"csrf_token": form_token(author, "/authoring/")}).status_code == 302
    response = author.post("/authoring/course/recording-calls/images", headers={"Accept": "application/json"},
                           data={"csrf_token": form_token(author, LESSON_URL), "alt": "x",
                                 "image": (io.BytesIO(original), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    row = db.session.scalar(select(DraftImage).where(DraftImage.path == f"courses/recording-calls/{response.json['path']}"))
    _assert_clean(row.data, original, leftovers)


def test_images_in_an_imported_zip_are_cleaned_too(app, content, author):
    exported = zipfile.ZipFile(io.BytesIO(author.get("/authoring/course/recording-calls/export.zip").data))
    files = {name: exported.read(name) for name in exported.namelist()}
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        for name, (data, _) in HOSTILE.items():
            archive.writestr(f"courses/recording-calls/img/{name}", data)
    response = author.post("/authoring/import", data={"csrf_token": form_token(author, "/authoring/"),
                                                      "upload": (io.BytesIO(upload.getvalue()), "course.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    draft = drafts.find_draft("course", "recording-calls")
    stored = {image.path.rsplit("/", 1)[-1]: image.data for image in draft.images}
    for name, (original, leftovers) in HOSTILE.items():
        _assert_clean(stored[name], original, leftovers)
    # The course's own image came back as it was exported: the round trip keeps its hash.
    assert stored["headset.png"] == files["courses/recording-calls/img/headset.png"]


def test_a_phone_photo_keeps_its_orientation_when_its_exif_goes(app, content, author):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 0, 0)).save(out, "JPEG", exif=exif.tobytes())
    assert author.post("/authoring/course/recording-calls/open",
                       data={"csrf_token": form_token(author, "/authoring/")}).status_code == 302
    response = author.post("/authoring/course/recording-calls/images", headers={"Accept": "application/json"},
                           data={"csrf_token": form_token(author, LESSON_URL), "alt": "x",
                                 "image": (io.BytesIO(out.getvalue()), "photo.jpg")},
                           content_type="multipart/form-data")
    row = db.session.scalar(select(DraftImage).where(DraftImage.path == f"courses/recording-calls/{response.json['path']}"))
    assert Image.open(io.BytesIO(row.data)).size == (30, 40)
