"""What a PNG or JPEG file carries besides its picture: metadata and trailing bytes.

`content check` refuses such images in content files, where they would be served byte for
byte (a phone photo's GPS position, an author's name, HTML after the image's end). Images
that arrive through the browser are re-encoded instead (lms/authoring/images.py). Pure: it
reads the container's structure and decodes nothing.
"""
from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that only describe how to draw the picture; anything else (tEXt, zTXt, iTXt, eXIf,
# tIME, iCCP, private chunks) is metadata.
_PNG_PICTURE_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB", b"pHYs",
                       b"sBIT", b"bKGD"}
_JPEG_NAMES = {0xE1: "EXIF or XMP metadata", 0xE2: "an ICC profile", 0xED: "IPTC metadata", 0xFE: "a comment"}


def extras(data: bytes) -> list[str]:
    """Plain descriptions of what the file carries besides the picture ([] when nothing)."""
    if data.startswith(PNG_SIGNATURE):
        return _png_extras(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_extras(data)
    return []


def _png_extras(data: bytes) -> list[str]:
    found: list[str] = []
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        end = at + 12 + length
        if kind not in _PNG_PICTURE_CHUNKS:
            found.append(f"a {kind.decode('latin-1')} chunk")
        if kind == b"IEND":
            if end < len(data):
                found.append(f"{len(data) - end} bytes after the image's end")
            return found
        at = end
    return [*found, "no image end (the file is truncated)"]


def _jpeg_extras(data: bytes) -> list[str]:
    found: list[str] = []
    at = 2
    while at + 4 <= len(data) or data[at:at + 2] == b"\xff\xd9":
        if data[at] != 0xFF:
            return [*found, "a damaged marker"]
        marker = data[at + 1]
        if marker == 0xD9:  # end of image
            end = at + 2
            if end < len(data):
                found.append(f"{len(data) - end} bytes after the image's end")
            return found
        if marker in _JPEG_NAMES or 0xE3 <= marker <= 0xEF:
            found.append(_JPEG_NAMES.get(marker, f"an APP{marker - 0xE0} segment"))
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next marker
            at = _scan_end(data, at)
    return [*found, "no image end (the file is truncated)"]


def _scan_end(data: bytes, at: int) -> int:
    """The offset of the marker that ends a scan (0xFF followed by neither 0x00 nor a restart)."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            return len(data)
        follower = data[at + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:
            at += 2
            continue
        return at
